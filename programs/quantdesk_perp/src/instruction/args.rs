//! Instruction arguments, each declared once (the IDL's `args` and `types` come from here).

use super::{Args, Reader};
use crate::error::PerpError;
use crate::oracle::PriceData;

instruction_args! {
    pub struct InitializeArgs {
        /// The only signer `update_oracle_price` accepts.
        oracle_authority: Pubkey,
        /// The owner a PriceUpdateV2 account must have (Pyth's receiver program).
        pyth_receiver: Pubkey,
        /// Ceiling on every market's liquidation fee, basis points of notional.
        max_keeper_fee_bps: u16,
    }
}

borsh_struct! {
    /// A market's bounds, as config/markets.json states them (validation + margin).
    pub struct MarketParams {
        expo_min: i32,
        expo_max: i32,
        max_future_skew_sec: u32,
        /// The display age: a last good price older than this no longer anchors the sanity band.
        max_age_display_sec: u32,
        max_age_push_sec: u32,
        max_age_margin_sec: u32,
        max_age_liquidation_sec: u32,
        max_conf_push_bps: u16,
        max_conf_margin_bps: u16,
        max_conf_liquidation_bps: u16,
        initial_margin_bps: u16,
        maintenance_margin_bps: u16,
        liquidation_fee_bps: u16,
        /// Largest move of a Pyth price against the last good price that margin and liquidation accept.
        sanity_band_bps: u16,
        /// Largest distance of a Pyth price from its EMA price that margin and liquidation accept.
        ema_band_bps: u16,
        /// A partial liquidation restores maintenance margin plus this buffer.
        liquidation_buffer_bps: u16,
        /// The insurance fund's share of every liquidation fee; the keeper gets the rest.
        insurance_fee_share_bps: u16,
        /// A remainder whose notional would be below this (quote units) is liquidated too.
        min_position_notional: u64,
        /// Whether anyone may liquidate once `permissionless_after_slots` passed without a registered keeper.
        permissionless_liquidation: bool,
        permissionless_after_slots: u64,
    }
}

/// Pyth's widest exponent range, which `domain/` also uses; markets may narrow it.
pub const EXPO_LIMITS: (i32, i32) = (-18, 0);
/// A day: no bound on price age or clock skew is meant to exceed it.
pub const MAX_SECONDS_BOUND: u32 = 86_400;

impl MarketParams {
    /// The rules of `domain/markets.ts`: exponents within Pyth's range, ages positive and at most a
    /// day, bounds not growing from display to push to margin to liquidation, initial ≥
    /// maintenance > fee, bands, maintenance + liquidation buffer and the insurance share within
    /// 100 %. The fee must also stay within the config's ceiling.
    pub fn validate(&self, max_keeper_fee_bps: u16) -> Result<(), PerpError> {
        let bps_ok = |b: u16| b as u64 <= 10_000;
        let age_ok = |s: u32| s >= 1 && s <= MAX_SECONDS_BOUND;
        let ok = self.expo_min >= EXPO_LIMITS.0
            && self.expo_max <= EXPO_LIMITS.1
            && self.expo_min <= self.expo_max
            && self.max_future_skew_sec <= 300
            && age_ok(self.max_age_display_sec)
            && self.max_age_display_sec >= self.max_age_push_sec
            && age_ok(self.max_age_push_sec)
            && age_ok(self.max_age_margin_sec)
            && age_ok(self.max_age_liquidation_sec)
            && self.max_age_push_sec >= self.max_age_margin_sec
            && self.max_age_margin_sec >= self.max_age_liquidation_sec
            && bps_ok(self.max_conf_push_bps)
            && self.max_conf_push_bps >= self.max_conf_margin_bps
            && self.max_conf_margin_bps >= self.max_conf_liquidation_bps
            && bps_ok(self.initial_margin_bps)
            && self.maintenance_margin_bps >= 1
            && self.initial_margin_bps >= self.maintenance_margin_bps
            && self.liquidation_fee_bps < self.maintenance_margin_bps
            && self.liquidation_fee_bps <= max_keeper_fee_bps
            && bps_ok(self.sanity_band_bps)
            && bps_ok(self.ema_band_bps)
            && self.maintenance_margin_bps as u64 + self.liquidation_buffer_bps as u64 <= 10_000
            && bps_ok(self.insurance_fee_share_bps);
        if !ok {
            return Err(PerpError::InvalidMarketParams);
        }
        Ok(())
    }
}

instruction_args! {
    pub struct CreateMarketArgs {
        /// ASCII, upper case, zero-padded; the market's PDA seed is the part before the padding.
        symbol: [u8; 16],
        /// Pyth price feed id.
        feed_id: [u8; 32],
        params: MarketParams,
    }
}

/// The symbol's length without padding, when it is 1..=16 characters of A–Z, 0–9 or '-' followed
/// only by zero bytes.
pub fn symbol_len(symbol: &[u8; 16]) -> Result<usize, PerpError> {
    let len = symbol.iter().position(|b| *b == 0).unwrap_or(16);
    let valid = len > 0
        && symbol[..len].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'-')
        && symbol[len..].iter().all(|b| *b == 0);
    if !valid {
        return Err(PerpError::InvalidSymbol);
    }
    Ok(len)
}

borsh_struct! {
    /// price × 10^expo ± conf × 10^expo, published at publish_time (Unix seconds).
    pub struct PriceInput {
        price: i64,
        conf: u64,
        expo: i32,
        publish_time: i64,
    }
}

/// Most markets one `update_oracle_price` may carry (a legacy transaction fits about 20).
pub const MAX_PRICE_UPDATES: usize = 32;

/// `update_oracle_price` arguments: a Borsh `Vec<PriceInput>` (u32 count, then the items), read
/// lazily so a batch costs no copy.
pub struct PriceUpdates<'a> {
    items: &'a [u8],
    pub count: usize,
}

impl<'a> Args<'a> for PriceUpdates<'a> {
    #[inline(always)]
    fn decode(r: &mut Reader<'a>) -> Result<Self, PerpError> {
        let count = r.u32()? as usize;
        let items = r.remaining();
        if count == 0 || count > MAX_PRICE_UPDATES {
            return Err(PerpError::InvalidBatch);
        }
        let len = count * PriceInput::LEN;
        if items.len() < len {
            return Err(PerpError::InstructionDataTooShort);
        }
        if items.len() > len {
            return Err(PerpError::InstructionDataTooLong);
        }
        Ok(PriceUpdates { items, count })
    }

    #[cfg(test)]
    const IDL: &'static [crate::idl::IdlField] = &[crate::idl::IdlField { name: "updates", docs: &[], ty: crate::idl::IdlType::Vec("PriceInput") }];
}

impl PriceUpdates<'_> {
    /// The i-th update; i < count.
    #[inline(always)]
    pub fn get(&self, i: usize) -> Result<PriceData, PerpError> {
        let start = i * PriceInput::LEN;
        let p = PriceInput::read(&mut Reader::new(&self.items[start..start + PriceInput::LEN]))?;
        Ok(PriceData { price: p.price, conf: p.conf, expo: p.expo, publish_time: p.publish_time })
    }
}

instruction_args! {
    pub struct SetMarketOracleArgs {
        /// The Pyth PriceUpdateV2 account the market trusts (Pyth's sponsored feed account on a real cluster); all zeros unpins.
        oracle: Pubkey,
    }
}

instruction_args! {
    pub struct InitializeKeeperNetworkArgs {
        /// Least stake `register_keeper` accepts, quote units (at least 1).
        min_keeper_stake: u64,
        /// Slots between `deregister_keeper` and `withdraw_keeper_stake`.
        keeper_cooldown_slots: u64,
    }
}

instruction_args! {
    pub struct RegisterKeeperArgs {
        /// Quote units to lock, at least the config's minimum.
        stake: u64,
    }
}

instruction_args! {
    /// A collateral amount in quote units (10^-6).
    pub struct AmountArgs {
        amount: u64,
    }
}

instruction_args! {
    pub struct OpenPositionArgs {
        /// Base units (10^-9); negative for a short.
        size: i64,
    }
}

/// No arguments: the data is the discriminator alone.
pub struct NoArgs;

impl<'a> Args<'a> for NoArgs {
    #[inline(always)]
    fn decode(r: &mut Reader<'a>) -> Result<Self, PerpError> {
        r.finish()?;
        Ok(NoArgs)
    }

    #[cfg(test)]
    const IDL: &'static [crate::idl::IdlField] = &[];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_upper_case_and_zero_padded() {
        let mut s = [0u8; 16];
        s[..8].copy_from_slice(b"SOL-PERP");
        assert_eq!(symbol_len(&s), Ok(8));
        assert_eq!(symbol_len(&[0; 16]), Err(PerpError::InvalidSymbol));
        s[10] = b'X';
        assert_eq!(symbol_len(&s), Err(PerpError::InvalidSymbol));
        let mut lower = [0u8; 16];
        lower[..3].copy_from_slice(b"sol");
        assert_eq!(symbol_len(&lower), Err(PerpError::InvalidSymbol));
        assert_eq!(symbol_len(b"ABCDEFGHIJ-PERP1"), Ok(16));
    }

    fn sol_perp() -> MarketParams {
        MarketParams {
            expo_min: -18,
            expo_max: 0,
            max_future_skew_sec: 5,
            max_age_display_sec: 60,
            max_age_push_sec: 30,
            max_age_margin_sec: 20,
            max_age_liquidation_sec: 10,
            max_conf_push_bps: 100,
            max_conf_margin_bps: 75,
            max_conf_liquidation_bps: 50,
            initial_margin_bps: 1000,
            maintenance_margin_bps: 500,
            liquidation_fee_bps: 100,
            sanity_band_bps: 1000,
            ema_band_bps: 2000,
            liquidation_buffer_bps: 200,
            insurance_fee_share_bps: 2500,
            min_position_notional: 10_000_000,
            permissionless_liquidation: true,
            permissionless_after_slots: 150,
        }
    }

    #[test]
    fn market_params_follow_the_registry_rules() {
        assert_eq!(sol_perp().validate(100), Ok(()));
        assert_eq!(sol_perp().validate(99), Err(PerpError::InvalidMarketParams));
        let bad = [
            MarketParams { expo_min: -19, ..sol_perp() },
            MarketParams { expo_max: 1, ..sol_perp() },
            MarketParams { expo_min: -2, expo_max: -3, ..sol_perp() },
            MarketParams { max_age_liquidation_sec: 0, ..sol_perp() },
            MarketParams { max_age_margin_sec: 31, ..sol_perp() },
            MarketParams { max_conf_liquidation_bps: 76, ..sol_perp() },
            MarketParams { maintenance_margin_bps: 1001, ..sol_perp() },
            MarketParams { liquidation_fee_bps: 500, ..sol_perp() },
            MarketParams { initial_margin_bps: 10_001, ..sol_perp() },
            MarketParams { max_age_display_sec: 29, ..sol_perp() },
            MarketParams { sanity_band_bps: 10_001, ..sol_perp() },
            MarketParams { ema_band_bps: 10_001, ..sol_perp() },
            MarketParams { liquidation_buffer_bps: 9_501, ..sol_perp() },
            MarketParams { insurance_fee_share_bps: 10_001, ..sol_perp() },
        ];
        for p in bad {
            assert_eq!(p.validate(10_000), Err(PerpError::InvalidMarketParams), "{p:?}");
        }
    }

    #[test]
    fn arguments_round_trip_through_borsh() {
        let p = sol_perp();
        let mut buf = [0u8; MarketParams::LEN];
        p.write(&mut super::super::Writer::new(&mut buf));
        assert_eq!(MarketParams::read(&mut Reader::new(&buf)), Ok(p));
        assert_eq!(MarketParams::LEN, 65);
        assert_eq!(PriceInput::LEN, 28);
        assert_eq!(CreateMarketArgs::LEN, 16 + 32 + 65);
    }
}
