use super::{key_field, le_field, Account};

/// One owner's isolated-margin position in one market, at PDA ["position", market, owner]. It
/// outlives the trade: after a close or a liquidation size is 0 and the collateral stays until
/// withdrawn.
#[repr(C)]
pub struct Position {
    discriminator: [u8; 8],
    owner: crate::Pubkey,
    market: crate::Pubkey,
    /// Quote units (10^-6 USD).
    collateral: [u8; 8],
    /// Base units (10^-9), long > 0, short < 0, 0 when flat.
    size: [u8; 8],
    /// 10^-9 USD per base unit; 0 when flat.
    entry_price: [u8; 8],
    /// Slot of the last open; with the address it names one trade (liquidation saga ids use both).
    open_slot: [u8; 8],
    bump: u8,
}

impl Account for Position {
    const DISCRIMINATOR: [u8; 8] = [170, 188, 143, 228, 122, 64, 247, 208];
}

impl Position {
    #[cfg(test)]
    super::field_offsets!(Position; discriminator, owner, market, collateral, size, entry_price, open_slot, bump);

    pub const SEED: &'static [u8] = b"position";

    key_field!(owner, set_owner);
    key_field!(market, set_market);
    le_field!(collateral, set_collateral, u64);
    le_field!(size, set_size, i64);
    le_field!(entry_price, set_entry_price, u64);
    le_field!(open_slot, set_open_slot, u64);

    #[inline(always)]
    pub fn bump(&self) -> u8 {
        self.bump
    }
    #[inline(always)]
    pub fn set_bump(&mut self, bump: u8) {
        self.bump = bump;
    }
}
