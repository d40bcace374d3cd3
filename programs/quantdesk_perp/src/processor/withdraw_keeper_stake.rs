//! `withdraw_keeper_stake`: after `deregister_keeper` and the config's cooldown (in slots), the
//! stake goes back to the authority's token account and the keeper is inactive; its account and
//! statistics stay, so it can register again.

use super::shared::accounts::{load_config, load_keeper_mut};
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::cpi::{token_transfer, PdaSeeds, Transfer};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::WithdrawKeeperStakeAccounts;
use crate::instruction::args::NoArgs;
use crate::keys_eq;
use crate::state::keeper::status;
use crate::state::Config;

pub fn process(ctx: &Context, a: &WithdrawKeeperStakeAccounts, _: &NoArgs) -> ProgramResult {
    let config = load_config(ctx, a.config)?;
    if !keys_eq(a.keeper_stake_vault.key(), config.keeper_stake_vault()) {
        return Err(PerpError::WrongStakeVault);
    }
    // SAFETY: accounts are unique and this is the instruction's only view of the keeper.
    let keeper = unsafe { load_keeper_mut(ctx, a.keeper, a.authority)? };
    if keeper.status() != status::DEREGISTERING {
        return Err(PerpError::KeeperNotDeregistering);
    }
    let mut now = empty_clock();
    clock(&mut now)?;
    if now.slot < keeper.deregistered_slot().saturating_add(config.keeper_cooldown_slots()) {
        return Err(PerpError::KeeperCooldownActive);
    }
    let stake = keeper.stake();
    if stake > 0 {
        let bump = [config.keeper_stake_vault_bump()];
        token_transfer(
            &Transfer { from: a.keeper_stake_vault, to: a.authority_token_account, authority: a.keeper_stake_vault, amount: stake },
            Some(&PdaSeeds::new(&[Config::KEEPER_STAKE_SEED], &bump)),
        )?;
    }
    keeper.set_stake(0);
    keeper.set_status(status::INACTIVE);
    Ok(())
}
