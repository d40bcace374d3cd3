//! `update_oracle_price`: the oracle authority pushes prices for one or more markets at once. Each
//! must pass the market's push bounds and move its publish time strictly forward, so a push that
//! already landed is refused (`PublishTimeDuplicate`) rather than applied twice. One writable
//! market per update, in order, after the two declared accounts.

use super::shared::accounts::{load_config, load_market_mut};
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::UpdateOraclePriceAccounts;
use crate::instruction::args::PriceUpdates;
use crate::keys_eq;
use crate::oracle::{validate, Action};

pub fn process(ctx: &Context, a: &UpdateOraclePriceAccounts, updates: &PriceUpdates) -> ProgramResult {
    let config = load_config(ctx, a.config)?;
    if !keys_eq(a.oracle_authority.key(), config.oracle_authority()) {
        return Err(PerpError::Unauthorized);
    }
    if a.markets.len() != updates.count {
        return Err(PerpError::InvalidBatch);
    }
    let mut now = empty_clock();
    clock(&mut now)?;

    let mut i = 0;
    while i < updates.count {
        let price = updates.get(i)?;
        // SAFETY: accounts are unique (the entrypoint refuses duplicates) and this market's data is
        // borrowed once, within this iteration.
        let market = unsafe { load_market_mut(ctx, &a.markets[i])? };
        let previous = if market.price() == 0 { None } else { Some(market.publish_time()) };
        validate(&price, &market.bounds(Action::Push), now.unix_timestamp, previous)?;
        market.set_pushed_price(&price, now.slot);
        i += 1;
    }
    Ok(())
}
