//! `withdraw`: returns collateral from the vault to the owner. With a position open, what stays
//! must meet initial margin at the resolved mark price.
//!
//! Accounts: 0 owner (signer), 1 config, 2 market, 3 position (writable), 4 owner's token account
//! (writable), 5 vault (writable), 6 token program, 7 optional Pyth PriceUpdateV2.

use super::shared::accounts::{account, load_config, load_market, load_position_mut, optional_account, require_program, require_signer};
use super::shared::oracle::{resolve_mark_price, PriceQuery};
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::cpi::{token_transfer, PdaSeeds, Transfer, TOKEN_PROGRAM_ID};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::{decode_u64, Reader};
use crate::keys_eq;
use crate::log::log_u64s;
use crate::math::margin::meets_initial_margin;
use crate::oracle::Action;
use crate::state::Config;

pub fn process(ctx: &Context, args: &mut Reader) -> ProgramResult {
    let amount = decode_u64(args)?;
    let owner = account(ctx, 0)?;
    let config = load_config(ctx, account(ctx, 1)?)?;
    let market_info = account(ctx, 2)?;
    let market = load_market(ctx, market_info)?;
    let position_info = account(ctx, 3)?;
    let owner_tokens = account(ctx, 4)?;
    let vault = account(ctx, 5)?;
    require_program(account(ctx, 6)?, &TOKEN_PROGRAM_ID)?;
    let pyth = optional_account(ctx, 7);
    require_signer(owner)?;
    if amount == 0 {
        return Err(PerpError::ZeroAmount);
    }
    if !keys_eq(vault.key(), config.vault()) {
        return Err(PerpError::WrongVault);
    }
    // SAFETY: accounts are unique and this is the instruction's only view of the position.
    let position = unsafe { load_position_mut(ctx, position_info, owner, market_info)? };
    let collateral = position.collateral().checked_sub(amount).ok_or(PerpError::InsufficientCollateral)?;

    let size = position.size();
    if size != 0 {
        let mut now = empty_clock();
        clock(&mut now)?;
        let mark = resolve_mark_price(&PriceQuery { config, market, pyth, now: now.unix_timestamp, action: Action::Margin })?;
        if !meets_initial_margin(collateral, size, position.entry_price(), mark, market.initial_margin_bps())? {
            return Err(PerpError::WithdrawBelowInitialMargin);
        }
    }

    let bump = [config.vault_bump()];
    token_transfer(&Transfer { from: vault, to: owner_tokens, authority: vault, amount }, Some(&PdaSeeds::new(&[Config::VAULT_SEED], &bump)))?;
    position.set_collateral(collateral);
    log_u64s(1, amount, collateral, 0, 0);
    Ok(())
}
