//! Reader for the Pyth receiver's `PriceUpdateV2` account (layout from the IDL published in npm
//! `@pythnetwork/pyth-solana-receiver`):
//!   discriminator [u8; 8]            sha256("account:PriceUpdateV2")[..8]
//!   write_authority Pubkey
//!   verification_level enum          Partial { num_signatures: u8 } = 0, n  |  Full = 1
//!   price_message PriceFeedMessage   feed_id [u8; 32], price i64, conf u64, exponent i32,
//!                                    publish_time i64, prev_publish_time i64, ema_price i64, ema_conf u64
//!   posted_slot u64
//! The enum's length varies, so the message starts at offset 41 (Full) or 42 (Partial).

use super::PriceData;
use crate::error::PerpError;
use crate::Pubkey;

pub const PRICE_UPDATE_V2_DISCRIMINATOR: [u8; 8] = [34, 241, 35, 99, 157, 126, 244, 205];

const VERIFICATION_LEVEL_OFFSET: usize = 8 + 32;
const PARTIAL: u8 = 0;
const FULL: u8 = 1;
/// feed id, price, conf, exponent, publish time, previous publish time, EMA price, EMA conf.
const MESSAGE_LEN: usize = 32 + 8 + 8 + 4 + 8 + 8 + 8 + 8;
/// Length of a fully verified update: discriminator, authority, tag, message, posted slot.
pub const FULL_UPDATE_LEN: usize = VERIFICATION_LEVEL_OFFSET + 1 + MESSAGE_LEN + 8;

/// The fields of a fully verified update that price resolution uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PythPrice {
    pub feed_id: Pubkey,
    pub price: PriceData,
    /// At the price's exponent; the EMA band is measured from it.
    pub ema_price: i64,
    pub posted_slot: u64,
}

#[inline(always)]
fn bytes<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = data[at + i];
        i += 1;
    }
    out
}

/// Reads a `PriceUpdateV2`. Errors: `PythInvalidAccount` (too short, wrong discriminator, unknown
/// verification level), `PythNotFullyVerified` (Partial). The caller checks the owner and feed id.
#[inline(always)]
pub fn read_price_update_v2(data: &[u8]) -> Result<PythPrice, PerpError> {
    if data.len() <= VERIFICATION_LEVEL_OFFSET {
        return Err(PerpError::PythInvalidAccount);
    }
    let discriminator: [u8; 8] = bytes(data, 0);
    if u64::from_le_bytes(discriminator) != u64::from_le_bytes(PRICE_UPDATE_V2_DISCRIMINATOR) {
        return Err(PerpError::PythInvalidAccount);
    }
    match data[VERIFICATION_LEVEL_OFFSET] {
        FULL => {}
        PARTIAL => return Err(PerpError::PythNotFullyVerified),
        _ => return Err(PerpError::PythInvalidAccount),
    }
    if data.len() < FULL_UPDATE_LEN {
        return Err(PerpError::PythInvalidAccount);
    }
    let m = VERIFICATION_LEVEL_OFFSET + 1;
    Ok(PythPrice {
        feed_id: bytes(data, m),
        price: PriceData {
            price: i64::from_le_bytes(bytes(data, m + 32)),
            conf: u64::from_le_bytes(bytes(data, m + 40)),
            expo: i32::from_le_bytes(bytes(data, m + 48)),
            publish_time: i64::from_le_bytes(bytes(data, m + 52)),
        },
        ema_price: i64::from_le_bytes(bytes(data, m + 68)),
        posted_slot: u64::from_le_bytes(bytes(data, m + MESSAGE_LEN)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes an update the way the receiver's IDL lays it out (134 bytes, the size the receiver
    /// allocates, so a Full update carries one unused trailing byte).
    fn encode(level: &[u8], feed: u8, price: i64, conf: u64, expo: i32, publish_time: i64, slot: u64) -> Vec<u8> {
        let mut d = PRICE_UPDATE_V2_DISCRIMINATOR.to_vec();
        d.extend([7u8; 32]);
        d.extend(level);
        d.extend([feed; 32]);
        d.extend(price.to_le_bytes());
        d.extend(conf.to_le_bytes());
        d.extend(expo.to_le_bytes());
        d.extend(publish_time.to_le_bytes());
        d.extend((publish_time - 1).to_le_bytes());
        d.extend((price + 5).to_le_bytes());
        d.extend(conf.to_le_bytes());
        d.extend(slot.to_le_bytes());
        d.resize(134, 0);
        d
    }

    #[test]
    fn reads_a_full_update() {
        let d = encode(&[1], 9, 15_000_000_000, 1_500_000, -8, 1_800_000_000, 42);
        let p = read_price_update_v2(&d).unwrap();
        assert_eq!(p.feed_id, [9; 32]);
        assert_eq!(p.price, PriceData { price: 15_000_000_000, conf: 1_500_000, expo: -8, publish_time: 1_800_000_000 });
        assert_eq!(p.ema_price, 15_000_000_005);
        assert_eq!(p.posted_slot, 42);
        assert_eq!(read_price_update_v2(&d[..FULL_UPDATE_LEN]).unwrap(), p);
    }

    #[test]
    fn refuses_partial_unknown_short_and_foreign_accounts() {
        let partial = encode(&[0, 5], 9, 1, 0, -8, 1, 1);
        assert_eq!(read_price_update_v2(&partial), Err(PerpError::PythNotFullyVerified));
        let unknown = encode(&[2], 9, 1, 0, -8, 1, 1);
        assert_eq!(read_price_update_v2(&unknown), Err(PerpError::PythInvalidAccount));
        let full = encode(&[1], 9, 1, 0, -8, 1, 1);
        assert_eq!(read_price_update_v2(&full[..FULL_UPDATE_LEN - 1]), Err(PerpError::PythInvalidAccount));
        assert_eq!(read_price_update_v2(&full[..40]), Err(PerpError::PythInvalidAccount));
        let mut foreign = full.clone();
        foreign[0] ^= 1;
        assert_eq!(read_price_update_v2(&foreign), Err(PerpError::PythInvalidAccount));
    }
}
