//! Checked arithmetic that says where it failed (Drift's `SafeMath`): every overflow is
//! `PerpError::MathOverflow`, and the call site — found through `#[track_caller]`, so it is the
//! line in `math/` or `processor/` that did the arithmetic, not this file — is logged as
//! "MathOverflow at src/math/margin.rs:57" before the entrypoint logs the error's name.
//!
//! The methods are always inlined (BPF cannot return aggregates from calls, and the location is
//! then a constant); only the cold reporting path is a call. No method widens to 128-bit
//! multiply or divide builtins: u64 products go through `wide::mul_u64`.

use super::wide::mul_u64;
use crate::error::PerpError;
use crate::log::log_at;
use core::panic::Location;

/// Logs where the arithmetic failed and gives the error to return.
#[cold]
#[inline(never)]
fn report(location: &'static Location<'static>) -> PerpError {
    log_at(PerpError::MathOverflow.name(), location);
    PerpError::MathOverflow
}

/// `MathOverflow`, with the caller's location logged (for the math in `wide` and elsewhere that
/// detects overflow itself).
#[track_caller]
#[inline(always)]
pub fn overflow() -> PerpError {
    report(Location::caller())
}

/// `Some(v)` → `Ok(v)`, `None` → `MathOverflow` at the caller.
#[track_caller]
#[inline(always)]
pub fn checked<T>(v: Option<T>) -> Result<T, PerpError> {
    match v {
        Some(v) => Ok(v),
        None => Err(report(Location::caller())),
    }
}

pub trait SafeMath: Sized {
    fn safe_add(self, rhs: Self) -> Result<Self, PerpError>;
    fn safe_sub(self, rhs: Self) -> Result<Self, PerpError>;
}

macro_rules! safe_add_sub {
    ($($t:ty),*) => {$(
        impl SafeMath for $t {
            #[track_caller]
            #[inline(always)]
            fn safe_add(self, rhs: Self) -> Result<Self, PerpError> {
                checked(self.checked_add(rhs))
            }
            #[track_caller]
            #[inline(always)]
            fn safe_sub(self, rhs: Self) -> Result<Self, PerpError> {
                checked(self.checked_sub(rhs))
            }
        }
    )*};
}

safe_add_sub!(u64, i64, u128, i128);

/// Products and quotients of u64 (the BPF target has 64-bit multiply and divide).
pub trait SafeMulDiv: Sized {
    fn safe_mul(self, rhs: Self) -> Result<Self, PerpError>;
    fn safe_div(self, rhs: Self) -> Result<Self, PerpError>;
    /// ⌈self / rhs⌉.
    fn safe_div_ceil(self, rhs: Self) -> Result<Self, PerpError>;
}

impl SafeMulDiv for u64 {
    #[track_caller]
    #[inline(always)]
    fn safe_mul(self, rhs: u64) -> Result<u64, PerpError> {
        let p = mul_u64(self, rhs);
        if p >> 64 != 0 {
            return Err(report(Location::caller()));
        }
        Ok(p as u64)
    }
    #[track_caller]
    #[inline(always)]
    fn safe_div(self, rhs: u64) -> Result<u64, PerpError> {
        checked(self.checked_div(rhs))
    }
    #[track_caller]
    #[inline(always)]
    fn safe_div_ceil(self, rhs: u64) -> Result<u64, PerpError> {
        if rhs == 0 {
            return Err(report(Location::caller()));
        }
        Ok(self / rhs + (self % rhs != 0) as u64)
    }
}

/// A 128-bit value that must fit 64 bits.
#[track_caller]
#[inline(always)]
pub fn to_u64(v: u128) -> Result<u64, PerpError> {
    if v >> 64 != 0 {
        return Err(report(Location::caller()));
    }
    Ok(v as u64)
}

/// A signed 128-bit value that must fit i64.
#[track_caller]
#[inline(always)]
pub fn to_i64(v: i128) -> Result<i64, PerpError> {
    if v > i64::MAX as i128 || v < i64::MIN as i128 {
        return Err(report(Location::caller()));
    }
    Ok(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_math_overflow_and_results_are_exact() {
        assert_eq!(u64::MAX.safe_add(1), Err(PerpError::MathOverflow));
        assert_eq!(0u64.safe_sub(1), Err(PerpError::MathOverflow));
        assert_eq!(i128::MIN.safe_sub(1), Err(PerpError::MathOverflow));
        assert_eq!((1u64 << 32).safe_mul(1 << 32), Err(PerpError::MathOverflow));
        assert_eq!(u64::MAX.safe_mul(1), Ok(u64::MAX));
        assert_eq!(7u64.safe_div(0), Err(PerpError::MathOverflow));
        assert_eq!(7u64.safe_div_ceil(2), Ok(4));
        assert_eq!(8u64.safe_div_ceil(2), Ok(4));
        assert_eq!(u64::MAX.safe_div_ceil(u64::MAX), Ok(1));
        assert_eq!(to_u64(1 << 64), Err(PerpError::MathOverflow));
        assert_eq!(to_i64(i64::MIN as i128), Ok(i64::MIN));
        assert_eq!(to_i64(i64::MIN as i128 - 1), Err(PerpError::MathOverflow));
    }

    #[track_caller]
    fn where_called() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn track_caller_reaches_through_inlined_helpers() {
        // The location a helper sees is its caller's line, as SafeMath's report relies on.
        let here = line!() + 1;
        let loc = where_called();
        assert_eq!((loc.file(), loc.line()), ("src/math/safe_math.rs", here));
    }
}
