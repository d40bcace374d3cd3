//! The Solana runtime syscalls this program calls. Each becomes an undefined symbol in the object
//! file, which the packer (programs/sbpf/pack.mjs) turns into a `call -1` with a dynamic
//! relocation naming it; the loader then binds it by name.

use crate::Pubkey;

/// A byte slice as the syscalls take it (C layout).
#[repr(C)]
pub struct SolBytes {
    pub addr: *const u8,
    pub len: u64,
}

extern "C" {
    pub fn sol_log_(message: *const u8, len: u64);
    pub fn sol_log_64_(a: u64, b: u64, c: u64, d: u64, e: u64);
    pub fn sol_log_data(data: *const SolBytes, count: u64);
    pub fn sol_get_clock_sysvar(out: *mut u8) -> u64;
    pub fn sol_get_rent_sysvar(out: *mut u8) -> u64;
    pub fn sol_try_find_program_address(
        seeds: *const SolBytes,
        seeds_len: u64,
        program_id: *const Pubkey,
        address: *mut Pubkey,
        bump: *mut u8,
    ) -> u64;
    pub fn sol_invoke_signed_c(
        instruction: *const u8,
        account_infos: *const u8,
        account_infos_len: u64,
        signers_seeds: *const u8,
        signers_seeds_len: u64,
    ) -> u64;
    pub fn abort() -> !;
}
