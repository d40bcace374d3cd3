//! Events, logged as Anchor does (`Program data: <base64>` of sha256("event:<Name>")[..8] and the
//! Borsh fields), so the backend decodes them with the IDL's coder (`parsePerpEvents` in the
//! TypeScript client). Declared once; the IDL's `events` and their types are generated from here.

event! {
    /// One liquidation, partial or full.
    pub struct LiquidationEvent {
        market: Pubkey,
        position: Pubkey,
        /// The position's owner.
        owner: Pubkey,
        /// The signer that liquidated.
        keeper: Pubkey,
        /// Whether the signer is a registered keeper (else the market's permissionless fallback applied).
        registered_keeper: bool,
        /// The whole position went.
        full: bool,
        /// Base units, signed like the position.
        size_liquidated: i64,
        remaining_size: i64,
        /// The liquidation price, 10^-9 USD per base unit.
        price: u64,
        /// Publish time of the price used.
        publish_time: i64,
        /// 0 the pushed price, 1 the pinned Pyth account.
        price_source: u8,
        /// Quote units.
        notional_liquidated: u64,
        realized_pnl: i64,
        keeper_fee: u64,
        insurance_fee: u64,
        /// Loss beyond collateral paid by the insurance fund.
        insurance_cover: u64,
        /// Loss beyond collateral the insurance fund could not pay.
        bad_debt: u64,
        remaining_collateral: u64,
        slot: u64,
    }
}

event! {
    /// A liquidator that is not a registered keeper found the position liquidatable for the first time: nothing was liquidated, and anyone may from `eligible_slot` on (unless a registered keeper acts first).
    pub struct LiquidationDeferred {
        market: Pubkey,
        position: Pubkey,
        liquidator: Pubkey,
        price: u64,
        publish_time: i64,
        seen_slot: u64,
        eligible_slot: u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruction::Writer;

    #[test]
    fn events_have_anchor_discriminators_and_fixed_lengths() {
        assert_eq!(LiquidationEvent::DISCRIMINATOR, crate::sha256::discriminator("event:LiquidationEvent"));
        assert_eq!(LiquidationEvent::LEN, 4 * 32 + 2 + 8 + 8 + 8 + 8 + 1 + 8 * 8);
        assert_eq!(LiquidationDeferred::LEN, 3 * 32 + 4 * 8);
        let e = LiquidationDeferred { market: [1; 32], position: [2; 32], liquidator: [3; 32], price: 4, publish_time: -5, seen_slot: 6, eligible_slot: 7 };
        let mut buf = [0u8; LiquidationDeferred::LEN];
        let mut w = Writer::new(&mut buf);
        e.write(&mut w);
        assert_eq!(w.written(), LiquidationDeferred::LEN);
        assert_eq!(&buf[96..104], &4u64.to_le_bytes());
        assert_eq!(&buf[104..112], &(-5i64).to_le_bytes());
    }
}
