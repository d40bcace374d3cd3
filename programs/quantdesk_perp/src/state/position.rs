account_layout! {
    /// One owner's isolated-margin position in one market, at PDA ["position", market, owner]. It outlives the trade: after a close or a liquidation size is 0 and the collateral stays until withdrawn.
    pub struct Position {
        owner / set_owner: Pubkey,
        market / set_market: Pubkey,
        /// Quote units (10^-6 USD).
        collateral / set_collateral: u64,
        /// Base units (10^-9), long > 0, short < 0, 0 when flat.
        size / set_size: i64,
        /// 10^-9 USD per base unit; 0 when flat.
        entry_price / set_entry_price: u64,
        /// Slot of the last open; with the address it names one trade (liquidation saga ids use both).
        open_slot / set_open_slot: u64,
        /// Slot at which a liquidation attempt by someone other than a registered keeper first saw the position liquidatable; permissionless liquidation opens the market's `permissionless_after_slots` later. 0: not seen, or cleared by a liquidation, a close, a withdrawal or an open.
        liquidatable_since_slot / set_liquidatable_since_slot: u64,
        /// Slot of the last (partial or full) liquidation; 0 when never liquidated.
        last_liquidation_slot / set_last_liquidation_slot: u64,
        bump / set_bump: u8,
    }
}

impl Position {
    pub const SEED: &'static [u8] = b"position";
}
