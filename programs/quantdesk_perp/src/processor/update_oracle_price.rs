//! `update_oracle_price`: the oracle authority pushes prices for one or more markets at once. Each
//! must pass the market's push bounds and move its publish time strictly forward, so a push that
//! already landed is refused (`PublishTimeDuplicate`) rather than applied twice.
//!
//! Accounts: 0 oracle authority (signer), 1 config, 2.. one market (writable) per update, in order.

use super::shared::accounts::{account, load_config, load_market_mut, require_signer};
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::error::{PerpError, ProgramResult};
use crate::instruction::{PriceUpdates, Reader};
use crate::keys_eq;
use crate::oracle::{validate, Action};

const FIRST_MARKET: usize = 2;

pub fn process(ctx: &Context, args: &mut Reader) -> ProgramResult {
    let updates = PriceUpdates::decode(args)?;
    let authority = account(ctx, 0)?;
    let config = load_config(ctx, account(ctx, 1)?)?;
    require_signer(authority)?;
    if !keys_eq(authority.key(), config.oracle_authority()) {
        return Err(PerpError::Unauthorized);
    }
    if ctx.accounts.len() != FIRST_MARKET + updates.count {
        return Err(PerpError::InvalidBatch);
    }
    let mut now = empty_clock();
    clock(&mut now)?;

    let mut i = 0;
    while i < updates.count {
        let price = updates.get(i)?;
        // SAFETY: accounts are unique (the entrypoint refuses duplicates) and this market's data is
        // borrowed once, within this iteration.
        let market = unsafe { load_market_mut(ctx, account(ctx, FIRST_MARKET + i)?)? };
        let previous = if market.price() == 0 { None } else { Some(market.publish_time()) };
        validate(&price, &market.bounds(Action::Push), now.unix_timestamp, previous)?;
        market.set_pushed_price(&price, now.slot);
        i += 1;
    }
    Ok(())
}
