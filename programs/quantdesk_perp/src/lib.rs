//! QuantDesk perpetual-futures program.
//!
//! Built without the Solana SDK for `bpfel-unknown-none` (see `programs/sbpf/`), so it brings its own
//! entrypoint, syscall bindings and 128-bit arithmetic. Layering follows the house style:
//! - `math/`: pure, checked fixed-point arithmetic shared with `domain/` through `tests/vectors/`;
//! - `oracle/`: pure price validation and the Pyth `PriceUpdateV2` reader;
//! - `state/`: zero-copy account layouts (alignment 1, accessors);
//! - `processor/`: one file per instruction (BPF only: they need the runtime's syscalls).
#![cfg_attr(target_arch = "bpf", no_std)]

pub mod error;
pub mod instruction;
pub mod math;
pub mod oracle;
pub mod state;

#[cfg(target_arch = "bpf")]
mod cpi;
#[cfg(target_arch = "bpf")]
mod entrypoint;
#[cfg(target_arch = "bpf")]
mod input;
#[cfg(target_arch = "bpf")]
mod log;
#[cfg(target_arch = "bpf")]
mod processor;
#[cfg(target_arch = "bpf")]
mod syscalls;

#[cfg(test)]
mod test_vectors;

/// A Solana address.
pub type Pubkey = [u8; 32];

/// Compares two addresses as four 64-bit words. `==` on arrays would become a `bcmp` call, which
/// the BPF target cannot make.
#[inline(always)]
pub fn keys_eq(a: &Pubkey, b: &Pubkey) -> bool {
    let mut diff = 0u64;
    let mut i = 0;
    while i < 32 {
        let x = u64::from_le_bytes([a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4], a[i + 5], a[i + 6], a[i + 7]]);
        let y = u64::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7]]);
        diff |= x ^ y;
        i += 8;
    }
    diff == 0
}
