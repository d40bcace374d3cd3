//! Account checks beyond an account's kind: owner, type, program address.

use crate::cpi::SYSTEM_PROGRAM_ID;
use crate::error::{PerpError, ProgramResult};
use crate::input::AccountInfo;
use crate::instruction::accounts::require_writable;
use crate::processor::Context;
use crate::state::{Account, Config, Keeper, Market, Position};
use crate::syscalls::{sol_try_find_program_address, SolBytes};
use crate::{keys_eq, Pubkey};

#[inline(always)]
pub fn require_owned_by_program(ctx: &Context, a: &AccountInfo) -> ProgramResult {
    if !keys_eq(a.owner(), ctx.program_id) {
        return Err(PerpError::WrongAccountOwner);
    }
    Ok(())
}

/// The config, checked: owned by this program, of type Config. Only `initialize` creates one, at
/// PDA ["config"], so owner and type identify it.
#[inline(always)]
pub fn load_config<'a>(ctx: &Context, a: &'a AccountInfo) -> Result<&'a Config, PerpError> {
    require_owned_by_program(ctx, a)?;
    Config::load(a.data())
}

/// # Safety
/// As `AccountInfo::data_mut`: no other view of this account's data may be live.
#[inline(always)]
pub unsafe fn load_config_mut<'a>(ctx: &Context, a: &'a AccountInfo) -> Result<&'a mut Config, PerpError> {
    require_owned_by_program(ctx, a)?;
    require_writable(a)?;
    Config::load_mut(a.data_mut())
}

/// The keeper account of `authority`, writable. Program-owned Keeper accounts exist only at
/// PDA ["keeper", authority], so owner, type and the stored authority identify it.
///
/// # Safety
/// As `AccountInfo::data_mut`: no other view of this account's data may be live.
#[inline(always)]
pub unsafe fn load_keeper_mut<'a>(ctx: &Context, a: &'a AccountInfo, authority: &AccountInfo) -> Result<&'a mut Keeper, PerpError> {
    require_owned_by_program(ctx, a)?;
    require_writable(a)?;
    let keeper = Keeper::load_mut(a.data_mut())?;
    if !keys_eq(keeper.authority(), authority.key()) {
        return Err(PerpError::WrongKeeper);
    }
    Ok(keeper)
}

/// An SPL token account's balance (amount at bytes 64..72).
#[inline(always)]
pub fn token_amount(a: &AccountInfo) -> Result<u64, PerpError> {
    let data = a.data();
    if data.len() < 72 {
        return Err(PerpError::InvalidAccountData);
    }
    // SAFETY: bytes 64..72 lie within the data (checked above).
    Ok(<u64 as crate::LeField>::get(unsafe { &*(data.as_ptr().add(64) as *const [u8; 8]) }))
}

#[inline(always)]
pub fn load_market<'a>(ctx: &Context, a: &'a AccountInfo) -> Result<&'a Market, PerpError> {
    require_owned_by_program(ctx, a)?;
    Market::load(a.data())
}

/// # Safety
/// As `AccountInfo::data_mut`: no other view of this account's data may be live.
#[inline(always)]
pub unsafe fn load_market_mut<'a>(ctx: &Context, a: &'a AccountInfo) -> Result<&'a mut Market, PerpError> {
    require_owned_by_program(ctx, a)?;
    require_writable(a)?;
    Market::load_mut(a.data_mut())
}

/// The position of `owner` in `market`, writable.
///
/// # Safety
/// As `AccountInfo::data_mut`: no other view of this account's data may be live.
#[inline(always)]
pub unsafe fn load_position_mut<'a>(
    ctx: &Context,
    a: &'a AccountInfo,
    owner: &AccountInfo,
    market: &AccountInfo,
) -> Result<&'a mut Position, PerpError> {
    require_owned_by_program(ctx, a)?;
    require_writable(a)?;
    let position = Position::load_mut(a.data_mut())?;
    if !keys_eq(position.owner(), owner.key()) {
        return Err(PerpError::Unauthorized);
    }
    if !keys_eq(position.market(), market.key()) {
        return Err(PerpError::WrongMarket);
    }
    Ok(position)
}

/// The canonical program address of `seeds` and its bump (about 1,500 CU per bump tried: used
/// only when an account is created; the bump is stored).
#[inline(never)]
pub fn find_program_address(seeds: &[&[u8]], program_id: &Pubkey, address: &mut Pubkey) -> Result<u8, PerpError> {
    let mut parts = [SolBytes { addr: core::ptr::null(), len: 0 }, SolBytes { addr: core::ptr::null(), len: 0 }, SolBytes { addr: core::ptr::null(), len: 0 }];
    let n = seeds.len().min(parts.len());
    let mut i = 0;
    while i < n {
        parts[i] = SolBytes { addr: seeds[i].as_ptr(), len: seeds[i].len() as u64 };
        i += 1;
    }
    let mut bump = 0u8;
    // SAFETY: the syscall reads n seed slices that outlive the call and writes 32 bytes to
    // `address` and one to `bump`.
    let rc = unsafe { sol_try_find_program_address(parts.as_ptr(), n as u64, program_id, address, &mut bump) };
    if rc != 0 {
        return Err(PerpError::InvalidPda);
    }
    Ok(bump)
}

/// `a` must be the program address of `seeds`, still unallocated and writable; returns its bump.
#[inline(always)]
pub fn require_new_pda(ctx: &Context, a: &AccountInfo, seeds: &[&[u8]]) -> Result<u8, PerpError> {
    let mut expected = [0u8; 32];
    let bump = find_program_address(seeds, ctx.program_id, &mut expected)?;
    if !keys_eq(a.key(), &expected) {
        return Err(PerpError::InvalidPda);
    }
    require_writable(a)?;
    if !keys_eq(a.owner(), &SYSTEM_PROGRAM_ID) || a.data_len() != 0 {
        return Err(PerpError::AlreadyInitialized);
    }
    Ok(bump)
}
