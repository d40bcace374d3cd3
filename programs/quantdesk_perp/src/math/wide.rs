//! 128-bit multiply and divide built from 64-bit operations. The BPF target has no `__multi3` or
//! `__udivti3`, so no `u128 * u128`, `u128 / u128` or `u64::checked_mul` (which widens to i128) may
//! appear in the program; additions, subtractions, shifts and comparisons of i128 are fine.

use super::safe_math::overflow;
use crate::error::PerpError;

const LOW32: u64 = 0xffff_ffff;

/// a × b, exact, from four 32 × 32 → 64 products.
#[inline(always)]
pub fn mul_u64(a: u64, b: u64) -> u128 {
    let (a0, a1) = (a & LOW32, a >> 32);
    let (b0, b1) = (b & LOW32, b >> 32);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Below 2^34: three values under 2^32 each.
    let mid = (p00 >> 32) + (p01 & LOW32) + (p10 & LOW32);
    let lo = (p00 & LOW32) | (mid << 32);
    let hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    ((hi as u128) << 64) | lo as u128
}

/// a × b, or `MathOverflow` (logged at the caller) when the product exceeds u64.
#[track_caller]
#[inline(always)]
pub fn checked_mul_u64(a: u64, b: u64) -> Result<u64, PerpError> {
    let p = mul_u64(a, b);
    if p >> 64 != 0 {
        return Err(overflow());
    }
    Ok(p as u64)
}

/// a × b for a 128-bit a, or `MathOverflow` beyond u128.
#[track_caller]
#[inline(always)]
pub fn checked_mul_u128_u64(a: u128, b: u64) -> Result<u128, PerpError> {
    let lo = mul_u64(a as u64, b);
    let hi = mul_u64((a >> 64) as u64, b);
    if hi >> 64 != 0 {
        return Err(overflow());
    }
    match lo.checked_add(hi << 64) {
        Some(v) => Ok(v),
        None => Err(overflow()),
    }
}

/// a × b exactly, as a 192-bit number (high 64 bits, low 128 bits).
#[inline(always)]
pub fn mul_u128_u64_wide(a: u128, b: u64) -> (u64, u128) {
    let p0 = mul_u64(a as u64, b);
    let p1 = mul_u64((a >> 64) as u64, b);
    let lo = p0.wrapping_add(p1 << 64);
    let carry = (lo < p0) as u64;
    // p1 < 2^128, so its high half plus a carry fits 64 bits.
    ((p1 >> 64) as u64 + carry, lo)
}

/// a × m compared with b × n, exactly (192-bit products).
#[inline(always)]
pub fn cmp_products(a: u128, m: u64, b: u128, n: u64) -> core::cmp::Ordering {
    let (ah, al) = mul_u128_u64_wide(a, m);
    let (bh, bl) = mul_u128_u64_wide(b, n);
    if ah != bh {
        return if ah < bh { core::cmp::Ordering::Less } else { core::cmp::Ordering::Greater };
    }
    if al < bl {
        core::cmp::Ordering::Less
    } else if al > bl {
        core::cmp::Ordering::Greater
    } else {
        core::cmp::Ordering::Equal
    }
}

/// Quotient and remainder of n / d; d must not be zero (every divisor here is a constant).
#[inline(always)]
pub fn divrem_u128_u64(n: u128, d: u64) -> (u128, u64) {
    let hi = (n >> 64) as u64;
    let lo = n as u64;
    if hi == 0 {
        return ((lo / d) as u128, lo % d);
    }
    let q_hi = hi / d;
    let mut rem = 0u64;
    let q_lo = div_2by1(hi % d, lo, d, &mut rem);
    (((q_hi as u128) << 64) | q_lo as u128, rem)
}

/// (u1 · 2^64 + u0) / v for u1 < v, so the quotient fits 64 bits: long division in 32-bit digits
/// after normalising v (Knuth's algorithm D, as in Hacker's Delight `divlu`). Remainder in `rem`.
#[inline(never)]
fn div_2by1(u1: u64, u0: u64, v: u64, rem: &mut u64) -> u64 {
    const B: u64 = 1 << 32;
    let s = v.leading_zeros();
    let v = v << s;
    let vn1 = v >> 32;
    let vn0 = v & LOW32;
    // With s = 0 the shift of u0 by 64 would overflow: the high part then is u1 itself.
    let un32 = if s == 0 { u1 } else { (u1 << s) | (u0 >> (64 - s)) };
    let un10 = u0 << s;
    let un1 = un10 >> 32;
    let un0 = un10 & LOW32;

    let mut q1 = un32 / vn1;
    let mut rhat = un32 - q1 * vn1;
    while q1 >= B || q1 * vn0 > B * rhat + un1 {
        q1 -= 1;
        rhat += vn1;
        if rhat >= B {
            break;
        }
    }
    // Wrapping on purpose: the true value fits 64 bits, the intermediate terms may not.
    let un21 = un32.wrapping_mul(B).wrapping_add(un1).wrapping_sub(q1.wrapping_mul(v));

    let mut q0 = un21 / vn1;
    rhat = un21 - q0 * vn1;
    while q0 >= B || q0 * vn0 > B * rhat + un0 {
        q0 -= 1;
        rhat += vn1;
        if rhat >= B {
            break;
        }
    }
    *rem = un21.wrapping_mul(B).wrapping_add(un0).wrapping_sub(q0.wrapping_mul(v)) >> s;
    q1 * B + q0
}

/// hi · 2^64 + lo.
#[inline(always)]
fn join(hi: u64, lo: u64) -> u128 {
    ((hi as u128) << 64) | lo as u128
}

/// x >> s for any s (0 from 128 on). Variable 128-bit shifts would call `__lshrti3`.
#[inline(always)]
pub fn shr_u128(x: u128, s: u32) -> u128 {
    let (hi, lo) = ((x >> 64) as u64, x as u64);
    if s == 0 {
        x
    } else if s < 64 {
        join(hi >> s, (lo >> s) | (hi << (64 - s)))
    } else if s < 128 {
        join(0, hi >> (s - 64))
    } else {
        0
    }
}

/// x << s, or `MathOverflow` when a set bit would be shifted out. Avoids `__ashlti3`.
#[track_caller]
#[inline(always)]
pub fn checked_shl_u128(x: u128, s: u32) -> Result<u128, PerpError> {
    if x == 0 || s == 0 {
        return Ok(x);
    }
    if s >= 128 || shr_u128(x, 128 - s) != 0 {
        return Err(overflow());
    }
    let (hi, lo) = ((x >> 64) as u64, x as u64);
    Ok(if s < 64 { join((hi << s) | (lo >> (64 - s)), lo << s) } else { join(lo << (s - 64), 0) })
}

/// ⌊n / d⌋ for a signed n (rounds toward −∞).
#[inline(always)]
pub fn floor_div_i128_u64(n: i128, d: u64) -> i128 {
    let (q, r) = divrem_u128_u64(n.unsigned_abs(), d);
    // |n| < 2^127 and d ≥ 1, so q < 2^127 and the casts below are exact.
    if n >= 0 {
        q as i128
    } else if r == 0 {
        -(q as i128)
    } else {
        -(q as i128) - 1
    }
}

/// a × b for a signed 128-bit a, or `MathOverflow` beyond i128.
#[track_caller]
#[inline(always)]
pub fn checked_mul_i128_u64(a: i128, b: u64) -> Result<i128, PerpError> {
    let m = checked_mul_u128_u64(a.unsigned_abs(), b)?;
    if a >= 0 {
        if m > i128::MAX as u128 {
            return Err(overflow());
        }
        Ok(m as i128)
    } else {
        // −2^127 is the one negative value whose magnitude exceeds i128::MAX.
        if m > (i128::MAX as u128) + 1 {
            return Err(overflow());
        }
        Ok(0i128.wrapping_sub(m as i128))
    }
}

/// a × b for signed a and b of 64 bits and 65 bits (b as i128 within ±(2^64 − 1)): exact, since
/// |a × b| < 2^63 · 2^64 = 2^127.
#[inline(always)]
pub fn mul_i64_i128(a: i64, b: i128) -> i128 {
    let magnitude = b.unsigned_abs();
    debug_assert!(magnitude >> 64 == 0);
    let m = mul_u64(a.unsigned_abs(), magnitude as u64);
    if (a < 0) != (b < 0) {
        -(m as i128)
    } else {
        m as i128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// Values biased toward edges: small, near powers of two, full range.
        fn edgy(&mut self) -> u64 {
            match self.next() % 5 {
                0 => self.next() % 1000,
                1 => 1u64 << (self.next() % 64),
                2 => (1u64 << (self.next() % 64)).wrapping_sub(1),
                3 => u64::MAX - self.next() % 1000,
                _ => self.next(),
            }
        }
    }

    const EDGES: [u64; 9] = [0, 1, 2, 3, 10, LOW32, LOW32 + 1, u64::MAX - 1, u64::MAX];

    #[test]
    fn mul_u64_matches_native() {
        for &a in &EDGES {
            for &b in &EDGES {
                assert_eq!(mul_u64(a, b), a as u128 * b as u128, "{a} × {b}");
            }
        }
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200_000 {
            let (a, b) = (r.edgy(), r.edgy());
            assert_eq!(mul_u64(a, b), a as u128 * b as u128, "{a} × {b}");
        }
    }

    #[test]
    fn divrem_matches_native() {
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..200_000 {
            let n = ((r.edgy() as u128) << 64) | r.edgy() as u128;
            let n = if r.next() % 4 == 0 { n >> (r.next() % 128) } else { n };
            let d = r.edgy().max(1);
            let (q, rem) = divrem_u128_u64(n, d);
            assert_eq!(q, n / d as u128, "{n} / {d}");
            assert_eq!(rem as u128, n % d as u128, "{n} % {d}");
        }
        for &d in &EDGES[1..] {
            for n in [0u128, 1, u64::MAX as u128, u64::MAX as u128 + 1, u128::MAX, u128::MAX - 1, (d as u128) << 64] {
                assert_eq!(divrem_u128_u64(n, d), (n / d as u128, (n % d as u128) as u64), "{n} / {d}");
            }
        }
    }

    #[test]
    fn wide_products_compare_exactly() {
        use core::cmp::Ordering::*;
        assert_eq!(mul_u128_u64_wide(u128::MAX, u64::MAX), (u64::MAX - 1, (u128::MAX - u64::MAX as u128) + 1));
        assert_eq!(mul_u128_u64_wide(1 << 127, 4), (2, 0));
        assert_eq!(cmp_products(u128::MAX, 10_000, u128::MAX, 9_999), Greater);
        assert_eq!(cmp_products(u128::MAX / 2, 2, u128::MAX, 1), Less);
        assert_eq!(cmp_products(3, 7, 7, 3), Equal);
        let mut r = Rng(99);
        for _ in 0..20_000 {
            let (a, b) = ((r.edgy() as u128) >> (r.next() % 64), (r.edgy() as u128) >> (r.next() % 64));
            let (m, n) = (r.next() % 20_000, r.next() % 20_000);
            assert_eq!(cmp_products(a, m, b, n), (a * m as u128).cmp(&(b * n as u128)), "{a}×{m} vs {b}×{n}");
        }
    }

    #[test]
    fn floor_division_rounds_toward_negative_infinity() {
        assert_eq!(floor_div_i128_u64(7, 2), 3);
        assert_eq!(floor_div_i128_u64(-7, 2), -4);
        assert_eq!(floor_div_i128_u64(-8, 2), -4);
        assert_eq!(floor_div_i128_u64(0, 5), 0);
        assert_eq!(floor_div_i128_u64(-1, 1_000_000_000_000), -1);
        assert_eq!(floor_div_i128_u64(i128::MIN + 1, 1), i128::MIN + 1);
    }

    #[test]
    fn checked_products_report_overflow() {
        assert_eq!(checked_mul_u64(u64::MAX, 1), Ok(u64::MAX));
        assert_eq!(checked_mul_u64(1 << 32, 1 << 32), Err(PerpError::MathOverflow));
        assert_eq!(checked_mul_u128_u64(u128::MAX, 1), Ok(u128::MAX));
        assert_eq!(checked_mul_u128_u64(u128::MAX, 2), Err(PerpError::MathOverflow));
        assert_eq!(checked_mul_u128_u64(1 << 100, 1 << 27), Ok(1 << 127));
        assert_eq!(checked_mul_u128_u64(1 << 100, 1 << 28), Err(PerpError::MathOverflow));
        assert_eq!(checked_mul_i128_u64(-(1 << 100), 1 << 27), Ok(i128::MIN));
        assert_eq!(checked_mul_i128_u64(1 << 100, 1 << 27), Err(PerpError::MathOverflow));
        assert_eq!(checked_mul_i128_u64(-5, 7), Ok(-35));
        let mut r = Rng(77);
        for _ in 0..50_000 {
            let a = (((r.next() as u128) << 64 | r.next() as u128) >> (r.next() % 128)) as i128;
            let a = if r.next() % 2 == 0 { a } else { -a };
            let b = r.edgy();
            assert_eq!(checked_mul_i128_u64(a, b).ok(), a.checked_mul(b as i128), "{a} × {b}");
        }
    }

    #[test]
    fn variable_shifts_match_native() {
        let mut r = Rng(5);
        for _ in 0..50_000 {
            let x = ((r.edgy() as u128) << 64) | r.edgy() as u128;
            let s = (r.next() % 140) as u32;
            assert_eq!(shr_u128(x, s), if s < 128 { x >> s } else { 0 }, "{x} >> {s}");
            let expected = if s < 128 && (x == 0 || x.leading_zeros() >= s) { Ok(x << s) } else if x == 0 { Ok(0) } else { Err(PerpError::MathOverflow) };
            assert_eq!(checked_shl_u128(x, s), expected, "{x} << {s}");
        }
    }

    #[test]
    fn signed_product_is_exact() {
        assert_eq!(mul_i64_i128(i64::MIN, -(u64::MAX as i128)), (1i128 << 63) * u64::MAX as i128);
        assert_eq!(mul_i64_i128(-3, 5), -15);
        assert_eq!(mul_i64_i128(3, -5), -15);
        assert_eq!(mul_i64_i128(-3, -5), 15);
        assert_eq!(mul_i64_i128(0, -5), 0);
    }
}
