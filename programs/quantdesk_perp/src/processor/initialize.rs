//! `initialize`: creates the config at PDA ["config"] and the collateral vault, a token account at
//! PDA ["vault"] that is its own authority.
//!
//! Accounts: 0 admin (signer, writable: pays), 1 config (writable), 2 mint, 3 vault (writable),
//! 4 token program, 5 system program.

use super::shared::accounts::{account, require_new_pda, require_program, require_signer, require_writable};
use super::Context;
use crate::cpi::{create_pda_account, token_initialize_account, PdaSeeds, SYSTEM_PROGRAM_ID, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};
use crate::error::{PerpError, ProgramResult};
use crate::input::AccountInfo;
use crate::instruction::{InitializeArgs, Reader};
use crate::keys_eq;
use crate::math::constants::{BPS_DENOMINATOR, QUOTE_DECIMALS};
use crate::state::{Account, Config};

/// An SPL mint: 82 bytes, decimals at 44, is_initialized at 45.
const MINT_LEN: usize = 82;

fn check_mint(mint: &AccountInfo) -> ProgramResult {
    if !keys_eq(mint.owner(), &TOKEN_PROGRAM_ID) {
        return Err(PerpError::WrongAccountOwner);
    }
    let data = mint.data();
    if data.len() != MINT_LEN || data[45] != 1 || data[44] as u32 != QUOTE_DECIMALS {
        return Err(PerpError::InvalidMint);
    }
    Ok(())
}

pub fn process(ctx: &Context, args: &mut Reader) -> ProgramResult {
    let args = InitializeArgs::decode(args)?;
    let admin = account(ctx, 0)?;
    let config_info = account(ctx, 1)?;
    let mint = account(ctx, 2)?;
    let vault = account(ctx, 3)?;
    require_program(account(ctx, 4)?, &TOKEN_PROGRAM_ID)?;
    require_program(account(ctx, 5)?, &SYSTEM_PROGRAM_ID)?;
    require_signer(admin)?;
    require_writable(admin)?;
    if args.max_keeper_fee_bps as u64 > BPS_DENOMINATOR {
        return Err(PerpError::InvalidConfigParams);
    }
    check_mint(mint)?;

    let config_bump = [require_new_pda(ctx, config_info, &[Config::SEED])?];
    let vault_bump = [require_new_pda(ctx, vault, &[Config::VAULT_SEED])?];

    create_pda_account(admin, config_info, Config::LEN as u64, ctx.program_id, &PdaSeeds::new(&[Config::SEED], &config_bump))?;
    create_pda_account(admin, vault, TOKEN_ACCOUNT_LEN, &TOKEN_PROGRAM_ID, &PdaSeeds::new(&[Config::VAULT_SEED], &vault_bump))?;
    token_initialize_account(vault, mint, vault.key())?;

    // SAFETY: the config account was just created by this instruction; no other view of it exists.
    let config = Config::init(unsafe { config_info.data_mut() })?;
    config.set_admin(admin.key());
    config.set_oracle_authority(&args.oracle_authority);
    config.set_pyth_receiver(&args.pyth_receiver);
    config.set_mint(mint.key());
    config.set_vault(vault.key());
    config.set_max_keeper_fee_bps(args.max_keeper_fee_bps);
    config.set_bump(config_bump[0]);
    config.set_vault_bump(vault_bump[0]);
    Ok(())
}
