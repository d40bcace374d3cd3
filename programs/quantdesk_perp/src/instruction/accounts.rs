//! Each instruction's accounts, declared once: order, kind (signer, payer, writable, read-only,
//! fixed program) and, for the IDL, the program-address seeds. `parse` destructures the slice and
//! runs the kind checks; what an account must *be* (owner, type, PDA, the config's vault) is
//! checked by the processor, which knows.

use crate::error::{PerpError, ProgramResult};
use crate::ids::{SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID};
use crate::input::AccountInfo;
use crate::{keys_eq, Pubkey};

#[inline(always)]
pub fn require_signer(a: &AccountInfo) -> ProgramResult {
    if !a.is_signer() {
        return Err(PerpError::MissingSignature);
    }
    Ok(())
}

#[inline(always)]
pub fn require_writable(a: &AccountInfo) -> ProgramResult {
    if !a.is_writable() {
        return Err(PerpError::AccountNotWritable);
    }
    Ok(())
}

/// `a` must be the program `id` (token or system program passed for a CPI).
#[inline(always)]
pub fn require_program(a: &AccountInfo, id: &Pubkey) -> ProgramResult {
    if !keys_eq(a.key(), id) {
        return Err(PerpError::WrongProgramAccount);
    }
    Ok(())
}

/// The first of `rest`, unless absent or passed as the program's own id (Anchor's placeholder for
/// an omitted optional account).
#[inline(always)]
pub fn optional_account<'a>(rest: &'a [AccountInfo], program_id: &Pubkey) -> Option<&'a AccountInfo> {
    rest.first().filter(|a| !keys_eq(a.key(), program_id))
}

instruction_accounts! {
    pub struct InitializeAccounts {
        /// Pays for the config and the vault; becomes the admin.
        admin: payer,
        config: writable ["config"],
        /// The collateral mint: SPL Token, 6 decimals.
        mint: readonly,
        /// Token account of `mint` that is its own authority.
        vault: writable ["vault"],
        token_program: program(TOKEN_PROGRAM_ID),
        system_program: program(SYSTEM_PROGRAM_ID),
    }
}

instruction_accounts! {
    pub struct CreateMarketAccounts {
        /// The config's admin; pays for the market.
        admin: payer,
        config: readonly ["config"],
        /// PDA ["market", symbol bytes up to the first zero].
        market: writable,
        system_program: program(SYSTEM_PROGRAM_ID),
    }
}

instruction_accounts! {
    pub struct SetMarketOracleAccounts {
        /// The config's admin.
        admin: signer,
        config: readonly ["config"],
        market: writable,
    }
}

instruction_accounts! {
    pub struct UpdateOraclePriceAccounts {
        oracle_authority: signer,
        config: readonly ["config"],
    }
    remaining markets;
}

instruction_accounts! {
    pub struct DepositAccounts {
        /// Pays for the position on the first deposit.
        owner: payer,
        config: readonly ["config"],
        market: readonly,
        position: writable ["position", market, owner],
        owner_token_account: writable,
        vault: writable ["vault"],
        token_program: program(TOKEN_PROGRAM_ID),
        system_program: program(SYSTEM_PROGRAM_ID),
    }
}

instruction_accounts! {
    pub struct WithdrawAccounts {
        owner: signer,
        config: readonly ["config"],
        /// Writable: resolving a price moves its watermark.
        market: writable,
        position: writable ["position", market, owner],
        owner_token_account: writable,
        vault: writable ["vault"],
        token_program: program(TOKEN_PROGRAM_ID),
    }
    /// The market's pinned Pyth PriceUpdateV2 account: required when the market pins one, refused when it pins none.
    optional price_update;
}

instruction_accounts! {
    pub struct OpenPositionAccounts {
        owner: signer,
        config: readonly ["config"],
        /// Writable: resolving a price moves its watermark.
        market: writable,
        position: writable ["position", market, owner],
    }
    /// The market's pinned Pyth PriceUpdateV2 account: required when the market pins one, refused when it pins none.
    optional price_update;
}

instruction_accounts! {
    pub struct ClosePositionAccounts {
        owner: signer,
        config: readonly ["config"],
        /// Writable: resolving a price moves its watermark.
        market: writable,
        position: writable ["position", market, owner],
    }
    /// The market's pinned Pyth PriceUpdateV2 account: required when the market pins one, refused when it pins none.
    optional price_update;
}

instruction_accounts! {
    pub struct LiquidateAccounts {
        /// A registered keeper's authority, or anyone where the market allows permissionless liquidation.
        keeper: signer,
        config: readonly ["config"],
        /// Writable: the price watermark and the bad-debt counter.
        market: writable,
        position: writable,
        /// The signer's Keeper account; for a liquidator that is not registered, any account it does not own (stats are kept for registered keepers only).
        keeper_account: writable ["keeper", keeper],
        /// Receives the keeper's share of the fee.
        keeper_token_account: writable,
        vault: writable ["vault"],
        /// Receives its share of the fee; covers a loss beyond collateral.
        insurance_fund: writable ["insurance_fund"],
        token_program: program(TOKEN_PROGRAM_ID),
    }
    /// The market's pinned Pyth PriceUpdateV2 account: required when the market pins one, refused when it pins none.
    optional price_update;
}

instruction_accounts! {
    pub struct InitializeKeeperNetworkAccounts {
        /// The config's admin; pays for the two token accounts.
        admin: payer,
        config: writable ["config"],
        /// The config's collateral mint: stakes and the insurance fund are in it.
        mint: readonly,
        insurance_fund: writable ["insurance_fund"],
        keeper_stake_vault: writable ["keeper_stake"],
        token_program: program(TOKEN_PROGRAM_ID),
        system_program: program(SYSTEM_PROGRAM_ID),
    }
}

instruction_accounts! {
    pub struct RegisterKeeperAccounts {
        /// The keeper's authority: signs, pays for the Keeper account, provides the stake.
        authority: payer,
        config: readonly ["config"],
        keeper: writable ["keeper", authority],
        /// The stake comes from here.
        authority_token_account: writable,
        keeper_stake_vault: writable ["keeper_stake"],
        token_program: program(TOKEN_PROGRAM_ID),
        system_program: program(SYSTEM_PROGRAM_ID),
    }
}

instruction_accounts! {
    pub struct DeregisterKeeperAccounts {
        authority: signer,
        keeper: writable ["keeper", authority],
    }
}

instruction_accounts! {
    pub struct WithdrawKeeperStakeAccounts {
        authority: signer,
        config: readonly ["config"],
        keeper: writable ["keeper", authority],
        /// The stake goes back here.
        authority_token_account: writable,
        keeper_stake_vault: writable ["keeper_stake"],
        token_program: program(TOKEN_PROGRAM_ID),
    }
}
