//! `deregister_keeper`: an active keeper stops; from now on it may not liquidate, and its stake can
//! be withdrawn once the config's cooldown has passed.

use super::shared::accounts::load_keeper_mut;
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::DeregisterKeeperAccounts;
use crate::instruction::args::NoArgs;
use crate::state::keeper::status;

pub fn process(ctx: &Context, a: &DeregisterKeeperAccounts, _: &NoArgs) -> ProgramResult {
    // SAFETY: accounts are unique and this is the instruction's only view of the keeper.
    let keeper = unsafe { load_keeper_mut(ctx, a.keeper, a.authority)? };
    if keeper.status() != status::ACTIVE {
        return Err(PerpError::KeeperNotActive);
    }
    let mut now = empty_clock();
    clock(&mut now)?;
    keeper.set_status(status::DEREGISTERING);
    keeper.set_deregistered_slot(now.slot);
    Ok(())
}
