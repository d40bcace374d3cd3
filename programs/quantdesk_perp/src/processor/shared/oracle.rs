//! Price resolution for margin and liquidation: the accounts half. The market's pinned Pyth
//! account, when it pins one, must be the account passed — no other address, not left out —
//! genuine (owned by the configured receiver, fully verified, the market's feed); a market that
//! pins none takes no price account at all. `oracle::resolve` then picks the price (the newer of
//! that account and the pushed price, never below the watermark, within the bands), and the
//! market records it as the last used, which moves the watermark.

use crate::error::{PerpError, ProgramResult};
use crate::input::AccountInfo;
use crate::keys_eq;
use crate::oracle::pyth::read_price_update_v2;
use crate::oracle::resolve::{resolve, Inputs, PythCandidate, Resolved};
use crate::oracle::Action;
use crate::state::{Config, Market};

/// What `resolve_mark_price` needs besides the market (one argument: BPF calls take at most five).
pub struct PriceQuery<'a> {
    pub config: &'a Config,
    /// The optional price account the instruction was given.
    pub pyth: Option<&'a AccountInfo>,
    /// Unix seconds from the Clock sysvar.
    pub now: i64,
    pub action: Action,
}

const UNPINNED: crate::Pubkey = [0; 32];

/// Resolves the price for `q.action` into `out` and records it in `market` as the last used.
#[inline(never)]
pub fn resolve_mark_price(q: &PriceQuery, market: &mut Market, out: &mut Resolved) -> ProgramResult {
    let pinned = market.oracle();
    let candidate;
    let pyth = if keys_eq(pinned, &UNPINNED) {
        if q.pyth.is_some() {
            return Err(PerpError::OracleNotPinned);
        }
        None
    } else {
        let account = q.pyth.ok_or(PerpError::OracleAccountMissing)?;
        if !keys_eq(account.key(), pinned) {
            return Err(PerpError::OracleAccountMismatch);
        }
        if !keys_eq(account.owner(), q.config.pyth_receiver()) {
            return Err(PerpError::PythWrongOwner);
        }
        let update = read_price_update_v2(account.data())?;
        if !keys_eq(&update.feed_id, market.feed_id()) {
            return Err(PerpError::PythFeedMismatch);
        }
        candidate = PythCandidate { price: update.price, ema_price: update.ema_price };
        Some(&candidate)
    };
    let pushed_price = market.pushed_price();
    let pushed = if pushed_price.price == 0 { None } else { Some(&pushed_price) };
    let last_used = market.last_used();
    let inputs = Inputs { pyth, pushed, last_used: last_used.as_ref(), bounds: market.bounds(q.action), bands: market.bands(), now: q.now };
    resolve(&inputs, out)?;
    market.set_last_used(&out.price);
    Ok(())
}
