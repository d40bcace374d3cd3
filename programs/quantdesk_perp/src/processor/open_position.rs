//! `open_position`: opens a long (size > 0) or short (size < 0) at the resolved mark price, if the
//! position is flat and its collateral meets initial margin for the new size.
//!
//! Accounts: 0 owner (signer), 1 config, 2 market, 3 position (writable), 4 optional Pyth
//! PriceUpdateV2.

use super::shared::accounts::{account, load_config, load_market, load_position_mut, optional_account, require_signer};
use super::shared::oracle::{resolve_mark_price, PriceQuery};
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::error::{PerpError, ProgramResult};
use crate::instruction::{decode_i64, Reader};
use crate::log::log_u64s;
use crate::math::margin::meets_initial_margin;
use crate::oracle::Action;

pub fn process(ctx: &Context, args: &mut Reader) -> ProgramResult {
    let size = decode_i64(args)?;
    let owner = account(ctx, 0)?;
    let config = load_config(ctx, account(ctx, 1)?)?;
    let market_info = account(ctx, 2)?;
    let market = load_market(ctx, market_info)?;
    let position_info = account(ctx, 3)?;
    let pyth = optional_account(ctx, 4);
    require_signer(owner)?;
    if size == 0 {
        return Err(PerpError::ZeroSize);
    }
    // SAFETY: accounts are unique and this is the instruction's only view of the position.
    let position = unsafe { load_position_mut(ctx, position_info, owner, market_info)? };
    if position.size() != 0 {
        return Err(PerpError::PositionAlreadyOpen);
    }

    let mut now = empty_clock();
    clock(&mut now)?;
    let mark = resolve_mark_price(&PriceQuery { config, market, pyth, now: now.unix_timestamp, action: Action::Margin })?;
    if !meets_initial_margin(position.collateral(), size, mark, mark, market.initial_margin_bps())? {
        return Err(PerpError::OpenExceedsLeverage);
    }
    position.set_size(size);
    position.set_entry_price(mark);
    position.set_open_slot(now.slot);
    log_u64s(2, size as u64, mark, position.collateral(), now.slot);
    Ok(())
}
