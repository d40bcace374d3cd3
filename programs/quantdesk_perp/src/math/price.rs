//! Oracle prices as margin math needs them.

use super::constants::{BPS_DENOMINATOR, POW10, PRICE_DECIMALS};
use super::wide::{checked_mul_u128_u64, checked_mul_u64, cmp_products, mul_u64};
use crate::error::PerpError;

/// A positive Pyth (price, expo) at PRICE_DECIMALS: price × 10^(9 + expo), rounded toward zero
/// when expo < −9. Errors: `NonPositivePrice` for price ≤ 0, `MathOverflow` when the result exceeds
/// u64, `ExponentOutOfRange` when 10^|9 + expo| exceeds u64, `PriceBelowPrecision` when the price
/// rounds to zero.
#[inline(always)]
pub fn to_price_1e9(price: i64, expo: i32) -> Result<u64, PerpError> {
    if price <= 0 {
        return Err(PerpError::NonPositivePrice);
    }
    let price = price as u64;
    let shift = PRICE_DECIMALS as i64 + expo as i64;
    let scaled = if shift >= 0 {
        let factor = *POW10.get(shift as usize).ok_or(PerpError::ExponentOutOfRange)?;
        checked_mul_u64(price, factor)?
    } else {
        // price < 2^63 < 10^19: any divisor of 10^19 or more leaves zero.
        match POW10.get((-shift) as usize) {
            Some(divisor) => price / divisor,
            None => 0,
        }
    };
    if scaled == 0 {
        return Err(PerpError::PriceBelowPrecision);
    }
    Ok(scaled)
}

/// conf ≤ max_bps / 10000 × price, exactly; price and conf share an exponent, so no rescaling.
#[inline(always)]
pub fn confidence_within(price: i64, conf: u64, max_bps: u16) -> bool {
    if price <= 0 {
        return false;
    }
    mul_u64(conf, BPS_DENOMINATOR) <= mul_u64(price as u64, max_bps as u64)
}

/// |a − b| > bps/10000 × b, exactly, for positive mantissas a × 10^expo_a and b × 10^expo_b:
/// strictly outside a band around b, as `deviatesBeyond` in domain/decimal.ts decides it. Both are
/// brought to the finer exponent (at most 10^19 apart, so below 2^127) and compared as 192-bit
/// products. Exponents further apart than any u64 power of ten count as outside.
#[inline(always)]
pub fn deviates_beyond(a: i64, expo_a: i32, b: i64, expo_b: i32, bps: u16) -> bool {
    if a <= 0 || b <= 0 {
        return true;
    }
    let shift = (expo_a as i64 - expo_b as i64).unsigned_abs();
    let Some(&factor) = POW10.get(shift as usize) else {
        return true;
    };
    // The one with the larger exponent is scaled up to the other's.
    let scaled = |m: i64, expo: i32, other: i32| if expo > other { checked_mul_u128_u64(m as u128, factor) } else { Ok(m as u128) };
    let (Ok(x), Ok(y)) = (scaled(a, expo_a, expo_b), scaled(b, expo_b, expo_a)) else {
        return true;
    };
    let diff = if x > y { x - y } else { y - x };
    cmp_products(diff, BPS_DENOMINATOR, y, bps as u64) == core::cmp::Ordering::Greater
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescales_pyth_prices_to_nine_decimals() {
        assert_eq!(to_price_1e9(15_000_000_000, -8), Ok(150_000_000_000));
        assert_eq!(to_price_1e9(150, 0), Ok(150_000_000_000));
        assert_eq!(to_price_1e9(123, -9), Ok(123));
        assert_eq!(to_price_1e9(1_234_567_891, -10), Ok(123_456_789));
        assert_eq!(to_price_1e9(i64::MAX, -18), Ok(9_223_372_036));
        assert_eq!(to_price_1e9(9, -10), Err(PerpError::PriceBelowPrecision));
        assert_eq!(to_price_1e9(i64::MAX, -28), Err(PerpError::PriceBelowPrecision));
        assert_eq!(to_price_1e9(100_000_000_000, 0), Err(PerpError::MathOverflow));
        assert_eq!(to_price_1e9(1, 11), Err(PerpError::ExponentOutOfRange));
        assert_eq!(to_price_1e9(0, -8), Err(PerpError::NonPositivePrice));
        assert_eq!(to_price_1e9(-1, -8), Err(PerpError::NonPositivePrice));
    }

    #[test]
    fn bands_are_exact_and_inclusive_at_the_edge() {
        // 10 % of 150: 165 is on the edge, 165.00000001 beyond.
        assert!(!deviates_beyond(16_500_000_000, -8, 15_000_000_000, -8, 1000));
        assert!(deviates_beyond(16_500_000_001, -8, 15_000_000_000, -8, 1000));
        assert!(!deviates_beyond(13_500_000_000, -8, 15_000_000_000, -8, 1000));
        assert!(deviates_beyond(13_499_999_999, -8, 15_000_000_000, -8, 1000));
        // Different exponents are compared exactly: 165 at expo -6 against 150 at expo -15.
        assert!(!deviates_beyond(165_000_000, -6, 150_000_000_000_000_000, -15, 1000));
        assert!(deviates_beyond(165_000_001, -6, 150_000_000_000_000_000, -15, 1000));
        // The largest mantissas at the widest exponent gap do not overflow.
        assert!(!deviates_beyond(i64::MAX, -18, i64::MAX, -18, 0));
        assert!(deviates_beyond(i64::MAX, 0, i64::MAX, -18, 10_000));
        assert!(deviates_beyond(1, -18, 1, 0, 9_999));
        assert!(!deviates_beyond(1, -18, 1, 0, 10_000));
        assert!(deviates_beyond(0, -8, 1, -8, 10_000));
        assert!(deviates_beyond(1, 0, 1, -20, 10_000));
    }

    #[test]
    fn confidence_bound_is_inclusive_and_exact() {
        // 50 bps of 150.00000000 is 0.75000000.
        assert!(confidence_within(15_000_000_000, 75_000_000, 50));
        assert!(!confidence_within(15_000_000_000, 75_000_001, 50));
        assert!(confidence_within(i64::MAX, u64::MAX / 10_000, 10_000));
        assert!(!confidence_within(1, u64::MAX, 10_000));
        assert!(!confidence_within(0, 0, 10_000));
    }
}
