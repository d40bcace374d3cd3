use super::{le_field, Account};
use crate::oracle::{Action, Bounds, PriceData};

/// A perpetual market at PDA ["market", symbol without padding]: its Pyth feed, the last price the
/// oracle authority pushed, and the bounds every price and position must meet.
#[repr(C)]
pub struct Market {
    discriminator: [u8; 8],
    /// ASCII, zero-padded ("SOL-PERP").
    symbol: [u8; 16],
    /// Pyth price feed id.
    feed_id: [u8; 32],
    // The pushed price: price × 10^expo ± conf × 10^expo, published at `publish_time` (Unix
    // seconds), stored at `price_slot`. price == 0 means nothing was pushed yet. (Ordered so that
    // every field sits at a multiple of its size: one load or store each.)
    price: [u8; 8],
    conf: [u8; 8],
    publish_time: [u8; 8],
    price_slot: [u8; 8],
    expo: [u8; 4],
    // Bounds, as in config/markets.json ("validation" and "margin").
    expo_min: [u8; 4],
    expo_max: [u8; 4],
    max_future_skew_sec: [u8; 4],
    max_age_push_sec: [u8; 4],
    max_age_margin_sec: [u8; 4],
    max_age_liquidation_sec: [u8; 4],
    max_conf_push_bps: [u8; 2],
    max_conf_margin_bps: [u8; 2],
    max_conf_liquidation_bps: [u8; 2],
    initial_margin_bps: [u8; 2],
    maintenance_margin_bps: [u8; 2],
    liquidation_fee_bps: [u8; 2],
    bump: u8,
}

impl Account for Market {
    const DISCRIMINATOR: [u8; 8] = [219, 190, 213, 55, 0, 227, 198, 154];
}

impl Market {
    #[cfg(test)]
    super::field_offsets!(Market; discriminator, symbol, feed_id, price, conf, publish_time, price_slot, expo, expo_min, expo_max, max_future_skew_sec, max_age_push_sec, max_age_margin_sec, max_age_liquidation_sec, max_conf_push_bps, max_conf_margin_bps, max_conf_liquidation_bps, initial_margin_bps, maintenance_margin_bps, liquidation_fee_bps, bump);

    pub const SEED: &'static [u8] = b"market";

    le_field!(price, set_price, i64);
    le_field!(conf, set_conf, u64);
    le_field!(expo, set_expo, i32);
    le_field!(publish_time, set_publish_time, i64);
    le_field!(price_slot, set_price_slot, u64);
    le_field!(expo_min, set_expo_min, i32);
    le_field!(expo_max, set_expo_max, i32);
    le_field!(max_future_skew_sec, set_max_future_skew_sec, u32);
    le_field!(max_age_push_sec, set_max_age_push_sec, u32);
    le_field!(max_age_margin_sec, set_max_age_margin_sec, u32);
    le_field!(max_age_liquidation_sec, set_max_age_liquidation_sec, u32);
    le_field!(max_conf_push_bps, set_max_conf_push_bps, u16);
    le_field!(max_conf_margin_bps, set_max_conf_margin_bps, u16);
    le_field!(max_conf_liquidation_bps, set_max_conf_liquidation_bps, u16);
    le_field!(initial_margin_bps, set_initial_margin_bps, u16);
    le_field!(maintenance_margin_bps, set_maintenance_margin_bps, u16);
    le_field!(liquidation_fee_bps, set_liquidation_fee_bps, u16);

    #[inline(always)]
    pub fn symbol(&self) -> &[u8; 16] {
        &self.symbol
    }
    #[inline(always)]
    pub fn set_symbol(&mut self, symbol: &[u8; 16]) {
        self.symbol = *symbol;
    }
    #[inline(always)]
    pub fn feed_id(&self) -> &[u8; 32] {
        &self.feed_id
    }
    #[inline(always)]
    pub fn set_feed_id(&mut self, feed_id: &[u8; 32]) {
        self.feed_id = *feed_id;
    }
    #[inline(always)]
    pub fn bump(&self) -> u8 {
        self.bump
    }
    #[inline(always)]
    pub fn set_bump(&mut self, bump: u8) {
        self.bump = bump;
    }

    #[inline(always)]
    pub fn pushed_price(&self) -> PriceData {
        PriceData { price: self.price(), conf: self.conf(), expo: self.expo(), publish_time: self.publish_time() }
    }

    #[inline(always)]
    pub fn set_pushed_price(&mut self, p: &PriceData, slot: u64) {
        self.set_price(p.price);
        self.set_conf(p.conf);
        self.set_expo(p.expo);
        self.set_publish_time(p.publish_time);
        self.set_price_slot(slot);
    }

    /// The bounds a price must meet to be used for `action` in this market.
    #[inline(always)]
    pub fn bounds(&self, action: Action) -> Bounds {
        let (max_age_sec, max_conf_bps) = match action {
            Action::Push => (self.max_age_push_sec(), self.max_conf_push_bps()),
            Action::Margin => (self.max_age_margin_sec(), self.max_conf_margin_bps()),
            Action::Liquidation => (self.max_age_liquidation_sec(), self.max_conf_liquidation_bps()),
        };
        Bounds {
            expo_min: self.expo_min(),
            expo_max: self.expo_max(),
            max_future_skew_sec: self.max_future_skew_sec(),
            max_age_sec,
            max_conf_bps,
        }
    }
}
