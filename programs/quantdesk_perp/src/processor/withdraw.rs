//! `withdraw`: returns collateral from the vault to the owner. With a position open, what stays
//! must meet initial margin at the resolved mark price.

use super::shared::accounts::{load_config, load_market_mut, load_position_mut};
use super::shared::oracle::{resolve_mark_price, PriceQuery};
use crate::oracle::resolve::Resolved;
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::cpi::{token_transfer, PdaSeeds, Transfer};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::WithdrawAccounts;
use crate::instruction::args::AmountArgs;
use crate::keys_eq;
use crate::log::log_u64s;
use crate::math::margin::meets_initial_margin;
use crate::oracle::Action;
use crate::state::Config;

pub fn process(ctx: &Context, a: &WithdrawAccounts, args: &AmountArgs) -> ProgramResult {
    let amount = args.amount;
    let config = load_config(ctx, a.config)?;
    // SAFETY: accounts are unique and this is the instruction's only view of the market.
    let market = unsafe { load_market_mut(ctx, a.market)? };
    if amount == 0 {
        return Err(PerpError::ZeroAmount);
    }
    if !keys_eq(a.vault.key(), config.vault()) {
        return Err(PerpError::WrongVault);
    }
    // SAFETY: accounts are unique and this is the instruction's only view of the position.
    let position = unsafe { load_position_mut(ctx, a.position, a.owner, a.market)? };
    let collateral = position.collateral().checked_sub(amount).ok_or(PerpError::InsufficientCollateral)?;

    let size = position.size();
    if size != 0 {
        let mut now = empty_clock();
        clock(&mut now)?;
        let mut resolved = Resolved::EMPTY;
        resolve_mark_price(&PriceQuery { config, pyth: a.price_update, now: now.unix_timestamp, action: Action::Margin }, market, &mut resolved)?;
        let mark = resolved.mark;
        if !meets_initial_margin(collateral, size, position.entry_price(), mark, market.initial_margin_bps())? {
            return Err(PerpError::WithdrawBelowInitialMargin);
        }
        // At initial margin the position is healthy: a permissionless liquidator starts over.
        position.set_liquidatable_since_slot(0);
    }

    let bump = [config.vault_bump()];
    token_transfer(&Transfer { from: a.vault, to: a.owner_token_account, authority: a.vault, amount }, Some(&PdaSeeds::new(&[Config::VAULT_SEED], &bump)))?;
    position.set_collateral(collateral);
    log_u64s(1, amount, collateral, 0, 0);
    Ok(())
}
