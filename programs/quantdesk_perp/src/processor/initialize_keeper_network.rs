//! `initialize_keeper_network`: the admin creates the insurance fund (PDA ["insurance_fund"]) and
//! the keeper stake vault (PDA ["keeper_stake"]), token accounts of the collateral mint that are
//! their own authority, and sets the minimum keeper stake and the deregistration cooldown. Once:
//! liquidations need it. The insurance fund is funded by its share of liquidation fees, and by
//! anyone's plain SPL transfer to it.

use super::initialize::check_mint;
use super::shared::accounts::{load_config_mut, require_new_pda};
use super::Context;
use crate::cpi::{create_pda_account, token_initialize_account, PdaSeeds, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::InitializeKeeperNetworkAccounts;
use crate::instruction::args::InitializeKeeperNetworkArgs;
use crate::keys_eq;
use crate::state::Config;

pub fn process(ctx: &Context, a: &InitializeKeeperNetworkAccounts, args: &InitializeKeeperNetworkArgs) -> ProgramResult {
    // SAFETY: accounts are unique and this is the instruction's only view of the config.
    let config = unsafe { load_config_mut(ctx, a.config)? };
    if !keys_eq(a.admin.key(), config.admin()) {
        return Err(PerpError::Unauthorized);
    }
    if config.keeper_network_initialized() {
        return Err(PerpError::KeeperNetworkInitialized);
    }
    if args.min_keeper_stake == 0 {
        return Err(PerpError::InvalidConfigParams);
    }
    check_mint(a.mint)?;
    if !keys_eq(a.mint.key(), config.mint()) {
        return Err(PerpError::InvalidMint);
    }

    let fund_bump = [require_new_pda(ctx, a.insurance_fund, &[Config::INSURANCE_FUND_SEED])?];
    let stake_bump = [require_new_pda(ctx, a.keeper_stake_vault, &[Config::KEEPER_STAKE_SEED])?];
    create_pda_account(a.admin, a.insurance_fund, TOKEN_ACCOUNT_LEN, &TOKEN_PROGRAM_ID, &PdaSeeds::new(&[Config::INSURANCE_FUND_SEED], &fund_bump))?;
    token_initialize_account(a.insurance_fund, a.mint, a.insurance_fund.key())?;
    create_pda_account(a.admin, a.keeper_stake_vault, TOKEN_ACCOUNT_LEN, &TOKEN_PROGRAM_ID, &PdaSeeds::new(&[Config::KEEPER_STAKE_SEED], &stake_bump))?;
    token_initialize_account(a.keeper_stake_vault, a.mint, a.keeper_stake_vault.key())?;

    config.set_insurance_fund(a.insurance_fund.key());
    config.set_keeper_stake_vault(a.keeper_stake_vault.key());
    config.set_insurance_fund_bump(fund_bump[0]);
    config.set_keeper_stake_vault_bump(stake_bump[0]);
    config.set_min_keeper_stake(args.min_keeper_stake);
    config.set_keeper_cooldown_slots(args.keeper_cooldown_slots);
    Ok(())
}
