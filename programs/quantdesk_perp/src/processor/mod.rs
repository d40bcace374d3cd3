//! Instruction dispatch: one file per instruction, shared checks in `shared/`.

mod close_position;
mod create_market;
mod deposit;
mod initialize;
mod liquidate;
mod open_position;
mod shared;
mod update_oracle_price;
mod withdraw;

use crate::error::{PerpError, ProgramResult};
use crate::input::AccountInfo;
use crate::instruction::{self, split_discriminator};
use crate::Pubkey;

/// One instruction's inputs.
pub struct Context<'a> {
    pub program_id: &'a Pubkey,
    pub accounts: &'a [AccountInfo],
    pub data: &'a [u8],
}

const INITIALIZE: u64 = u64::from_le_bytes(instruction::INITIALIZE);
const CREATE_MARKET: u64 = u64::from_le_bytes(instruction::CREATE_MARKET);
const UPDATE_ORACLE_PRICE: u64 = u64::from_le_bytes(instruction::UPDATE_ORACLE_PRICE);
const DEPOSIT: u64 = u64::from_le_bytes(instruction::DEPOSIT);
const WITHDRAW: u64 = u64::from_le_bytes(instruction::WITHDRAW);
const OPEN_POSITION: u64 = u64::from_le_bytes(instruction::OPEN_POSITION);
const CLOSE_POSITION: u64 = u64::from_le_bytes(instruction::CLOSE_POSITION);
const LIQUIDATE: u64 = u64::from_le_bytes(instruction::LIQUIDATE);

#[inline(always)]
pub fn process(ctx: &Context) -> ProgramResult {
    let (discriminator, mut args) = split_discriminator(ctx.data)?;
    match discriminator {
        UPDATE_ORACLE_PRICE => update_oracle_price::process(ctx, &mut args),
        LIQUIDATE => liquidate::process(ctx, &mut args),
        OPEN_POSITION => open_position::process(ctx, &mut args),
        CLOSE_POSITION => close_position::process(ctx, &mut args),
        DEPOSIT => deposit::process(ctx, &mut args),
        WITHDRAW => withdraw::process(ctx, &mut args),
        CREATE_MARKET => create_market::process(ctx, &mut args),
        INITIALIZE => initialize::process(ctx, &mut args),
        _ => Err(PerpError::UnknownInstruction),
    }
}
