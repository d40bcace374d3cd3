//! `liquidate`: anyone may close a position whose equity is below maintenance margin at the
//! resolved mark price (the liquidation bounds, the strictest). PnL settles against collateral,
//! the keeper's fee (liquidation_fee_bps of notional, capped by what is left) goes from the vault
//! to the keeper's token account, and the rest stays as the owner's collateral. The position is
//! then flat, so a second liquidation fails with `PositionNotOpen`.

use super::shared::accounts::{load_config, load_market_mut, require_owned_by_program};
use super::shared::oracle::{resolve_mark_price, PriceQuery};
use crate::oracle::resolve::Resolved;
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::cpi::{token_transfer, PdaSeeds, Transfer};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::LiquidateAccounts;
use crate::instruction::args::NoArgs;
use crate::keys_eq;
use crate::log::log_u64s;
use crate::math::margin::{is_liquidatable, settle};
use crate::oracle::Action;
use crate::state::{Account, Config, Position};

pub fn process(ctx: &Context, a: &LiquidateAccounts, _: &NoArgs) -> ProgramResult {
    let config = load_config(ctx, a.config)?;
    // SAFETY: accounts are unique and this is the instruction's only view of the market.
    let market = unsafe { load_market_mut(ctx, a.market)? };
    if !keys_eq(a.vault.key(), config.vault()) {
        return Err(PerpError::WrongVault);
    }
    require_owned_by_program(ctx, a.position)?;
    // SAFETY: accounts are unique and this is the instruction's only view of the position.
    let position = Position::load_mut(unsafe { a.position.data_mut() })?;
    if !keys_eq(position.market(), a.market.key()) {
        return Err(PerpError::WrongMarket);
    }
    let size = position.size();
    if size == 0 {
        return Err(PerpError::PositionNotOpen);
    }

    let mut now = empty_clock();
    clock(&mut now)?;
    let mut resolved = Resolved::EMPTY;
    resolve_mark_price(&PriceQuery { config, pyth: a.price_update, now: now.unix_timestamp, action: Action::Liquidation }, market, &mut resolved)?;
    let mark = resolved.mark;
    let collateral = position.collateral();
    let entry = position.entry_price();
    if !is_liquidatable(collateral, size, entry, mark, market.maintenance_margin_bps())? {
        return Err(PerpError::PositionHealthy);
    }
    let s = settle(collateral, size, entry, mark, market.liquidation_fee_bps())?;
    if s.keeper_fee > 0 {
        let bump = [config.vault_bump()];
        token_transfer(
            &Transfer { from: a.vault, to: a.keeper_token_account, authority: a.vault, amount: s.keeper_fee },
            Some(&PdaSeeds::new(&[Config::VAULT_SEED], &bump)),
        )?;
    }
    position.set_collateral(s.to_owner);
    position.set_size(0);
    position.set_entry_price(0);
    log_u64s(4, mark, s.keeper_fee, s.to_owner, s.bad_debt as u64);
    Ok(())
}
