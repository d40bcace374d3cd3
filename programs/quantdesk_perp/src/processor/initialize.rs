//! `initialize`: creates the config at PDA ["config"] and the collateral vault, a token account at
//! PDA ["vault"] that is its own authority.

use super::shared::accounts::require_new_pda;
use super::Context;
use crate::cpi::{create_pda_account, token_initialize_account, PdaSeeds, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};
use crate::error::{PerpError, ProgramResult};
use crate::input::AccountInfo;
use crate::instruction::accounts::InitializeAccounts;
use crate::instruction::args::InitializeArgs;
use crate::keys_eq;
use crate::math::constants::{BPS_DENOMINATOR, QUOTE_DECIMALS};
use crate::state::{Account, Config};

/// An SPL mint: 82 bytes, decimals at 44, is_initialized at 45.
const MINT_LEN: usize = 82;

pub fn check_mint(mint: &AccountInfo) -> ProgramResult {
    if !keys_eq(mint.owner(), &TOKEN_PROGRAM_ID) {
        return Err(PerpError::WrongAccountOwner);
    }
    let data = mint.data();
    if data.len() != MINT_LEN || data[45] != 1 || data[44] as u32 != QUOTE_DECIMALS {
        return Err(PerpError::InvalidMint);
    }
    Ok(())
}

pub fn process(ctx: &Context, a: &InitializeAccounts, args: &InitializeArgs) -> ProgramResult {
    if args.max_keeper_fee_bps as u64 > BPS_DENOMINATOR {
        return Err(PerpError::InvalidConfigParams);
    }
    check_mint(a.mint)?;

    let config_bump = [require_new_pda(ctx, a.config, &[Config::SEED])?];
    let vault_bump = [require_new_pda(ctx, a.vault, &[Config::VAULT_SEED])?];

    create_pda_account(a.admin, a.config, Config::LEN as u64, ctx.program_id, &PdaSeeds::new(&[Config::SEED], &config_bump))?;
    create_pda_account(a.admin, a.vault, TOKEN_ACCOUNT_LEN, &TOKEN_PROGRAM_ID, &PdaSeeds::new(&[Config::VAULT_SEED], &vault_bump))?;
    token_initialize_account(a.vault, a.mint, a.vault.key())?;

    // SAFETY: the config account was just created by this instruction; no other view of it exists.
    let config = Config::init(unsafe { a.config.data_mut() })?;
    config.set_admin(a.admin.key());
    config.set_oracle_authority(&args.oracle_authority);
    config.set_pyth_receiver(&args.pyth_receiver);
    config.set_mint(a.mint.key());
    config.set_vault(a.vault.key());
    config.set_max_keeper_fee_bps(args.max_keeper_fee_bps);
    config.set_bump(config_bump[0]);
    config.set_vault_bump(vault_bump[0]);
    Ok(())
}
