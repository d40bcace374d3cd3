//! `close_position`: closes the whole position at the resolved mark price; the PnL settles against
//! collateral (a loss beyond it is bad debt the vault absorbs).
//!
//! Accounts: 0 owner (signer), 1 config, 2 market, 3 position (writable), 4 optional Pyth
//! PriceUpdateV2.

use super::shared::accounts::{account, load_config, load_market, load_position_mut, optional_account, require_signer};
use super::shared::oracle::{resolve_mark_price, PriceQuery};
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::error::{PerpError, ProgramResult};
use crate::instruction::Reader;
use crate::log::log_u64s;
use crate::math::margin::settle;
use crate::oracle::Action;

pub fn process(ctx: &Context, args: &mut Reader) -> ProgramResult {
    args.finish()?;
    let owner = account(ctx, 0)?;
    let config = load_config(ctx, account(ctx, 1)?)?;
    let market_info = account(ctx, 2)?;
    let market = load_market(ctx, market_info)?;
    let position_info = account(ctx, 3)?;
    let pyth = optional_account(ctx, 4);
    require_signer(owner)?;
    // SAFETY: accounts are unique and this is the instruction's only view of the position.
    let position = unsafe { load_position_mut(ctx, position_info, owner, market_info)? };
    let size = position.size();
    if size == 0 {
        return Err(PerpError::PositionNotOpen);
    }

    let mut now = empty_clock();
    clock(&mut now)?;
    let mark = resolve_mark_price(&PriceQuery { config, market, pyth, now: now.unix_timestamp, action: Action::Margin })?;
    let s = settle(position.collateral(), size, position.entry_price(), mark, 0)?;
    position.set_collateral(s.to_owner);
    position.set_size(0);
    position.set_entry_price(0);
    log_u64s(3, mark, s.pnl as u64, s.to_owner, s.bad_debt as u64);
    Ok(())
}
