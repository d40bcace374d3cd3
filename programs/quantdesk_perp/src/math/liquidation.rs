//! How much of a position a liquidation takes and where the money goes — Drift's rules,
//! simplified, with the formulas of `domain/margin.ts` (`planLiquidation`) and the exact-rational
//! oracle of `tests/vectors/generate.py` (`liquidation.json`). Units as in `margin.rs`.
//!
//! Below maintenance margin at the liquidation price P, the keeper takes the least size d whose
//! remainder meets maintenance + buffer after the fee on d, with one quote unit of allowance for
//! the rounding of realized PnL and fee:
//!     10⁴·(C·K − K + s·(P − E)) − d·P·f ≥ (a − d)·P·(m + b)
//!  ⇔ d ≥ (a·P·(m + b) − 10⁴·(C·K − K + s·(P − E))) / (P·(m + b − f))      (a = |s|, K = 10¹²)
//! and the whole position when d reaches a, or when the remainder's notional would be below the
//! market's minimum. Liquidating at the mark changes equity only by the fee, so the remainder keeps
//! its entry price. The fee (f of the liquidated notional, floored, capped by what is left on a
//! full liquidation) is split: the insurance fund's share, floored, and the rest to the keeper. A
//! loss beyond collateral is covered by the insurance fund up to its balance; the rest is bad debt.

use super::constants::{BPS_DENOMINATOR, NOTIONAL_DIVISOR};
use super::margin::{notional, unrealized_pnl};
use super::safe_math::{overflow, to_u64, SafeMath};
use super::wide::{checked_mul_i128_u64, checked_mul_u128_u64, divrem_u128_u64, mul_i64_i128, mul_u64};
use crate::error::PerpError;

/// A market's liquidation rules (config/markets.json `margin` and `liquidation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationParams {
    pub maintenance_bps: u16,
    pub fee_bps: u16,
    pub buffer_bps: u16,
    pub insurance_share_bps: u16,
    /// Quote units: a remainder with a smaller notional is liquidated too.
    pub min_notional: u64,
}

/// The position and the fund, as a liquidation finds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationInput {
    pub collateral: u64,
    /// Non-zero.
    pub size: i64,
    pub entry: u64,
    pub mark: u64,
    /// The insurance fund's token balance.
    pub insurance_balance: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Liquidation {
    pub full: bool,
    /// Signed like the position.
    pub size_liquidated: i64,
    pub remaining_size: i64,
    pub notional_liquidated: u64,
    pub realized_pnl: i128,
    /// keeper_fee + insurance_fee.
    pub fee: u64,
    pub keeper_fee: u64,
    pub insurance_fee: u64,
    pub remaining_collateral: u64,
    pub loss_beyond_collateral: u64,
    pub insurance_cover: u64,
    pub bad_debt: u64,
}

/// ⌈n / d⌉ for n ≥ 0 and d > 0.
#[inline(always)]
fn ceil_div(n: u128, d: u64) -> u128 {
    let (q, r) = divrem_u128_u64(n, d);
    q + (r != 0) as u128
}

/// The least size to liquidate (see the module comment), at least one base unit. `u128` because
/// a position far under water needs more than it has (the caller then liquidates all of it).
#[inline(always)]
fn least_size(i: &LiquidationInput, p: &LiquidationParams) -> Result<u128, PerpError> {
    let a = i.size.unsigned_abs();
    let target_bps = p.maintenance_bps as u64 + p.buffer_bps as u64;
    let required = checked_mul_u128_u64(mul_u64(a, i.mark), target_bps)?;
    if required > i128::MAX as u128 {
        return Err(overflow());
    }
    // 10⁴·(C·K − K + s·(P − E)): equity less one quote unit, scaled like `required`.
    let collateral = mul_u64(i.collateral, NOTIONAL_DIVISOR) as i128 - NOTIONAL_DIVISOR as i128;
    let equity = collateral.safe_add(mul_i64_i128(i.size, i.mark as i128 - i.entry as i128))?;
    let equity = checked_mul_i128_u64(equity, BPS_DENOMINATOR)?;
    let shortfall = (required as i128).safe_sub(equity)?;
    if shortfall <= 0 {
        return Ok(1);
    }
    // ⌈x / (P·k)⌉ = ⌈⌈x / P⌉ / k⌉: two 128-by-64 divisions (P·k may exceed 64 bits).
    let d = ceil_div(ceil_div(shortfall as u128, i.mark), target_bps - p.fee_bps as u64);
    Ok(if d == 0 { 1 } else { d })
}

#[inline(always)]
fn fee_of(notional: u64, fee_bps: u16) -> u64 {
    // notional × fee_bps / 10⁴ ≤ notional, so it fits.
    divrem_u128_u64(mul_u64(notional, fee_bps as u64), BPS_DENOMINATOR).0 as u64
}

/// Plans the liquidation of a position the caller found liquidatable.
#[inline(never)]
pub fn plan_liquidation(i: &LiquidationInput, p: &LiquidationParams, out: &mut Liquidation) -> Result<(), PerpError> {
    let a = i.size.unsigned_abs();
    let d = least_size(i, p)?;
    let mut full = d >= a as u128 || notional((a - d as u64) as i64, i.mark)? < p.min_notional;
    let mut plan = Liquidation::default();
    if !full {
        // d < a ≤ 2^63, so d fits i64.
        let delta = if i.size > 0 { d as i64 } else { -(d as i64) };
        let pnl = unrealized_pnl(delta, i.entry, i.mark);
        let notional_liquidated = notional(delta, i.mark)?;
        let fee = fee_of(notional_liquidated, p.fee_bps);
        let left = (i.collateral as i128).safe_add(pnl)?.safe_sub(fee as i128)?;
        // A position in profit with almost no collateral cannot pay the fee from a part of it.
        if left < 0 {
            full = true;
        } else {
            plan = Liquidation {
                full: false,
                size_liquidated: delta,
                remaining_size: i.size - delta,
                notional_liquidated,
                realized_pnl: pnl,
                fee,
                remaining_collateral: to_u64(left as u128)?,
                ..Liquidation::default()
            };
        }
    }
    if full {
        let pnl = unrealized_pnl(i.size, i.entry, i.mark);
        let rest = (i.collateral as i128).safe_add(pnl)?;
        let left = if rest > 0 { to_u64(rest as u128)? } else { 0 };
        let notional_liquidated = notional(i.size, i.mark)?;
        let fee = fee_of(notional_liquidated, p.fee_bps).min(left);
        let loss = if rest < 0 { to_u64(rest.unsigned_abs())? } else { 0 };
        let insurance_cover = loss.min(i.insurance_balance);
        plan = Liquidation {
            full: true,
            size_liquidated: i.size,
            remaining_size: 0,
            notional_liquidated,
            realized_pnl: pnl,
            fee,
            remaining_collateral: left - fee,
            loss_beyond_collateral: loss,
            insurance_cover,
            bad_debt: loss - insurance_cover,
            ..Liquidation::default()
        };
    }
    plan.insurance_fee = fee_of(plan.fee, p.insurance_share_bps);
    plan.keeper_fee = plan.fee - plan.insurance_fee;
    *out = plan;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::margin::is_liquidatable;

    const USD: u64 = 1_000_000;
    const PX: u64 = 1_000_000_000;
    const UNIT: i64 = 1_000_000_000;
    const MAJORS: LiquidationParams = LiquidationParams { maintenance_bps: 500, fee_bps: 100, buffer_bps: 200, insurance_share_bps: 2500, min_notional: 10 * USD };

    fn plan(collateral: u64, size: i64, entry: u64, mark: u64, fund: u64) -> Liquidation {
        let mut out = Liquidation::default();
        plan_liquidation(&LiquidationInput { collateral, size, entry, mark, insurance_balance: fund }, &MAJORS, &mut out).unwrap();
        out
    }

    #[test]
    fn takes_just_enough_to_restore_maintenance_plus_buffer() {
        // Long 10 SOL from 150 with $150 at 142.10: liquidation.json "long SOL just below maintenance".
        let l = plan(150 * USD, 10 * UNIT, 150 * PX, 14_210 * PX / 100, 0);
        assert!(!l.full);
        assert_eq!((l.size_liquidated, l.remaining_size), (3_339_197_866, 6_660_802_134));
        assert_eq!((l.fee, l.keeper_fee, l.insurance_fee), (4_745_000, 3_558_750, 1_186_250));
        // The remainder meets maintenance + buffer, and is no longer liquidatable.
        assert!(!is_liquidatable(l.remaining_collateral, l.remaining_size, 150 * PX, 14_210 * PX / 100, 700).unwrap());
        // One base unit less would not have been enough.
        let short_by_one = LiquidationInput { collateral: 150 * USD, size: 10 * UNIT, entry: 150 * PX, mark: 14_210 * PX / 100, insurance_balance: 0 };
        assert_eq!(least_size(&short_by_one, &MAJORS), Ok(3_339_197_866));
    }

    #[test]
    fn liquidates_everything_below_the_minimum_or_under_water() {
        let small = plan(1_500_000, UNIT / 10, 150 * PX, 142 * PX, 0);
        assert!(small.full && small.remaining_size == 0);
        // Long 10 SOL from 150 with $150 at 120: a $150 loss beyond collateral; the fund holds $100.
        let l = plan(150 * USD, 10 * UNIT, 150 * PX, 120 * PX, 100 * USD);
        assert_eq!((l.fee, l.loss_beyond_collateral, l.insurance_cover, l.bad_debt), (0, 150 * USD, 100 * USD, 50 * USD));
    }

    #[test]
    fn extreme_inputs_overflow_instead_of_wrapping() {
        let mut out = Liquidation::default();
        let i = LiquidationInput { collateral: 0, size: i64::MAX, entry: u64::MAX, mark: u64::MAX, insurance_balance: 0 };
        assert_eq!(plan_liquidation(&i, &MAJORS, &mut out), Err(PerpError::MathOverflow));
    }
}
