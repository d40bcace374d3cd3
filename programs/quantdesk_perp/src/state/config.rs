use super::{key_field, le_field, Account};

/// The program's one configuration, at PDA ["config"].
#[repr(C)]
pub struct Config {
    discriminator: [u8; 8],
    /// May create markets.
    admin: crate::Pubkey,
    /// The only signer `update_oracle_price` accepts.
    oracle_authority: crate::Pubkey,
    /// Owner that a PriceUpdateV2 account must have: configuration, because Pyth's program ids
    /// differ per network and change with upgrades.
    pyth_receiver: crate::Pubkey,
    /// The collateral mint (6 decimals).
    mint: crate::Pubkey,
    /// Token account at PDA ["vault"] holding all collateral; its own token authority.
    vault: crate::Pubkey,
    /// Ceiling on every market's liquidation fee (what keepers earn), basis points of notional.
    max_keeper_fee_bps: [u8; 2],
    bump: u8,
    vault_bump: u8,
}

impl Account for Config {
    const DISCRIMINATOR: [u8; 8] = [155, 12, 170, 224, 30, 250, 204, 130];
}

impl Config {
    #[cfg(test)]
    super::field_offsets!(Config; discriminator, admin, oracle_authority, pyth_receiver, mint, vault, max_keeper_fee_bps, bump, vault_bump);

    pub const SEED: &'static [u8] = b"config";
    pub const VAULT_SEED: &'static [u8] = b"vault";

    key_field!(admin, set_admin);
    key_field!(oracle_authority, set_oracle_authority);
    key_field!(pyth_receiver, set_pyth_receiver);
    key_field!(mint, set_mint);
    key_field!(vault, set_vault);
    le_field!(max_keeper_fee_bps, set_max_keeper_fee_bps, u16);

    #[inline(always)]
    pub fn bump(&self) -> u8 {
        self.bump
    }
    #[inline(always)]
    pub fn set_bump(&mut self, bump: u8) {
        self.bump = bump;
    }
    #[inline(always)]
    pub fn vault_bump(&self) -> u8 {
        self.vault_bump
    }
    #[inline(always)]
    pub fn set_vault_bump(&mut self, bump: u8) {
        self.vault_bump = bump;
    }
}
