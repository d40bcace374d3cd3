//! Instruction dispatch, generated from the instruction table (`instruction::for_each_instruction`):
//! decode the arguments, parse the accounts into the instruction's typed struct, call
//! `<name>::process`. One file per instruction; shared steps in `shared/`.

mod close_position;
mod create_market;
mod deposit;
mod deregister_keeper;
mod initialize;
mod initialize_keeper_network;
mod liquidate;
mod open_position;
mod register_keeper;
mod set_market_oracle;
mod shared;
mod update_oracle_price;
mod withdraw;
mod withdraw_keeper_stake;

use crate::error::{PerpError, ProgramResult};
use crate::input::AccountInfo;
use crate::instruction::accounts::*;
use crate::instruction::args::*;
use crate::instruction::{discriminators, for_each_instruction, split_discriminator, Args};
use crate::Pubkey;

/// One instruction's inputs.
pub struct Context<'a> {
    pub program_id: &'a Pubkey,
    pub accounts: &'a [AccountInfo],
    pub data: &'a [u8],
}

macro_rules! dispatch {
    ($( $(#[doc = $doc:literal])* $name:ident : $accounts:ident, $args:ident; )*) => {
        #[inline(always)]
        pub fn process(ctx: &Context) -> ProgramResult {
            let (discriminator, mut r) = split_discriminator(ctx.data)?;
            match discriminator {
                $(
                    discriminators::$name => {
                        // Arguments first: a malformed instruction is refused before any account is read.
                        let args = <$args as Args>::decode(&mut r)?;
                        let accounts = $accounts::parse(ctx.accounts, ctx.program_id)?;
                        $name::process(ctx, &accounts, &args)
                    }
                )*
                _ => Err(PerpError::UnknownInstruction),
            }
        }
    };
}

for_each_instruction!(dispatch);
