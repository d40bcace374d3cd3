//! `register_keeper`: locks `stake` (at least the config's minimum) from the authority's token
//! account in the keeper stake vault and makes the authority a registered keeper, with its own
//! account at PDA ["keeper", authority] — created on the first registration, re-activated (its
//! statistics kept) after a withdrawn stake.

use super::shared::accounts::{load_config, load_keeper_mut, require_new_pda};
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::cpi::{create_pda_account, token_transfer, PdaSeeds, Transfer};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::RegisterKeeperAccounts;
use crate::instruction::args::RegisterKeeperArgs;
use crate::keys_eq;
use crate::state::keeper::status;
use crate::state::{Account, Keeper};

pub fn process(ctx: &Context, a: &RegisterKeeperAccounts, args: &RegisterKeeperArgs) -> ProgramResult {
    let config = load_config(ctx, a.config)?;
    if !config.keeper_network_initialized() {
        return Err(PerpError::KeeperNetworkNotInitialized);
    }
    if !keys_eq(a.keeper_stake_vault.key(), config.keeper_stake_vault()) {
        return Err(PerpError::WrongStakeVault);
    }
    if args.stake < config.min_keeper_stake() {
        return Err(PerpError::KeeperStakeTooLow);
    }
    let mut now = empty_clock();
    clock(&mut now)?;

    if a.keeper.data_len() == 0 {
        let seeds: [&[u8]; 2] = [Keeper::SEED, a.authority.key()];
        let bump = [require_new_pda(ctx, a.keeper, &seeds)?];
        create_pda_account(a.authority, a.keeper, Keeper::LEN as u64, ctx.program_id, &PdaSeeds::new(&seeds, &bump))?;
        // SAFETY: the keeper account was just created by this instruction; no other view of it exists.
        let keeper = Keeper::init(unsafe { a.keeper.data_mut() })?;
        keeper.set_authority(a.authority.key());
        keeper.set_bump(bump[0]);
    }
    // SAFETY: accounts are unique and this is the instruction's only live view of the keeper.
    let keeper = unsafe { load_keeper_mut(ctx, a.keeper, a.authority)? };
    if keeper.status() != status::INACTIVE {
        return Err(PerpError::KeeperAlreadyRegistered);
    }
    token_transfer(&Transfer { from: a.authority_token_account, to: a.keeper_stake_vault, authority: a.authority, amount: args.stake }, None)?;
    keeper.set_stake(args.stake);
    keeper.set_status(status::ACTIVE);
    keeper.set_registered_slot(now.slot);
    keeper.set_deregistered_slot(0);
    Ok(())
}
