//! `open_position`: opens a long (size > 0) or short (size < 0) at the resolved mark price, if the
//! position is flat and its collateral meets initial margin for the new size.

use super::shared::accounts::{load_config, load_market_mut, load_position_mut};
use super::shared::oracle::{resolve_mark_price, PriceQuery};
use crate::oracle::resolve::Resolved;
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::OpenPositionAccounts;
use crate::instruction::args::OpenPositionArgs;
use crate::log::log_u64s;
use crate::math::margin::meets_initial_margin;
use crate::oracle::Action;

pub fn process(ctx: &Context, a: &OpenPositionAccounts, args: &OpenPositionArgs) -> ProgramResult {
    let size = args.size;
    let config = load_config(ctx, a.config)?;
    // SAFETY: accounts are unique and this is the instruction's only view of the market.
    let market = unsafe { load_market_mut(ctx, a.market)? };
    if size == 0 {
        return Err(PerpError::ZeroSize);
    }
    // SAFETY: accounts are unique and this is the instruction's only view of the position.
    let position = unsafe { load_position_mut(ctx, a.position, a.owner, a.market)? };
    if position.size() != 0 {
        return Err(PerpError::PositionAlreadyOpen);
    }

    let mut now = empty_clock();
    clock(&mut now)?;
    let mut resolved = Resolved::EMPTY;
    resolve_mark_price(&PriceQuery { config, pyth: a.price_update, now: now.unix_timestamp, action: Action::Margin }, market, &mut resolved)?;
    let mark = resolved.mark;
    if !meets_initial_margin(position.collateral(), size, mark, mark, market.initial_margin_bps())? {
        return Err(PerpError::OpenExceedsLeverage);
    }
    position.set_size(size);
    position.set_entry_price(mark);
    position.set_open_slot(now.slot);
    position.set_liquidatable_since_slot(0);
    log_u64s(2, size as u64, mark, position.collateral(), now.slot);
    Ok(())
}
