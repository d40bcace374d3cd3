//! `deposit`: moves collateral from the owner's token account into the vault and credits the
//! owner's position in a market, creating the position at PDA ["position", market, owner] on the
//! first deposit.

use super::shared::accounts::{load_config, load_market, load_position_mut, require_new_pda};
use super::Context;
use crate::cpi::{create_pda_account, token_transfer, PdaSeeds, Transfer};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::DepositAccounts;
use crate::instruction::args::AmountArgs;
use crate::keys_eq;
use crate::log::log_u64s;
use crate::math::safe_math::SafeMath;
use crate::state::{Account, Position};

pub fn process(ctx: &Context, a: &DepositAccounts, args: &AmountArgs) -> ProgramResult {
    let amount = args.amount;
    let config = load_config(ctx, a.config)?;
    load_market(ctx, a.market)?;
    if amount == 0 {
        return Err(PerpError::ZeroAmount);
    }
    if !keys_eq(a.vault.key(), config.vault()) {
        return Err(PerpError::WrongVault);
    }

    if a.position.data_len() == 0 {
        let seeds: [&[u8]; 3] = [Position::SEED, a.market.key(), a.owner.key()];
        let bump = [require_new_pda(ctx, a.position, &seeds)?];
        create_pda_account(a.owner, a.position, Position::LEN as u64, ctx.program_id, &PdaSeeds::new(&seeds, &bump))?;
        // SAFETY: the position was just created by this instruction; no other view of it exists.
        let position = Position::init(unsafe { a.position.data_mut() })?;
        position.set_owner(a.owner.key());
        position.set_market(a.market.key());
        position.set_bump(bump[0]);
    }
    // SAFETY: accounts are unique and this is the instruction's only live view of the position.
    let position = unsafe { load_position_mut(ctx, a.position, a.owner, a.market)? };
    let collateral = position.collateral().safe_add(amount)?;

    token_transfer(&Transfer { from: a.owner_token_account, to: a.vault, authority: a.owner, amount }, None)?;
    position.set_collateral(collateral);
    log_u64s(0, amount, collateral, 0, 0);
    Ok(())
}
