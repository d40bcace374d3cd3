use super::Account;

/// A keeper's status, stored as a u8.
pub mod status {
    /// Never active, or its stake was withdrawn: liquidates only where anyone may.
    pub const INACTIVE: u8 = 0;
    pub const ACTIVE: u8 = 1;
    /// Deregistered, waiting out the cooldown: may not liquidate.
    pub const DEREGISTERING: u8 = 2;
}

account_layout! {
    /// A registered keeper, one account per authority at PDA ["keeper", authority]: its locked stake, status and liquidation statistics.
    pub struct Keeper {
        /// Signs the keeper's liquidations and owns the stake.
        authority / set_authority: Pubkey,
        /// Quote units locked in the keeper stake vault.
        stake / set_stake: u64,
        /// Slot of the last `register_keeper`.
        registered_slot / set_registered_slot: u64,
        /// Slot of the `deregister_keeper` the cooldown counts from; 0 while active.
        deregistered_slot / set_deregistered_slot: u64,
        /// Liquidations carried out (partial ones count each).
        liquidations / set_liquidations: u64,
        /// Notional liquidated, quote units.
        volume_liquidated / set_volume_liquidated: u64,
        /// Fees received, quote units.
        rewards_earned / set_rewards_earned: u64,
        /// Slot of the last liquidation.
        last_active_slot / set_last_active_slot: u64,
        /// 0 inactive, 1 active, 2 deregistering.
        status / set_status: u8,
        bump / set_bump: u8,
    }
}

impl Keeper {
    pub const SEED: &'static [u8] = b"keeper";
}

#[cfg(test)]
const _: () = assert!(<Keeper as Account>::LEN == 98);
