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
        /// Token account at PDA ["insurance_fund"] (its own authority): takes its share of liquidation fees, covers losses beyond collateral. All zeros until `initialize_keeper_network`.
        insurance_fund / set_insurance_fund: Pubkey,
        /// Token account at PDA ["keeper_stake"] (its own authority) holding the keepers' stakes.
        keeper_stake_vault / set_keeper_stake_vault: Pubkey,
        /// Least stake `register_keeper` accepts, quote units.
        min_keeper_stake / set_min_keeper_stake: u64,
        /// Slots between `deregister_keeper` and `withdraw_keeper_stake`.
        keeper_cooldown_slots / set_keeper_cooldown_slots: u64,
        /// Ceiling on every market's liquidation fee (what keepers earn), basis points of notional.
        max_keeper_fee_bps / set_max_keeper_fee_bps: u16,
        bump / set_bump: u8,
        vault_bump / set_vault_bump: u8,
        insurance_fund_bump / set_insurance_fund_bump: u8,
        keeper_stake_vault_bump / set_keeper_stake_vault_bump: u8,
    }
}

impl Config {
    pub const SEED: &'static [u8] = b"config";
    pub const VAULT_SEED: &'static [u8] = b"vault";
    pub const INSURANCE_FUND_SEED: &'static [u8] = b"insurance_fund";
    pub const KEEPER_STAKE_SEED: &'static [u8] = b"keeper_stake";

    /// Whether `initialize_keeper_network` ran (the insurance fund and stake vault exist).
    #[inline(always)]
    pub fn keeper_network_initialized(&self) -> bool {
        !crate::keys_eq(self.insurance_fund(), &[0; 32])
    }
}
