//! `deposit`: moves collateral from the owner's token account into the vault and credits the
//! owner's position in a market, creating the position at PDA ["position", market, owner] on the
//! first deposit.
//!
//! Accounts: 0 owner (signer, writable: pays for a new position), 1 config, 2 market,
//! 3 position (writable), 4 owner's token account (writable), 5 vault (writable),
//! 6 token program, 7 system program.

use super::shared::accounts::{account, load_config, load_market, load_position_mut, require_new_pda, require_program, require_signer};
use super::Context;
use crate::cpi::{create_pda_account, token_transfer, PdaSeeds, Transfer, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::{decode_u64, Reader};
use crate::keys_eq;
use crate::log::log_u64s;
use crate::state::{Account, Position};

pub fn process(ctx: &Context, args: &mut Reader) -> ProgramResult {
    let amount = decode_u64(args)?;
    let owner = account(ctx, 0)?;
    let config = load_config(ctx, account(ctx, 1)?)?;
    let market_info = account(ctx, 2)?;
    load_market(ctx, market_info)?;
    let position_info = account(ctx, 3)?;
    let owner_tokens = account(ctx, 4)?;
    let vault = account(ctx, 5)?;
    require_program(account(ctx, 6)?, &TOKEN_PROGRAM_ID)?;
    require_program(account(ctx, 7)?, &SYSTEM_PROGRAM_ID)?;
    require_signer(owner)?;
    if amount == 0 {
        return Err(PerpError::ZeroAmount);
    }
    if !keys_eq(vault.key(), config.vault()) {
        return Err(PerpError::WrongVault);
    }

    if position_info.data_len() == 0 {
        let seeds: [&[u8]; 3] = [Position::SEED, market_info.key(), owner.key()];
        let bump = [require_new_pda(ctx, position_info, &seeds)?];
        create_pda_account(owner, position_info, Position::LEN as u64, ctx.program_id, &PdaSeeds::new(&seeds, &bump))?;
        // SAFETY: the position was just created by this instruction; no other view of it exists.
        let position = Position::init(unsafe { position_info.data_mut() })?;
        position.set_owner(owner.key());
        position.set_market(market_info.key());
        position.set_bump(bump[0]);
    }
    // SAFETY: accounts are unique and this is the instruction's only live view of the position.
    let position = unsafe { load_position_mut(ctx, position_info, owner, market_info)? };
    let collateral = position.collateral().checked_add(amount).ok_or(PerpError::MathOverflow)?;

    token_transfer(&Transfer { from: owner_tokens, to: vault, authority: owner, amount }, None)?;
    position.set_collateral(collateral);
    log_u64s(0, amount, collateral, 0, 0);
    Ok(())
}
