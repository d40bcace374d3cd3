//! Oracle prices: validation per action (the same rules and reasons as `domain/validation.ts`), the
//! reader for Pyth's `PriceUpdateV2` accounts and the choice of price (`resolve`). Pure: the
//! caller passes the clock.

pub mod pyth;
pub mod resolve;

use crate::error::{PerpError, ProgramResult};
use crate::math::price::confidence_within;

/// A price as Pyth publishes it: price × 10^expo, ± conf × 10^expo, at publish_time (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceData {
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub publish_time: i64,
}

/// What a price is used for; each action has its own maximum age and confidence bound, the stricter
/// the more money depends on it (push ≥ margin ≥ liquidation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Push,
    Margin,
    Liquidation,
}

/// One action's bounds, taken from the market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub expo_min: i32,
    pub expo_max: i32,
    pub max_future_skew_sec: u32,
    pub max_age_sec: u32,
    pub max_conf_bps: u16,
}

/// Checks a price for one action at `now`, in the order `domain/validation.ts` applies them:
/// exponent, sign, future publish time, then (for pushes, `previous_publish_time`) monotonicity,
/// then age, then confidence. A repeated push therefore reports `PublishTimeDuplicate` even when the
/// price has since gone stale, which tells the pusher it already landed.
#[inline(always)]
pub fn validate(p: &PriceData, b: &Bounds, now: i64, previous_publish_time: Option<i64>) -> ProgramResult {
    if p.expo < b.expo_min || p.expo > b.expo_max {
        return Err(PerpError::ExponentOutOfRange);
    }
    if p.price <= 0 {
        return Err(PerpError::NonPositivePrice);
    }
    // i128: publish times come from accounts and instruction data, so any i64 must be handled.
    let age = now as i128 - p.publish_time as i128;
    if -age > b.max_future_skew_sec as i128 {
        return Err(PerpError::PriceInFuture);
    }
    if let Some(previous) = previous_publish_time {
        if p.publish_time < previous {
            return Err(PerpError::PublishTimeRegressed);
        }
        if p.publish_time == previous {
            return Err(PerpError::PublishTimeDuplicate);
        }
    }
    if age > b.max_age_sec as i128 {
        return Err(PerpError::PriceStale);
    }
    if !confidence_within(p.price, p.conf, b.max_conf_bps) {
        return Err(PerpError::ConfidenceTooWide);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const B: Bounds = Bounds { expo_min: -18, expo_max: 0, max_future_skew_sec: 5, max_age_sec: 30, max_conf_bps: 100 };

    fn p(price: i64, conf: u64, expo: i32, age: i64) -> PriceData {
        PriceData { price, conf, expo, publish_time: NOW - age }
    }

    #[test]
    fn first_failing_rule_wins() {
        assert_eq!(validate(&p(0, u64::MAX, 1, 99), &B, NOW, None), Err(PerpError::ExponentOutOfRange));
        assert_eq!(validate(&p(0, u64::MAX, -8, -99), &B, NOW, None), Err(PerpError::NonPositivePrice));
        assert_eq!(validate(&p(1, u64::MAX, -8, -6), &B, NOW, Some(NOW + 10)), Err(PerpError::PriceInFuture));
        assert_eq!(validate(&p(1, u64::MAX, -8, 99), &B, NOW, Some(NOW - 99)), Err(PerpError::PublishTimeDuplicate));
        assert_eq!(validate(&p(1, u64::MAX, -8, 99), &B, NOW, Some(NOW)), Err(PerpError::PublishTimeRegressed));
        assert_eq!(validate(&p(1, u64::MAX, -8, 31), &B, NOW, Some(NOW - 40)), Err(PerpError::PriceStale));
        assert_eq!(validate(&p(100, 2, -8, 30), &B, NOW, None), Err(PerpError::ConfidenceTooWide));
        assert_eq!(validate(&p(100, 1, -8, -5), &B, NOW, Some(NOW - 40)), Ok(()));
    }

    #[test]
    fn extreme_publish_times_do_not_overflow() {
        assert_eq!(validate(&p(1, 0, 0, 0), &B, i64::MIN, None), Err(PerpError::PriceInFuture));
        let ancient = PriceData { price: 1, conf: 0, expo: 0, publish_time: i64::MIN };
        assert_eq!(validate(&ancient, &B, i64::MAX, None), Err(PerpError::PriceStale));
    }
}
