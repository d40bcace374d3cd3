//! Every scale the program uses, with its exponent. The same names and values live in
//! `domain/decimal.ts`.

/// Quote (USDC-like collateral) amounts: 10^-6 USD.
pub const QUOTE_DECIMALS: u32 = 6;
/// Position sizes: 10^-9 base units (signed: long > 0, short < 0).
pub const BASE_DECIMALS: u32 = 9;
/// Prices in margin math: 10^-9 USD per base unit.
pub const PRICE_DECIMALS: u32 = 9;
/// size × price / NOTIONAL_DIVISOR is a quote amount: 10^(9 + 9 - 6).
pub const NOTIONAL_DIVISOR: u64 = 1_000_000_000_000;
/// Basis points in one.
pub const BPS_DENOMINATOR: u64 = 10_000;

/// 10^0 ..= 10^19, every power of ten a u64 holds.
pub const POW10: [u64; 20] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
    10_000_000_000_000_000_000,
];
