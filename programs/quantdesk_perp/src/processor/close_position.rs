//! `close_position`: closes the whole position at the resolved mark price; the PnL settles against
//! collateral (a loss beyond it is bad debt the vault absorbs).

use super::shared::accounts::{load_config, load_market_mut, load_position_mut};
use super::shared::oracle::{resolve_mark_price, PriceQuery};
use crate::oracle::resolve::Resolved;
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::ClosePositionAccounts;
use crate::instruction::args::NoArgs;
use crate::log::log_u64s;
use crate::math::margin::settle;
use crate::oracle::Action;

pub fn process(ctx: &Context, a: &ClosePositionAccounts, _: &NoArgs) -> ProgramResult {
    let config = load_config(ctx, a.config)?;
    // SAFETY: accounts are unique and this is the instruction's only view of the market.
    let market = unsafe { load_market_mut(ctx, a.market)? };
    // SAFETY: accounts are unique and this is the instruction's only view of the position.
    let position = unsafe { load_position_mut(ctx, a.position, a.owner, a.market)? };
    let size = position.size();
    if size == 0 {
        return Err(PerpError::PositionNotOpen);
    }

    let mut now = empty_clock();
    clock(&mut now)?;
    let mut resolved = Resolved::EMPTY;
    resolve_mark_price(&PriceQuery { config, pyth: a.price_update, now: now.unix_timestamp, action: Action::Margin }, market, &mut resolved)?;
    let mark = resolved.mark;
    let s = settle(position.collateral(), size, position.entry_price(), mark, 0)?;
    position.set_collateral(s.to_owner);
    position.set_size(0);
    position.set_entry_price(0);
    position.set_liquidatable_since_slot(0);
    log_u64s(3, mark, s.pnl as u64, s.to_owner, s.bad_debt as u64);
    Ok(())
}
