account_layout! {
    /// The program's one configuration, at PDA ["config"].
    pub struct Config {
        /// May create markets.
        admin / set_admin: Pubkey,
        /// The only signer `update_oracle_price` accepts.
        oracle_authority / set_oracle_authority: Pubkey,
        /// Owner a PriceUpdateV2 account must have: configuration, because Pyth's program ids differ per network and change with upgrades.
        pyth_receiver / set_pyth_receiver: Pubkey,
        /// The collateral mint (6 decimals).
        mint / set_mint: Pubkey,
        /// Token account at PDA ["vault"] holding all collateral; its own token authority.
        vault / set_vault: Pubkey,
        /// Ceiling on every market's liquidation fee (what keepers earn), basis points of notional.
        max_keeper_fee_bps / set_max_keeper_fee_bps: u16,
        bump / set_bump: u8,
        vault_bump / set_vault_bump: u8,
    }
}

impl Config {
    pub const SEED: &'static [u8] = b"config";
    pub const VAULT_SEED: &'static [u8] = b"vault";
}
