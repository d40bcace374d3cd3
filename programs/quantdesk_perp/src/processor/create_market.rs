//! `create_market`: the admin creates a market at PDA ["market", symbol], with its Pyth feed id and
//! bounds; no price yet.
//!
//! Accounts: 0 admin (signer, writable: pays), 1 config, 2 market (writable), 3 system program.

use super::shared::accounts::{account, load_config, require_new_pda, require_program, require_signer, require_writable};
use super::Context;
use crate::cpi::{create_pda_account, PdaSeeds, SYSTEM_PROGRAM_ID};
use crate::error::{PerpError, ProgramResult};
use crate::instruction::{symbol_len, CreateMarketArgs, Reader};
use crate::keys_eq;
use crate::state::{Account, Market};

pub fn process(ctx: &Context, args: &mut Reader) -> ProgramResult {
    let args = CreateMarketArgs::decode(args)?;
    let admin = account(ctx, 0)?;
    let config = load_config(ctx, account(ctx, 1)?)?;
    let market_info = account(ctx, 2)?;
    require_program(account(ctx, 3)?, &SYSTEM_PROGRAM_ID)?;
    require_signer(admin)?;
    require_writable(admin)?;
    if !keys_eq(admin.key(), config.admin()) {
        return Err(PerpError::Unauthorized);
    }
    let len = symbol_len(&args.symbol)?;
    let p = &args.params;
    p.validate(config.max_keeper_fee_bps())?;

    let symbol = &args.symbol[..len];
    let bump = [require_new_pda(ctx, market_info, &[Market::SEED, symbol])?];
    create_pda_account(admin, market_info, Market::LEN as u64, ctx.program_id, &PdaSeeds::new(&[Market::SEED, symbol], &bump))?;

    // SAFETY: the market account was just created by this instruction; no other view of it exists.
    let market = Market::init(unsafe { market_info.data_mut() })?;
    market.set_symbol(&args.symbol);
    market.set_feed_id(&args.feed_id);
    market.set_expo_min(p.expo_min);
    market.set_expo_max(p.expo_max);
    market.set_max_future_skew_sec(p.max_future_skew_sec);
    market.set_max_age_push_sec(p.max_age_push_sec);
    market.set_max_age_margin_sec(p.max_age_margin_sec);
    market.set_max_age_liquidation_sec(p.max_age_liquidation_sec);
    market.set_max_conf_push_bps(p.max_conf_push_bps);
    market.set_max_conf_margin_bps(p.max_conf_margin_bps);
    market.set_max_conf_liquidation_bps(p.max_conf_liquidation_bps);
    market.set_initial_margin_bps(p.initial_margin_bps);
    market.set_maintenance_margin_bps(p.maintenance_margin_bps);
    market.set_liquidation_fee_bps(p.liquidation_fee_bps);
    market.set_bump(bump[0]);
    Ok(())
}
