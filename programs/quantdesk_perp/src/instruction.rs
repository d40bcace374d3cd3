//! Instruction data: an 8-byte discriminator (Anchor's sha256("global:<name>")[..8], stated in
//! the IDL) followed by Borsh-encoded arguments. Decoding is exact: missing bytes and bytes left
//! over are both errors.

use crate::error::PerpError;
use crate::oracle::PriceData;
use crate::{LeField, Pubkey};

pub const INITIALIZE: [u8; 8] = [175, 175, 109, 31, 13, 152, 155, 237];
pub const CREATE_MARKET: [u8; 8] = [103, 226, 97, 235, 200, 188, 251, 254];
pub const UPDATE_ORACLE_PRICE: [u8; 8] = [14, 35, 163, 150, 65, 116, 149, 154];
pub const DEPOSIT: [u8; 8] = [242, 35, 198, 137, 82, 225, 242, 182];
pub const WITHDRAW: [u8; 8] = [183, 18, 70, 156, 148, 109, 161, 34];
pub const OPEN_POSITION: [u8; 8] = [135, 128, 47, 77, 15, 152, 240, 49];
pub const CLOSE_POSITION: [u8; 8] = [123, 134, 81, 0, 49, 68, 98, 98];
pub const LIQUIDATE: [u8; 8] = [223, 179, 226, 125, 48, 46, 39, 74];

/// Most markets one `update_oracle_price` may carry (a legacy transaction fits about 20).
pub const MAX_PRICE_UPDATES: usize = 32;
/// Bytes per price update: price i64, conf u64, expo i32, publish_time i64.
pub const PRICE_UPDATE_LEN: usize = 28;

/// A cursor over Borsh-encoded arguments.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// The next N bytes, in place.
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Result<&'a [u8; N], PerpError> {
        let end = self.pos + N;
        if end > self.data.len() {
            return Err(PerpError::InstructionDataTooShort);
        }
        // SAFETY: pos + N ≤ len, so the N bytes lie within `data`, borrowed for 'a.
        let bytes = unsafe { &*(self.data.as_ptr().add(self.pos) as *const [u8; N]) };
        self.pos = end;
        Ok(bytes)
    }

    #[inline(always)]
    pub fn u16(&mut self) -> Result<u16, PerpError> {
        Ok(u16::get(self.take()?))
    }
    #[inline(always)]
    pub fn u32(&mut self) -> Result<u32, PerpError> {
        Ok(u32::get(self.take()?))
    }
    #[inline(always)]
    pub fn i32(&mut self) -> Result<i32, PerpError> {
        Ok(i32::get(self.take()?))
    }
    #[inline(always)]
    pub fn u64(&mut self) -> Result<u64, PerpError> {
        Ok(u64::get(self.take()?))
    }
    #[inline(always)]
    pub fn i64(&mut self) -> Result<i64, PerpError> {
        Ok(i64::get(self.take()?))
    }
    #[inline(always)]
    pub fn bytes16(&mut self) -> Result<[u8; 16], PerpError> {
        Ok(*self.take()?)
    }
    #[inline(always)]
    pub fn pubkey(&mut self) -> Result<Pubkey, PerpError> {
        Ok(*self.take()?)
    }

    /// The rest, unread.
    #[inline(always)]
    pub fn remaining(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// Fails when bytes are left over.
    #[inline(always)]
    pub fn finish(&self) -> Result<(), PerpError> {
        if self.pos != self.data.len() {
            return Err(PerpError::InstructionDataTooLong);
        }
        Ok(())
    }
}

/// Splits off the discriminator.
#[inline(always)]
pub fn split_discriminator(data: &[u8]) -> Result<(u64, Reader<'_>), PerpError> {
    let mut r = Reader::new(data);
    let discriminator = r.u64().map_err(|_| PerpError::UnknownInstruction)?;
    Ok((discriminator, Reader::new(r.remaining())))
}

/// `initialize` arguments.
pub struct InitializeArgs {
    pub oracle_authority: Pubkey,
    pub pyth_receiver: Pubkey,
    pub max_keeper_fee_bps: u16,
}

impl InitializeArgs {
    #[inline(always)]
    pub fn decode(r: &mut Reader) -> Result<Self, PerpError> {
        let args = InitializeArgs { oracle_authority: r.pubkey()?, pyth_receiver: r.pubkey()?, max_keeper_fee_bps: r.u16()? };
        r.finish()?;
        Ok(args)
    }
}

/// A market's bounds, as `create_market` takes them (the IDL type `MarketParams`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketParams {
    pub expo_min: i32,
    pub expo_max: i32,
    pub max_future_skew_sec: u32,
    pub max_age_push_sec: u32,
    pub max_age_margin_sec: u32,
    pub max_age_liquidation_sec: u32,
    pub max_conf_push_bps: u16,
    pub max_conf_margin_bps: u16,
    pub max_conf_liquidation_bps: u16,
    pub initial_margin_bps: u16,
    pub maintenance_margin_bps: u16,
    pub liquidation_fee_bps: u16,
}

/// Pyth's widest exponent range, which `domain/` also uses; markets may narrow it.
pub const EXPO_LIMITS: (i32, i32) = (-18, 0);
/// A day: no bound on price age or clock skew is meant to exceed it.
pub const MAX_SECONDS_BOUND: u32 = 86_400;

impl MarketParams {
    /// The rules of `domain/markets.ts`: exponents within Pyth's range, ages positive and at most a
    /// day, bounds not growing from push to margin to liquidation, initial ≥ maintenance > fee.
    /// The fee must also stay within the config's ceiling.
    pub fn validate(&self, max_keeper_fee_bps: u16) -> Result<(), PerpError> {
        let bps_ok = |b: u16| b as u64 <= 10_000;
        let age_ok = |s: u32| s >= 1 && s <= MAX_SECONDS_BOUND;
        let ok = self.expo_min >= EXPO_LIMITS.0
            && self.expo_max <= EXPO_LIMITS.1
            && self.expo_min <= self.expo_max
            && self.max_future_skew_sec <= 300
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
            && self.liquidation_fee_bps <= max_keeper_fee_bps;
        if !ok {
            return Err(PerpError::InvalidMarketParams);
        }
        Ok(())
    }
}

/// `create_market` arguments.
pub struct CreateMarketArgs {
    pub symbol: [u8; 16],
    pub feed_id: [u8; 32],
    pub params: MarketParams,
}

impl CreateMarketArgs {
    #[inline(always)]
    pub fn decode(r: &mut Reader) -> Result<Self, PerpError> {
        let args = CreateMarketArgs {
            symbol: r.bytes16()?,
            feed_id: r.pubkey()?,
            params: MarketParams {
                expo_min: r.i32()?,
                expo_max: r.i32()?,
                max_future_skew_sec: r.u32()?,
                max_age_push_sec: r.u32()?,
                max_age_margin_sec: r.u32()?,
                max_age_liquidation_sec: r.u32()?,
                max_conf_push_bps: r.u16()?,
                max_conf_margin_bps: r.u16()?,
                max_conf_liquidation_bps: r.u16()?,
                initial_margin_bps: r.u16()?,
                maintenance_margin_bps: r.u16()?,
                liquidation_fee_bps: r.u16()?,
            },
        };
        r.finish()?;
        Ok(args)
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

/// `update_oracle_price` arguments: a Borsh `Vec<PriceInput>` (u32 count, then the items), read
/// lazily so a batch costs no copy.
pub struct PriceUpdates<'a> {
    items: &'a [u8],
    pub count: usize,
}

impl<'a> PriceUpdates<'a> {
    #[inline(always)]
    pub fn decode(r: &mut Reader<'a>) -> Result<Self, PerpError> {
        let count = r.u32()? as usize;
        let items = r.remaining();
        if count == 0 || count > MAX_PRICE_UPDATES {
            return Err(PerpError::InvalidBatch);
        }
        let len = count * PRICE_UPDATE_LEN;
        if items.len() < len {
            return Err(PerpError::InstructionDataTooShort);
        }
        if items.len() > len {
            return Err(PerpError::InstructionDataTooLong);
        }
        Ok(PriceUpdates { items, count })
    }

    /// The i-th update; i < count.
    #[inline(always)]
    pub fn get(&self, i: usize) -> Result<PriceData, PerpError> {
        let start = i * PRICE_UPDATE_LEN;
        let mut r = Reader::new(&self.items[start..start + PRICE_UPDATE_LEN]);
        Ok(PriceData { price: r.i64()?, conf: r.u64()?, expo: r.i32()?, publish_time: r.i64()? })
    }
}

/// A single u64 or i64 argument (`deposit`, `withdraw`, `open_position`).
#[inline(always)]
pub fn decode_u64(r: &mut Reader) -> Result<u64, PerpError> {
    let v = r.u64()?;
    r.finish()?;
    Ok(v)
}

#[inline(always)]
pub fn decode_i64(r: &mut Reader) -> Result<i64, PerpError> {
    let v = r.i64()?;
    r.finish()?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_is_exact() {
        let mut data = DEPOSIT.to_vec();
        data.extend(5u64.to_le_bytes());
        let (d, mut r) = split_discriminator(&data).unwrap();
        assert_eq!(d, u64::from_le_bytes(DEPOSIT));
        assert_eq!(decode_u64(&mut r), Ok(5));
        let (_, mut r) = split_discriminator(&data[..15]).unwrap();
        assert_eq!(decode_u64(&mut r), Err(PerpError::InstructionDataTooShort));
        data.push(0);
        let (_, mut r) = split_discriminator(&data).unwrap();
        assert_eq!(decode_u64(&mut r), Err(PerpError::InstructionDataTooLong));
        assert_eq!(split_discriminator(&data[..7]).err(), Some(PerpError::UnknownInstruction));
    }

    #[test]
    fn price_batches_must_match_their_count() {
        let mut data = 2u32.to_le_bytes().to_vec();
        for i in 0..2i64 {
            data.extend((100 + i).to_le_bytes());
            data.extend(1u64.to_le_bytes());
            data.extend((-8i32).to_le_bytes());
            data.extend((1_000 + i).to_le_bytes());
        }
        let u = PriceUpdates::decode(&mut Reader::new(&data)).unwrap();
        assert_eq!(u.count, 2);
        assert_eq!(u.get(1), Ok(PriceData { price: 101, conf: 1, expo: -8, publish_time: 1_001 }));
        assert_eq!(PriceUpdates::decode(&mut Reader::new(&data[..data.len() - 1])).err(), Some(PerpError::InstructionDataTooShort));
        let mut long = data.clone();
        long.push(1);
        assert_eq!(PriceUpdates::decode(&mut Reader::new(&long)).err(), Some(PerpError::InstructionDataTooLong));
        assert_eq!(PriceUpdates::decode(&mut Reader::new(&0u32.to_le_bytes())).err(), Some(PerpError::InvalidBatch));
        assert_eq!(PriceUpdates::decode(&mut Reader::new(&33u32.to_le_bytes())).err(), Some(PerpError::InvalidBatch));
    }

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
            max_age_push_sec: 30,
            max_age_margin_sec: 20,
            max_age_liquidation_sec: 10,
            max_conf_push_bps: 100,
            max_conf_margin_bps: 75,
            max_conf_liquidation_bps: 50,
            initial_margin_bps: 1000,
            maintenance_margin_bps: 500,
            liquidation_fee_bps: 100,
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
        ];
        for p in bad {
            assert_eq!(p.validate(10_000), Err(PerpError::InvalidMarketParams), "{p:?}");
        }
    }
}
