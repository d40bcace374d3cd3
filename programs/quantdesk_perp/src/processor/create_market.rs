//! `create_market`: the admin creates a market at PDA ["market", symbol], with its Pyth feed id and
//! bounds; no price yet.

use super::shared::accounts::{load_config, require_new_pda};
use super::Context;
use crate::cpi::{create_pda_account, PdaSeeds};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::CreateMarketAccounts;
use crate::instruction::args::{symbol_len, CreateMarketArgs};
use crate::keys_eq;
use crate::state::{Account, Market};

pub fn process(ctx: &Context, a: &CreateMarketAccounts, args: &CreateMarketArgs) -> ProgramResult {
    let config = load_config(ctx, a.config)?;
    if !keys_eq(a.admin.key(), config.admin()) {
        return Err(PerpError::Unauthorized);
    }
    let len = symbol_len(&args.symbol)?;
    let p = &args.params;
    p.validate(config.max_keeper_fee_bps())?;

    let symbol = &args.symbol[..len];
    let bump = [require_new_pda(ctx, a.market, &[Market::SEED, symbol])?];
    create_pda_account(a.admin, a.market, Market::LEN as u64, ctx.program_id, &PdaSeeds::new(&[Market::SEED, symbol], &bump))?;

    // SAFETY: the market account was just created by this instruction; no other view of it exists.
    let market = Market::init(unsafe { a.market.data_mut() })?;
    market.set_symbol(&args.symbol);
    market.set_feed_id(&args.feed_id);
    market.set_expo_min(p.expo_min);
    market.set_expo_max(p.expo_max);
    market.set_max_future_skew_sec(p.max_future_skew_sec);
    market.set_max_age_display_sec(p.max_age_display_sec);
    market.set_max_age_push_sec(p.max_age_push_sec);
    market.set_max_age_margin_sec(p.max_age_margin_sec);
    market.set_max_age_liquidation_sec(p.max_age_liquidation_sec);
    market.set_max_conf_push_bps(p.max_conf_push_bps);
    market.set_max_conf_margin_bps(p.max_conf_margin_bps);
    market.set_max_conf_liquidation_bps(p.max_conf_liquidation_bps);
    market.set_initial_margin_bps(p.initial_margin_bps);
    market.set_maintenance_margin_bps(p.maintenance_margin_bps);
    market.set_liquidation_fee_bps(p.liquidation_fee_bps);
    market.set_sanity_band_bps(p.sanity_band_bps);
    market.set_ema_band_bps(p.ema_band_bps);
    market.set_liquidation_buffer_bps(p.liquidation_buffer_bps);
    market.set_insurance_fee_share_bps(p.insurance_fee_share_bps);
    market.set_min_position_notional(p.min_position_notional);
    market.set_permissionless_liquidation(p.permissionless_liquidation);
    market.set_permissionless_after_slots(p.permissionless_after_slots);
    market.set_bump(bump[0]);
    Ok(())
}
