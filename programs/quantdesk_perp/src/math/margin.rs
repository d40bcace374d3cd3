//! Margin and PnL of a position, exact in integers, with the formulas of `domain/margin.ts`:
//!   size        signed base units (10^-9), long > 0
//!   prices      10^-9 USD per base unit (see `price::to_price_1e9`)
//!   collateral  quote units (10^-6 USD)
//! Decisions compare exact scaled products and never round; settled amounts round toward −∞.

use super::constants::{BPS_DENOMINATOR, NOTIONAL_DIVISOR};
use super::safe_math::{to_u64, SafeMath};
use super::wide::{checked_mul_i128_u64, checked_mul_u128_u64, divrem_u128_u64, floor_div_i128_u64, mul_i64_i128, mul_u64};
use crate::error::PerpError;

/// |size| × price / 10^12, floored, in quote units.
#[inline(always)]
pub fn notional(size: i64, price: u64) -> Result<u64, PerpError> {
    let (q, _) = divrem_u128_u64(mul_u64(size.unsigned_abs(), price), NOTIONAL_DIVISOR);
    to_u64(q)
}

/// size × (mark − entry) / 10^12, floored (a trader's loss rounds up), in quote units.
#[inline(always)]
pub fn unrealized_pnl(size: i64, entry: u64, mark: u64) -> i128 {
    floor_div_i128_u64(mul_i64_i128(size, mark as i128 - entry as i128), NOTIONAL_DIVISOR)
}

/// 10000 × (collateral × 10^12 + size × (mark − entry)): equity scaled so that every margin
/// comparison is exact.
#[inline(always)]
fn scaled_equity(collateral: u64, size: i64, entry: u64, mark: u64) -> Result<i128, PerpError> {
    // Below 2^104, so the cast is exact.
    let collateral = mul_u64(collateral, NOTIONAL_DIVISOR) as i128;
    let pnl = mul_i64_i128(size, mark as i128 - entry as i128);
    let equity = collateral.safe_add(pnl)?;
    checked_mul_i128_u64(equity, BPS_DENOMINATOR)
}

/// |size| × mark × bps: the margin requirement at `bps` of notional, scaled like `scaled_equity`.
#[inline(always)]
fn scaled_requirement(size: i64, mark: u64, bps: u16) -> Result<u128, PerpError> {
    checked_mul_u128_u64(mul_u64(size.unsigned_abs(), mark), bps as u64)
}

/// Equity below maintenance margin. A flat position is never liquidatable.
#[inline(always)]
pub fn is_liquidatable(collateral: u64, size: i64, entry: u64, mark: u64, maintenance_bps: u16) -> Result<bool, PerpError> {
    if size == 0 {
        return Ok(false);
    }
    let equity = scaled_equity(collateral, size, entry, mark)?;
    let required = scaled_requirement(size, mark, maintenance_bps)?;
    Ok(equity < 0 || (equity as u128) < required)
}

/// Equity at or above initial margin. A flat position always meets it (collateral is never negative).
#[inline(always)]
pub fn meets_initial_margin(collateral: u64, size: i64, entry: u64, mark: u64, initial_bps: u16) -> Result<bool, PerpError> {
    if size == 0 {
        return Ok(true);
    }
    let equity = scaled_equity(collateral, size, entry, mark)?;
    let required = scaled_requirement(size, mark, initial_bps)?;
    Ok(equity >= 0 && equity as u128 >= required)
}

/// The outcome of closing a position at `mark`: PnL settles against collateral, then the keeper's
/// fee (fee_bps of notional, floored) comes out of what is left, never more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub pnl: i128,
    pub keeper_fee: u64,
    /// Collateral left in the position after the fee.
    pub to_owner: u64,
    /// The loss beyond collateral, which the vault absorbs.
    pub bad_debt: u128,
}

#[inline(always)]
pub fn settle(collateral: u64, size: i64, entry: u64, mark: u64, fee_bps: u16) -> Result<Settlement, PerpError> {
    let pnl = unrealized_pnl(size, entry, mark);
    let remaining = (collateral as i128).safe_add(pnl)?;
    let (left, bad_debt) = if remaining >= 0 { (remaining as u128, 0) } else { (0, remaining.unsigned_abs()) };
    let left = to_u64(left)?;
    let (fee, _) = divrem_u128_u64(mul_u64(notional(size, mark)?, fee_bps as u64), BPS_DENOMINATOR);
    // fee ≤ notional < 2^64.
    let keeper_fee = if fee < left as u128 { fee as u64 } else { left };
    Ok(Settlement { pnl, keeper_fee, to_owner: left - keeper_fee, bad_debt })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USD: u64 = 1_000_000;
    const PX: u64 = 1_000_000_000;
    const UNIT: i64 = 1_000_000_000;

    #[test]
    fn ten_times_leverage_is_exactly_initial_margin() {
        // 10 SOL at $100 with $100 collateral: equity = 10 % of notional.
        assert_eq!(meets_initial_margin(100 * USD, 10 * UNIT, 100 * PX, 100 * PX, 1000), Ok(true));
        assert_eq!(meets_initial_margin(100 * USD, 10 * UNIT + 1, 100 * PX, 100 * PX, 1000), Ok(false));
    }

    #[test]
    fn maintenance_boundary_is_strict() {
        // Short 2 ETH at 3000 with $300: equity $300 = 5 % of $6000 exactly, not liquidatable.
        assert_eq!(is_liquidatable(300 * USD, -2 * UNIT, 3000 * PX, 3000 * PX, 500), Ok(false));
        assert_eq!(is_liquidatable(300 * USD - 1, -2 * UNIT, 3000 * PX, 3000 * PX, 500), Ok(true));
        assert_eq!(is_liquidatable(0, 0, 0, 3000 * PX, 500), Ok(false));
    }

    #[test]
    fn losses_round_against_the_trader() {
        assert_eq!(unrealized_pnl(1, 2, 1), -1);
        assert_eq!(unrealized_pnl(1, 1, 2), 0);
        assert_eq!(unrealized_pnl(-10 * UNIT, 150 * PX, 160 * PX), -100 * USD as i128);
    }

    #[test]
    fn settlement_caps_the_fee_and_reports_bad_debt() {
        // Long 10 SOL from 150 to 120 with $100: PnL −$300, bad debt $200, no fee left to pay.
        let s = settle(100 * USD, 10 * UNIT, 150 * PX, 120 * PX, 100).unwrap();
        assert_eq!(s, Settlement { pnl: -300 * USD as i128, keeper_fee: 0, to_owner: 0, bad_debt: 200 * USD as u128 });
        // Long 10 SOL from 150 to 142.10 with $150: PnL −$79, fee 1 % of $1421 = $14.21.
        let s = settle(150 * USD, 10 * UNIT, 150 * PX, 14_210 * PX / 100, 100).unwrap();
        assert_eq!(s, Settlement { pnl: -79 * USD as i128, keeper_fee: 14_210_000, to_owner: 56_790_000, bad_debt: 0 });
    }

    #[test]
    fn extreme_inputs_overflow_instead_of_wrapping() {
        assert_eq!(notional(i64::MIN, u64::MAX), Err(PerpError::MathOverflow));
        assert_eq!(is_liquidatable(u64::MAX, i64::MAX, 1, u64::MAX, 10_000), Err(PerpError::MathOverflow));
        assert_eq!(meets_initial_margin(1, i64::MIN, u64::MAX, 1, 10_000), Err(PerpError::MathOverflow));
    }
}
