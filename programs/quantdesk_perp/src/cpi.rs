//! Cross-program invocations through `sol_invoke_signed_c`, with the C SDK's structures pointing
//! into the input buffer: the system program (account creation) and SPL Token (vault transfers).

use crate::error::{PerpError, ProgramResult};
use crate::input::AccountInfo;
use crate::math::wide::{checked_mul_u64, checked_shl_u128, mul_u64, shr_u128};
use crate::syscalls::{sol_get_rent_sysvar, sol_invoke_signed_c};
use crate::Pubkey;

pub use crate::ids::{SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID};
/// An SPL token account's size.
pub const TOKEN_ACCOUNT_LEN: u64 = 165;

#[repr(C)]
struct Meta {
    pubkey: *const Pubkey,
    is_writable: bool,
    is_signer: bool,
}

#[repr(C)]
struct Instruction {
    program_id: *const Pubkey,
    accounts: *const Meta,
    account_len: u64,
    data: *const u8,
    data_len: u64,
}

/// The C SDK's SolAccountInfo.
#[repr(C)]
struct Info {
    key: *const Pubkey,
    lamports: *mut u64,
    data_len: u64,
    data: *mut u8,
    owner: *const Pubkey,
    rent_epoch: u64,
    is_signer: bool,
    is_writable: bool,
    executable: bool,
}

#[repr(C)]
struct Seed {
    addr: *const u8,
    len: u64,
}

#[repr(C)]
struct SignerSeeds {
    addr: *const Seed,
    len: u64,
}

/// Seeds of one program address, bump included: at most three parts here.
pub struct PdaSeeds<'a> {
    parts: [&'a [u8]; 4],
    len: usize,
}

impl<'a> PdaSeeds<'a> {
    #[inline(always)]
    pub fn new(parts: &[&'a [u8]], bump: &'a [u8; 1]) -> Self {
        let mut all: [&[u8]; 4] = [&[]; 4];
        let mut i = 0;
        while i < parts.len() && i < 3 {
            all[i] = parts[i];
            i += 1;
        }
        all[i] = bump;
        PdaSeeds { parts: all, len: i + 1 }
    }
}

#[inline(always)]
fn meta(a: &AccountInfo, is_writable: bool, is_signer: bool) -> Meta {
    Meta { pubkey: a.key(), is_writable, is_signer }
}

#[inline(always)]
fn info(a: &AccountInfo) -> Info {
    Info {
        key: a.key(),
        lamports: a.lamports_ptr(),
        data_len: a.data_len() as u64,
        data: a.data_ptr(),
        owner: a.owner(),
        // Not read by the runtime for CPI.
        rent_epoch: 0,
        is_signer: a.is_signer(),
        is_writable: a.is_writable(),
        executable: a.executable(),
    }
}

/// The accounts, metas and data of one invocation (a struct: BPF calls take at most five arguments).
struct Call<'a, const N: usize> {
    program_id: &'a Pubkey,
    metas: [Meta; N],
    infos: [Info; N],
    data: &'a [u8],
}

#[inline(never)]
fn invoke<const N: usize>(call: &Call<N>, signer: Option<&PdaSeeds>) -> ProgramResult {
    let ix = Instruction {
        program_id: call.program_id,
        accounts: call.metas.as_ptr(),
        account_len: N as u64,
        data: call.data.as_ptr(),
        data_len: call.data.len() as u64,
    };
    let mut seeds = [Seed { addr: core::ptr::null(), len: 0 }, Seed { addr: core::ptr::null(), len: 0 }, Seed { addr: core::ptr::null(), len: 0 }, Seed { addr: core::ptr::null(), len: 0 }];
    let mut signers = SignerSeeds { addr: seeds.as_ptr(), len: 0 };
    let mut signer_count = 0u64;
    if let Some(pda) = signer {
        let mut i = 0;
        while i < pda.len {
            seeds[i] = Seed { addr: pda.parts[i].as_ptr(), len: pda.parts[i].len() as u64 };
            i += 1;
        }
        signers = SignerSeeds { addr: seeds.as_ptr(), len: pda.len as u64 };
        signer_count = 1;
    }
    // SAFETY: every pointer designates memory that outlives the call: the input buffer, `call` and
    // the locals above; the C structures match the runtime's layout.
    let rc = unsafe {
        sol_invoke_signed_c(
            &ix as *const Instruction as *const u8,
            call.infos.as_ptr() as *const u8,
            N as u64,
            &signers as *const SignerSeeds as *const u8,
            signer_count,
        )
    };
    if rc != 0 {
        return Err(PerpError::CpiFailed);
    }
    Ok(())
}

/// The Rent sysvar as the runtime writes it.
#[repr(C)]
struct Rent {
    lamports_per_byte_year: u64,
    /// An f64, read as bits: the BPF target has no floating-point support.
    exemption_threshold_bits: u64,
    burn_percent: u8,
}

/// Bytes the runtime charges every account beyond its data.
const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;

/// The runtime's minimum balance, ⌊(128 + space) × lamports_per_byte_year × threshold⌋ in f64,
/// computed exactly with the threshold as mantissa × 2^exponent and rounded up, so the result is
/// never below the runtime's (its f64 product rounds by at most half a unit).
#[inline(never)]
pub fn rent_exempt_minimum(space: u64) -> Result<u64, PerpError> {
    let mut rent = Rent { lamports_per_byte_year: 0, exemption_threshold_bits: 0, burn_percent: 0 };
    // SAFETY: the syscall writes a Rent (same layout) into the buffer.
    if unsafe { sol_get_rent_sysvar(&mut rent as *mut Rent as *mut u8) } != 0 {
        return Err(PerpError::UnsupportedRent);
    }
    let bits = rent.exemption_threshold_bits;
    let biased_exponent = ((bits >> 52) & 0x7ff) as i64;
    if bits >> 63 != 0 || biased_exponent == 0x7ff {
        return Err(PerpError::UnsupportedRent);
    }
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, exponent) =
        if biased_exponent == 0 { (fraction, -1074i64) } else { (fraction | (1u64 << 52), biased_exponent - 1075) };
    let base = checked_mul_u64(ACCOUNT_STORAGE_OVERHEAD + space, rent.lamports_per_byte_year)?;
    let product = mul_u64(base, mantissa);
    let scaled = if exponent >= 0 {
        checked_shl_u128(product, exponent.min(128) as u32)?
    } else {
        let shift = (-exponent).min(128) as u32;
        let floor = shr_u128(product, shift);
        // Round up when bits were shifted out.
        floor + (checked_shl_u128(floor, shift) != Ok(product)) as u128
    };
    if scaled >> 64 != 0 {
        return Err(PerpError::MathOverflow);
    }
    Ok(scaled as u64)
}

/// Creates `target` (a program address) with `space` bytes owned by `owner`, paid by `payer`. A
/// target that already holds lamports (anyone may send some) is topped up, allocated and assigned
/// instead, since CreateAccount refuses it.
#[inline(never)]
pub fn create_pda_account(payer: &AccountInfo, target: &AccountInfo, space: u64, owner: &Pubkey, seeds: &PdaSeeds) -> ProgramResult {
    let minimum = rent_exempt_minimum(space)?;
    let existing = target.lamports();
    if existing == 0 {
        let mut data = [0u8; 52];
        data[4..12].copy_from_slice(&minimum.to_le_bytes());
        data[12..20].copy_from_slice(&space.to_le_bytes());
        data[20..52].copy_from_slice(owner);
        let call = Call {
            program_id: &SYSTEM_PROGRAM_ID,
            metas: [meta(payer, true, true), meta(target, true, true)],
            infos: [info(payer), info(target)],
            data: &data,
        };
        return invoke(&call, Some(seeds));
    }
    if existing < minimum {
        let mut data = [0u8; 12];
        data[0] = 2;
        data[4..12].copy_from_slice(&(minimum - existing).to_le_bytes());
        let call = Call {
            program_id: &SYSTEM_PROGRAM_ID,
            metas: [meta(payer, true, true), meta(target, true, false)],
            infos: [info(payer), info(target)],
            data: &data,
        };
        invoke(&call, None)?;
    }
    let mut allocate = [0u8; 12];
    allocate[0] = 8;
    allocate[4..12].copy_from_slice(&space.to_le_bytes());
    let call = Call { program_id: &SYSTEM_PROGRAM_ID, metas: [meta(target, true, true)], infos: [info(target)], data: &allocate };
    invoke(&call, Some(seeds))?;
    let mut assign = [0u8; 36];
    assign[0] = 1;
    assign[4..36].copy_from_slice(owner);
    let call = Call { program_id: &SYSTEM_PROGRAM_ID, metas: [meta(target, true, true)], infos: [info(target)], data: &assign };
    invoke(&call, Some(seeds))
}

/// SPL Token InitializeAccount3: makes `account` a token account of `mint` owned by `owner`.
#[inline(never)]
pub fn token_initialize_account(account: &AccountInfo, mint: &AccountInfo, owner: &Pubkey) -> ProgramResult {
    let mut data = [0u8; 33];
    data[0] = 18;
    data[1..33].copy_from_slice(owner);
    let call = Call {
        program_id: &TOKEN_PROGRAM_ID,
        metas: [meta(account, true, false), meta(mint, false, false)],
        infos: [info(account), info(mint)],
        data: &data,
    };
    invoke(&call, None)
}

/// An SPL Token Transfer of `amount` from `from` to `to`, authorised by `authority`.
pub struct Transfer<'a> {
    pub from: &'a AccountInfo,
    pub to: &'a AccountInfo,
    pub authority: &'a AccountInfo,
    pub amount: u64,
}

/// Performs `t`; with `signer`, the authority is the program address those seeds give.
#[inline(never)]
pub fn token_transfer(t: &Transfer, signer: Option<&PdaSeeds>) -> ProgramResult {
    let mut data = [0u8; 9];
    data[0] = 3;
    data[1..9].copy_from_slice(&t.amount.to_le_bytes());
    let call = Call {
        program_id: &TOKEN_PROGRAM_ID,
        metas: [meta(t.from, true, false), meta(t.to, true, false), meta(t.authority, false, true)],
        infos: [info(t.from), info(t.to), info(t.authority)],
        data: &data,
    };
    invoke(&call, signer)
}
