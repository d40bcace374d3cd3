//! `liquidate`: anyone may close a position whose equity is below maintenance margin at the
//! resolved mark price (the liquidation bounds, the strictest). PnL settles against collateral,
//! the keeper's fee (liquidation_fee_bps of notional, capped by what is left) goes from the vault
//! to the keeper's token account, and the rest stays as the owner's collateral. The position is
//! then flat, so a second liquidation fails with `PositionNotOpen`.
//!
//! Accounts: 0 keeper (signer), 1 config, 2 market, 3 position (writable), 4 keeper's token account
//! (writable), 5 vault (writable), 6 token program, 7 optional Pyth PriceUpdateV2.

use super::shared::accounts::{account, load_config, load_market, optional_account, require_program, require_signer, require_writable};
use super::shared::oracle::{resolve_mark_price, PriceQuery};
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::cpi::{token_transfer, PdaSeeds, Transfer, TOKEN_PROGRAM_ID};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::Reader;
use crate::keys_eq;
use crate::log::log_u64s;
use crate::math::margin::{is_liquidatable, settle};
use crate::oracle::Action;
use crate::state::{Account, Config, Position};

pub fn process(ctx: &Context, args: &mut Reader) -> ProgramResult {
    args.finish()?;
    let keeper = account(ctx, 0)?;
    let config = load_config(ctx, account(ctx, 1)?)?;
    let market_info = account(ctx, 2)?;
    let market = load_market(ctx, market_info)?;
    let position_info = account(ctx, 3)?;
    let keeper_tokens = account(ctx, 4)?;
    let vault = account(ctx, 5)?;
    require_program(account(ctx, 6)?, &TOKEN_PROGRAM_ID)?;
    let pyth = optional_account(ctx, 7);
    require_signer(keeper)?;
    if !keys_eq(vault.key(), config.vault()) {
        return Err(PerpError::WrongVault);
    }
    if !keys_eq(position_info.owner(), ctx.program_id) {
        return Err(PerpError::WrongAccountOwner);
    }
    require_writable(position_info)?;
    // SAFETY: accounts are unique and this is the instruction's only view of the position.
    let position = Position::load_mut(unsafe { position_info.data_mut() })?;
    if !keys_eq(position.market(), market_info.key()) {
        return Err(PerpError::WrongMarket);
    }
    let size = position.size();
    if size == 0 {
        return Err(PerpError::PositionNotOpen);
    }

    let mut now = empty_clock();
    clock(&mut now)?;
    let mark = resolve_mark_price(&PriceQuery { config, market, pyth, now: now.unix_timestamp, action: Action::Liquidation })?;
    let collateral = position.collateral();
    let entry = position.entry_price();
    if !is_liquidatable(collateral, size, entry, mark, market.maintenance_margin_bps())? {
        return Err(PerpError::PositionHealthy);
    }
    let s = settle(collateral, size, entry, mark, market.liquidation_fee_bps())?;
    if s.keeper_fee > 0 {
        let bump = [config.vault_bump()];
        token_transfer(
            &Transfer { from: vault, to: keeper_tokens, authority: vault, amount: s.keeper_fee },
            Some(&PdaSeeds::new(&[Config::VAULT_SEED], &bump)),
        )?;
    }
    position.set_collateral(s.to_owner);
    position.set_size(0);
    position.set_entry_price(0);
    log_u64s(4, mark, s.keeper_fee, s.to_owner, s.bad_debt as u64);
    Ok(())
}
