//! Oracle prices as margin math needs them.

use super::constants::{BPS_DENOMINATOR, POW10, PRICE_DECIMALS};
use super::wide::{checked_mul_u64, mul_u64};
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
    fn confidence_bound_is_inclusive_and_exact() {
        // 50 bps of 150.00000000 is 0.75000000.
        assert!(confidence_within(15_000_000_000, 75_000_000, 50));
        assert!(!confidence_within(15_000_000_000, 75_000_001, 50));
        assert!(confidence_within(i64::MAX, u64::MAX / 10_000, 10_000));
        assert!(!confidence_within(1, u64::MAX, 10_000));
        assert!(!confidence_within(0, 0, 10_000));
    }
}
