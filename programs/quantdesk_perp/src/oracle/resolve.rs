//! Which price margin and liquidation use, decided from what the market holds and the pinned Pyth
//! account says — pure, so every combination is unit-tested here; `processor/shared/oracle.rs`
//! checks the accounts and calls it.
//!
//! Candidates are the pinned account's price (if the market pins one) and the pushed price (if
//! any), tried newest first (the Pyth one on a tie, as it carries an EMA). A candidate is used
//! when it
//!   1. meets the action's bounds (`validate`: exponent, sign, future skew, age, confidence);
//!   2. is not older than the market's watermark: the newest publish time it has used or been
//!      pushed (`PriceOlderThanUsed`), so no caller can bring back an older price;
//!   3. for Pyth, lies within the sanity band of the market's last good price (the newer of the
//!      last used and the pushed one, while younger than the display age) and within the EMA band
//!      of its own EMA — `domain/validation.ts`'s bands. Pushed prices are exempt: the oracle
//!      authority pushes only what the off-chain validation accepted, where a big move can be
//!      confirmed by the other source;
//!   4. can be rescaled to the margin precision (10^-9).
//! A Pyth candidate that fails is logged and the pushed price tried; when none is usable, the
//! newest candidate's reason is the error.

use super::{validate, Bounds, PriceData};
use crate::error::PerpError;
use crate::log::log;
use crate::math::price::{deviates_beyond, to_price_1e9};

/// The sanity and EMA bands of a market (config/markets.json `validation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bands {
    /// A last good price older than this no longer anchors the sanity band (the display age).
    pub anchor_max_age_sec: u32,
    pub sanity_band_bps: u16,
    pub ema_band_bps: u16,
}

/// The band checks of `domain/validation.ts` for a Pyth price: against the last good price while
/// it is fresh enough to anchor, then against the update's own EMA price (when positive).
#[inline(always)]
pub fn check_bands(p: &PriceData, ema_price: i64, anchor: Option<&PriceData>, b: &Bands, now: i64) -> Result<(), PerpError> {
    if let Some(a) = anchor {
        let age = now as i128 - a.publish_time as i128;
        if age <= b.anchor_max_age_sec as i128 && deviates_beyond(p.price, p.expo, a.price, a.expo, b.sanity_band_bps) {
            return Err(PerpError::SanityBandExceeded);
        }
    }
    if ema_price > 0 && deviates_beyond(p.price, p.expo, ema_price, p.expo, b.ema_band_bps) {
        return Err(PerpError::EmaBandExceeded);
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PriceSource {
    Pushed = 0,
    Pyth = 1,
}

/// The pinned account's update as resolution needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PythCandidate {
    pub price: PriceData,
    pub ema_price: i64,
}

/// What the market holds and what the instruction needs.
pub struct Inputs<'a> {
    pub pyth: Option<&'a PythCandidate>,
    /// The pushed price; None when nothing was pushed yet.
    pub pushed: Option<&'a PriceData>,
    /// The last price the market used; None before the first use.
    pub last_used: Option<&'a PriceData>,
    pub bounds: Bounds,
    pub bands: Bands,
    pub now: i64,
}

/// The price used, at 10^-9 USD per base unit, with the price it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub mark: u64,
    pub price: PriceData,
    pub source: PriceSource,
}

impl Resolved {
    pub const EMPTY: Resolved = Resolved { mark: 0, price: PriceData { price: 0, conf: 0, expo: 0, publish_time: 0 }, source: PriceSource::Pushed };
}

/// The newer of two optional prices (the first on a tie).
#[inline(always)]
fn newer<'a>(a: Option<&'a PriceData>, b: Option<&'a PriceData>) -> Option<&'a PriceData> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.publish_time > x.publish_time { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// One candidate against rules 1–4; the rescaled price, or why not.
#[inline(never)]
fn try_candidate(c: &PriceData, pyth_ema: Option<i64>, q: &Inputs) -> Result<u64, PerpError> {
    validate(c, &q.bounds, q.now, None)?;
    let watermark = newer(q.last_used, q.pushed).map_or(i64::MIN, |p| p.publish_time);
    if c.publish_time < watermark {
        return Err(PerpError::PriceOlderThanUsed);
    }
    if let Some(ema) = pyth_ema {
        check_bands(c, ema, newer(q.last_used, q.pushed), &q.bands, q.now)?;
    }
    to_price_1e9(c.price, c.expo)
}

/// Resolves the price; on success `out` holds it, and the caller records it as the last used.
#[inline(always)]
pub fn resolve(q: &Inputs, out: &mut Resolved) -> Result<(), PerpError> {
    let pyth_first = match (q.pyth, q.pushed) {
        (Some(p), Some(pushed)) => p.price.publish_time >= pushed.publish_time,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let pyth = q.pyth.map(|p| (&p.price, Some(p.ema_price), PriceSource::Pyth));
    let pushed = q.pushed.map(|p| (p, None, PriceSource::Pushed));
    let order = if pyth_first { [pyth, pushed] } else { [pushed, pyth] };
    let mut first_error = None;
    for (candidate, ema, source) in order.into_iter().flatten() {
        match try_candidate(candidate, ema, q) {
            Ok(mark) => {
                log(if source == PriceSource::Pyth { "price source: pyth" } else { "price source: pushed" });
                *out = Resolved { mark, price: *candidate, source };
                return Ok(());
            }
            Err(reason) => {
                log(if source == PriceSource::Pyth { "pyth price unusable:" } else { "pushed price unusable:" });
                log(reason.name());
                first_error.get_or_insert(reason);
            }
        }
    }
    Err(first_error.unwrap_or(PerpError::OraclePriceMissing))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const BOUNDS: Bounds = Bounds { expo_min: -18, expo_max: 0, max_future_skew_sec: 5, max_age_sec: 20, max_conf_bps: 75 };
    const BANDS: Bands = Bands { anchor_max_age_sec: 60, sanity_band_bps: 1000, ema_band_bps: 2000 };

    fn px(price: i64, age: i64) -> PriceData {
        PriceData { price, conf: 0, expo: -8, publish_time: NOW - age }
    }

    fn pyth(price: i64, age: i64) -> PythCandidate {
        PythCandidate { price: px(price, age), ema_price: price }
    }

    fn run(pyth: Option<&PythCandidate>, pushed: Option<&PriceData>, last_used: Option<&PriceData>) -> Result<Resolved, PerpError> {
        let q = Inputs { pyth, pushed, last_used, bounds: BOUNDS, bands: BANDS, now: NOW };
        let mut out = Resolved { mark: 0, price: px(0, 0), source: PriceSource::Pushed };
        resolve(&q, &mut out).map(|()| out)
    }

    const P150: i64 = 15_000_000_000;

    #[test]
    fn takes_the_newer_of_the_pinned_account_and_the_pushed_price() {
        let r = run(Some(&pyth(15_100_000_000, 1)), Some(&px(P150, 3)), None).unwrap();
        assert_eq!((r.source, r.mark), (PriceSource::Pyth, 151_000_000_000));
        let r = run(Some(&pyth(15_100_000_000, 3)), Some(&px(P150, 1)), None).unwrap();
        assert_eq!((r.source, r.mark), (PriceSource::Pushed, 150_000_000_000));
        // A tie goes to Pyth.
        assert_eq!(run(Some(&pyth(15_100_000_000, 2)), Some(&px(P150, 2)), None).unwrap().source, PriceSource::Pyth);
        assert_eq!(run(None, Some(&px(P150, 2)), None).unwrap().source, PriceSource::Pushed);
        assert_eq!(run(Some(&pyth(P150, 2)), None, None).unwrap().source, PriceSource::Pyth);
        assert_eq!(run(None, None, None), Err(PerpError::OraclePriceMissing));
    }

    #[test]
    fn never_goes_below_the_watermark() {
        // The market used a price published 2 s ago; a held-back update from 4 s ago is refused,
        // and so is a pushed price older than that use.
        let used = px(P150, 2);
        assert_eq!(run(Some(&pyth(P150, 4)), Some(&px(P150, 5)), Some(&used)), Err(PerpError::PriceOlderThanUsed));
        assert_eq!(run(None, Some(&px(P150, 3)), Some(&used)), Err(PerpError::PriceOlderThanUsed));
        // Equal to the watermark is fine (the same update, used again).
        assert_eq!(run(Some(&pyth(P150, 2)), None, Some(&used)).unwrap().source, PriceSource::Pyth);
        // A held-back Pyth update older than the pushed price: the pushed one is newer and used.
        assert_eq!(run(Some(&pyth(P150, 9)), Some(&px(P150, 1)), Some(&used)).unwrap().source, PriceSource::Pushed);
    }

    #[test]
    fn a_pyth_price_beyond_the_bands_falls_back_to_the_pushed_price() {
        // 30 % below the pushed price: outside the 10 % sanity band.
        let r = run(Some(&pyth(10_500_000_000, 1)), Some(&px(P150, 3)), None).unwrap();
        assert_eq!(r.source, PriceSource::Pushed);
        // Its EMA at twice the price: outside the 20 % EMA band.
        let doubled = PythCandidate { price: px(P150, 1), ema_price: 2 * P150 };
        assert_eq!(run(Some(&doubled), Some(&px(P150, 3)), None).unwrap().source, PriceSource::Pushed);
        // Nothing to fall back to: the band's reason.
        assert_eq!(run(Some(&pyth(10_500_000_000, 1)), None, Some(&px(P150, 30))), Err(PerpError::SanityBandExceeded));
        assert_eq!(run(Some(&doubled), None, None), Err(PerpError::EmaBandExceeded));
        // An anchor older than the display age no longer counts.
        assert_eq!(run(Some(&pyth(10_500_000_000, 1)), None, Some(&px(P150, 61))).unwrap().source, PriceSource::Pyth);
        // Pushed prices are not band-checked: the oracle authority's own validation confirmed them.
        assert_eq!(run(None, Some(&px(10_500_000_000, 1)), Some(&px(P150, 2))).unwrap().source, PriceSource::Pushed);
    }

    #[test]
    fn a_pyth_price_that_cannot_be_rescaled_falls_back() {
        let at = |price: i64, expo: i32, age: i64| PriceData { price, conf: 0, expo, publish_time: NOW - age };
        // $19e9 at exponent 0 exceeds u64 at 10^-9 while $18e9 does not (and lies within the band).
        let huge = PythCandidate { price: at(19_000_000_000, 0, 1), ema_price: 19_000_000_000 };
        let r = run(Some(&huge), Some(&at(18_000_000_000, 0, 3)), None).unwrap();
        assert_eq!((r.source, r.mark), (PriceSource::Pushed, 18_000_000_000_000_000_000));
        assert_eq!(run(Some(&huge), None, None), Err(PerpError::MathOverflow));
        // 9 × 10^-10 rounds to zero at 10^-9; 10 × 10^-10 does not.
        let tiny = PythCandidate { price: at(9, -10, 1), ema_price: 9 };
        let r = run(Some(&tiny), Some(&at(10, -10, 3)), None).unwrap();
        assert_eq!((r.source, r.mark), (PriceSource::Pushed, 1));
        assert_eq!(run(Some(&tiny), None, None), Err(PerpError::PriceBelowPrecision));
    }

    #[test]
    fn reports_the_newest_candidates_reason_when_none_is_usable() {
        // Pushed (newer) stale, Pyth (older) refused by the watermark: the pushed one's reason.
        assert_eq!(run(Some(&pyth(P150, 30)), Some(&px(P150, 26)), None), Err(PerpError::PriceStale));
        // Pyth (newer) too uncertain, pushed stale.
        let wide = PythCandidate { price: PriceData { conf: 2_000_000_000, ..px(P150, 1) }, ema_price: P150 };
        assert_eq!(run(Some(&wide), Some(&px(P150, 21)), None), Err(PerpError::ConfidenceTooWide));
    }

    #[test]
    fn bands_follow_the_domain() {
        let b = BANDS;
        let anchor = px(P150, 2);
        assert_eq!(check_bands(&px(16_500_000_000, 1), 0, Some(&anchor), &b, NOW), Ok(()));
        assert_eq!(check_bands(&px(16_500_000_001, 1), 0, Some(&anchor), &b, NOW), Err(PerpError::SanityBandExceeded));
        assert_eq!(check_bands(&px(P150, 1), 12_000_000_000, None, &b, NOW), Err(PerpError::EmaBandExceeded));
        assert_eq!(check_bands(&px(14_280_000_000, 1), 12_000_000_000, None, &b, NOW), Ok(()));
        assert_eq!(check_bands(&px(P150, 1), -5, None, &b, NOW), Ok(()));
    }
}
