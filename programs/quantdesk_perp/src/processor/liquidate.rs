//! `liquidate`: a position whose equity is below maintenance margin at the liquidation-grade price
//! (the strictest bounds; the pinned account's rules as everywhere) is liquidated just enough to
//! restore maintenance plus the market's buffer, or entirely (`math/liquidation.rs`). The fee goes
//! from the vault to the keeper's token account and the insurance fund's share to the fund; a loss
//! beyond collateral is paid from the insurance fund into the vault, and counted as the market's
//! bad debt beyond what the fund holds. A `LiquidationEvent` records it.
//!
//! Who may liquidate: a registered, active keeper always; a deregistering one never. Anyone else
//! only in a market with `permissionless_liquidation`, and only `permissionless_after_slots` after
//! the position was first seen liquidatable by such an attempt: the first attempt records that slot
//! in the position and succeeds without liquidating (a `LiquidationDeferred` event says from which
//! slot anyone may), later ones before then fail with `PermissionlessTooEarly`. A transaction that
//! fails cannot record anything, hence an attempt that succeeds; a registered keeper's liquidation
//! (or the owner's close, open or withdrawal, which all need the position healthy or flat) clears
//! the slot.

use super::shared::accounts::{load_config, load_keeper_mut, load_market_mut, require_owned_by_program, token_amount};
use super::shared::oracle::{resolve_mark_price, PriceQuery};
use super::shared::sysvar::{clock, empty_clock};
use super::Context;
use crate::cpi::{token_transfer, PdaSeeds, Transfer};
use crate::error::{PerpError, ProgramResult};
use crate::event::{LiquidationDeferred, LiquidationEvent};
use crate::instruction::accounts::LiquidateAccounts;
use crate::instruction::args::NoArgs;
use crate::keys_eq;
use crate::log::log;
use crate::math::liquidation::{plan_liquidation, Liquidation, LiquidationInput};
use crate::math::margin::is_liquidatable;
use crate::math::safe_math::{to_i64, SafeMath};
use crate::oracle::resolve::Resolved;
use crate::oracle::Action;
use crate::state::keeper::status;
use crate::state::{Account, Config, Keeper, Position};

pub fn process(ctx: &Context, a: &LiquidateAccounts, _: &NoArgs) -> ProgramResult {
    let config = load_config(ctx, a.config)?;
    if !config.keeper_network_initialized() {
        return Err(PerpError::KeeperNetworkNotInitialized);
    }
    if !keys_eq(a.vault.key(), config.vault()) {
        return Err(PerpError::WrongVault);
    }
    if !keys_eq(a.insurance_fund.key(), config.insurance_fund()) {
        return Err(PerpError::WrongInsuranceFund);
    }
    // SAFETY: accounts are unique and this is the instruction's only view of the market.
    let market = unsafe { load_market_mut(ctx, a.market)? };

    // A registered keeper, a deregistering one (refused), or a liquidator that is not registered.
    let mut keeper: Option<&mut Keeper> = None;
    if keys_eq(a.keeper_account.owner(), ctx.program_id) {
        // SAFETY: accounts are unique and this is the instruction's only view of the keeper account.
        let k = unsafe { load_keeper_mut(ctx, a.keeper_account, a.keeper)? };
        match k.status() {
            status::ACTIVE => keeper = Some(k),
            status::DEREGISTERING => return Err(PerpError::KeeperDeregistering),
            _ => {}
        }
    }
    if keeper.is_none() && !market.permissionless_liquidation() {
        return Err(PerpError::KeeperNotRegistered);
    }

    require_owned_by_program(ctx, a.position)?;
    // SAFETY: accounts are unique and this is the instruction's only view of the position.
    let position = Position::load_mut(unsafe { a.position.data_mut() })?;
    if !keys_eq(position.market(), a.market.key()) {
        return Err(PerpError::WrongMarket);
    }
    let size = position.size();
    if size == 0 {
        return Err(PerpError::PositionNotOpen);
    }

    let mut now = empty_clock();
    clock(&mut now)?;
    let mut resolved = Resolved::EMPTY;
    resolve_mark_price(&PriceQuery { config, pyth: a.price_update, now: now.unix_timestamp, action: Action::Liquidation }, market, &mut resolved)?;
    let mark = resolved.mark;
    let collateral = position.collateral();
    let entry = position.entry_price();
    if !is_liquidatable(collateral, size, entry, mark, market.maintenance_margin_bps())? {
        return Err(PerpError::PositionHealthy);
    }

    if keeper.is_none() {
        let since = position.liquidatable_since_slot();
        let eligible_slot = since.saturating_add(market.permissionless_after_slots());
        if since == 0 {
            position.set_liquidatable_since_slot(now.slot);
            log("liquidation deferred to registered keepers");
            LiquidationDeferred {
                market: *a.market.key(),
                position: *a.position.key(),
                liquidator: *a.keeper.key(),
                price: mark,
                publish_time: resolved.price.publish_time,
                seen_slot: now.slot,
                eligible_slot: now.slot.saturating_add(market.permissionless_after_slots()),
            }
            .emit();
            return Ok(());
        }
        if now.slot < eligible_slot {
            return Err(PerpError::PermissionlessTooEarly);
        }
    }

    let mut plan = Liquidation::default();
    let input = LiquidationInput { collateral, size, entry, mark, insurance_balance: token_amount(a.insurance_fund)? };
    plan_liquidation(&input, &market.liquidation_params(), &mut plan)?;

    let vault_bump = [config.vault_bump()];
    let vault_signer = PdaSeeds::new(&[Config::VAULT_SEED], &vault_bump);
    if plan.keeper_fee > 0 {
        token_transfer(&Transfer { from: a.vault, to: a.keeper_token_account, authority: a.vault, amount: plan.keeper_fee }, Some(&vault_signer))?;
    }
    if plan.insurance_fee > 0 {
        token_transfer(&Transfer { from: a.vault, to: a.insurance_fund, authority: a.vault, amount: plan.insurance_fee }, Some(&vault_signer))?;
    }
    if plan.insurance_cover > 0 {
        let fund_bump = [config.insurance_fund_bump()];
        token_transfer(
            &Transfer { from: a.insurance_fund, to: a.vault, authority: a.insurance_fund, amount: plan.insurance_cover },
            Some(&PdaSeeds::new(&[Config::INSURANCE_FUND_SEED], &fund_bump)),
        )?;
    }

    position.set_size(plan.remaining_size);
    position.set_collateral(plan.remaining_collateral);
    if plan.full {
        position.set_entry_price(0);
    }
    position.set_liquidatable_since_slot(0);
    position.set_last_liquidation_slot(now.slot);
    market.set_bad_debt(market.bad_debt().safe_add(plan.bad_debt)?);
    market.set_insurance_covered(market.insurance_covered().safe_add(plan.insurance_cover)?);
    let registered = keeper.is_some();
    if let Some(k) = keeper {
        k.set_liquidations(k.liquidations().safe_add(1)?);
        k.set_volume_liquidated(k.volume_liquidated().safe_add(plan.notional_liquidated)?);
        k.set_rewards_earned(k.rewards_earned().safe_add(plan.keeper_fee)?);
        k.set_last_active_slot(now.slot);
    }

    LiquidationEvent {
        market: *a.market.key(),
        position: *a.position.key(),
        owner: *position.owner(),
        keeper: *a.keeper.key(),
        registered_keeper: registered,
        full: plan.full,
        size_liquidated: plan.size_liquidated,
        remaining_size: plan.remaining_size,
        price: mark,
        publish_time: resolved.price.publish_time,
        price_source: resolved.source as u8,
        notional_liquidated: plan.notional_liquidated,
        realized_pnl: to_i64(plan.realized_pnl)?,
        keeper_fee: plan.keeper_fee,
        insurance_fee: plan.insurance_fee,
        insurance_cover: plan.insurance_cover,
        bad_debt: plan.bad_debt,
        remaining_collateral: plan.remaining_collateral,
        slot: now.slot,
    }
    .emit();
    Ok(())
}
