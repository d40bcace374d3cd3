//! Price resolution for margin and liquidation: a Pyth PriceUpdateV2 account when one is passed and
//! usable, else the price the oracle authority pushed, else a distinct error.

use crate::error::PerpError;
use crate::input::AccountInfo;
use crate::keys_eq;
use crate::log::log;
use crate::math::price::to_price_1e9;
use crate::oracle::pyth::read_price_update_v2;
use crate::oracle::{validate, Action};
use crate::state::{Config, Market};

/// The mark price for `action` at `now`, at 10^-9 USD per base unit.
///
/// A passed Pyth account must be genuine: owned by the configured receiver program, fully
/// verified, carrying the market's feed; anything else is an error, never a silent fallback. A
/// genuine update that is too old, too uncertain, in the future or out of range for this action
/// is logged and the pushed price is tried instead, which must itself pass the same bounds.
/// What `resolve_mark_price` needs (one argument: BPF calls take at most five).
pub struct PriceQuery<'a> {
    pub config: &'a Config,
    pub market: &'a Market,
    pub pyth: Option<&'a AccountInfo>,
    /// Unix seconds from the Clock sysvar.
    pub now: i64,
    pub action: Action,
}

#[inline(never)]
pub fn resolve_mark_price(q: &PriceQuery) -> Result<u64, PerpError> {
    let (config, market, now) = (q.config, q.market, q.now);
    let bounds = market.bounds(q.action);
    let pyth = q.pyth;
    if let Some(account) = pyth {
        if !keys_eq(account.owner(), config.pyth_receiver()) {
            return Err(PerpError::PythWrongOwner);
        }
        let update = read_price_update_v2(account.data())?;
        if !keys_eq(&update.feed_id, market.feed_id()) {
            return Err(PerpError::PythFeedMismatch);
        }
        match validate(&update.price, &bounds, now, None) {
            Ok(()) => {
                log("price source: pyth");
                return to_price_1e9(update.price.price, update.price.expo);
            }
            Err(reason) => {
                log("pyth price unusable:");
                log(reason.name());
            }
        }
    }
    let pushed = market.pushed_price();
    if pushed.price == 0 {
        return Err(PerpError::OraclePriceMissing);
    }
    validate(&pushed, &bounds, now, None)?;
    log("price source: pushed");
    to_price_1e9(pushed.price, pushed.expo)
}
