use crate::math::liquidation::LiquidationParams;
use crate::oracle::resolve::Bands;
use crate::oracle::{Action, Bounds, PriceData};

account_layout! {
    /// A perpetual market at PDA ["market", symbol without padding]: its Pyth feed, the last price the oracle authority pushed, and the bounds every price and position must meet. price == 0 means nothing was pushed yet.
    pub struct Market {
        /// ASCII, zero-padded ("SOL-PERP").
        symbol / set_symbol: [u8; 16],
        /// Pyth price feed id.
        feed_id / set_feed_id: [u8; 32],
        /// The Pyth PriceUpdateV2 account that margin and liquidation must pass (`set_market_oracle`); all zeros: none, pushed prices only.
        oracle / set_oracle: Pubkey,
        // The pushed price: price × 10^expo ± conf × 10^expo, published at `publish_time` (Unix
        // seconds), stored at `price_slot`. (Ordered so that every field sits at a multiple of its
        // size: one load or store each.)
        price / set_price: i64,
        conf / set_conf: u64,
        publish_time / set_publish_time: i64,
        price_slot / set_price_slot: u64,
        /// The last price margin or liquidation used (mantissa at `last_used_expo`); with the pushed price it is the last good price the sanity band is measured from.
        last_used_price / set_last_used_price: i64,
        /// The watermark: no price published before max(this, publish_time) is used again. 0 before the first use.
        last_used_publish_time / set_last_used_publish_time: i64,
        /// A remainder whose notional would be below this (quote units) is liquidated too.
        min_position_notional / set_min_position_notional: u64,
        /// Slots from when an attempt first saw a position liquidatable until anyone may liquidate it (with `permissionless_liquidation`).
        permissionless_after_slots / set_permissionless_after_slots: u64,
        /// Losses beyond collateral that the insurance fund could not cover, quote units, cumulative.
        bad_debt / set_bad_debt: u64,
        /// Losses beyond collateral the insurance fund covered, quote units, cumulative.
        insurance_covered / set_insurance_covered: u64,
        expo / set_expo: i32,
        last_used_expo / set_last_used_expo: i32,
        // Bounds, as in config/markets.json ("validation" and "margin").
        expo_min / set_expo_min: i32,
        expo_max / set_expo_max: i32,
        max_future_skew_sec / set_max_future_skew_sec: u32,
        max_age_display_sec / set_max_age_display_sec: u32,
        max_age_push_sec / set_max_age_push_sec: u32,
        max_age_margin_sec / set_max_age_margin_sec: u32,
        max_age_liquidation_sec / set_max_age_liquidation_sec: u32,
        max_conf_push_bps / set_max_conf_push_bps: u16,
        max_conf_margin_bps / set_max_conf_margin_bps: u16,
        max_conf_liquidation_bps / set_max_conf_liquidation_bps: u16,
        initial_margin_bps / set_initial_margin_bps: u16,
        maintenance_margin_bps / set_maintenance_margin_bps: u16,
        liquidation_fee_bps / set_liquidation_fee_bps: u16,
        sanity_band_bps / set_sanity_band_bps: u16,
        ema_band_bps / set_ema_band_bps: u16,
        /// A partial liquidation restores maintenance margin plus this buffer.
        liquidation_buffer_bps / set_liquidation_buffer_bps: u16,
        /// The insurance fund's share of every liquidation fee.
        insurance_fee_share_bps / set_insurance_fee_share_bps: u16,
        /// Whether anyone, not only registered keepers, may liquidate once `permissionless_after_slots` passed.
        permissionless_liquidation / set_permissionless_liquidation: bool,
        bump / set_bump: u8,
    }
}

impl Market {
    pub const SEED: &'static [u8] = b"market";

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

    /// The last price margin or liquidation used; None before the first use.
    #[inline(always)]
    pub fn last_used(&self) -> Option<PriceData> {
        if self.last_used_publish_time() == 0 {
            return None;
        }
        Some(PriceData { price: self.last_used_price(), conf: 0, expo: self.last_used_expo(), publish_time: self.last_used_publish_time() })
    }

    #[inline(always)]
    pub fn set_last_used(&mut self, p: &PriceData) {
        self.set_last_used_price(p.price);
        self.set_last_used_expo(p.expo);
        self.set_last_used_publish_time(p.publish_time);
    }

    #[inline(always)]
    pub fn liquidation_params(&self) -> LiquidationParams {
        LiquidationParams {
            maintenance_bps: self.maintenance_margin_bps(),
            fee_bps: self.liquidation_fee_bps(),
            buffer_bps: self.liquidation_buffer_bps(),
            insurance_share_bps: self.insurance_fee_share_bps(),
            min_notional: self.min_position_notional(),
        }
    }

    #[inline(always)]
    pub fn bands(&self) -> Bands {
        Bands { anchor_max_age_sec: self.max_age_display_sec(), sanity_band_bps: self.sanity_band_bps(), ema_band_bps: self.ema_band_bps() }
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
