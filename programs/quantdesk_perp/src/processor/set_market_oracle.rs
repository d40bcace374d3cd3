//! `set_market_oracle`: the admin pins the Pyth PriceUpdateV2 account a market trusts — on a real
//! cluster the receiver's sponsored feed account for the market's feed. From then on every
//! instruction that needs a price must pass exactly that account. The watermark stays: a new
//! account for the same feed must still not go back in time. All zeros unpins (pushed prices only).

use super::shared::accounts::{load_config, load_market_mut};
use super::Context;
use crate::error::{PerpError, ProgramResult};
use crate::instruction::accounts::SetMarketOracleAccounts;
use crate::instruction::args::SetMarketOracleArgs;
use crate::keys_eq;

pub fn process(ctx: &Context, a: &SetMarketOracleAccounts, args: &SetMarketOracleArgs) -> ProgramResult {
    let config = load_config(ctx, a.config)?;
    if !keys_eq(a.admin.key(), config.admin()) {
        return Err(PerpError::Unauthorized);
    }
    // SAFETY: accounts are unique and this is the instruction's only view of the market.
    let market = unsafe { load_market_mut(ctx, a.market)? };
    market.set_oracle(&args.oracle);
    Ok(())
}
