//! QuantDesk perpetual-futures program.
//!
//! Built without the Solana SDK for `bpfel-unknown-none` (see `programs/sbpf/`), so it brings its own
//! entrypoint, syscall bindings and 128-bit arithmetic. Layering follows the house style:
//! - `math/`: pure, checked fixed-point arithmetic shared with `domain/` through `tests/vectors/`;
//! - `oracle/`: pure price validation and the Pyth `PriceUpdateV2` reader;
//! - `state/`: zero-copy account layouts (alignment 1, accessors);
//! - `processor/`: one file per instruction (BPF only: they need the runtime's syscalls).
//! - `instruction/`, `state/`, `error.rs`: the interface, declared once with the macros of
//!   `macros.rs`; `idl.rs` (host tests) generates the IDL from it.
#![cfg_attr(target_arch = "bpf", no_std)]

#[macro_use]
mod macros;

pub mod error;
pub mod event;
pub mod ids;
pub mod input;
pub mod instruction;
pub mod log;
pub mod math;
pub mod oracle;
pub mod sha256;
pub mod state;

#[cfg(target_arch = "bpf")]
mod cpi;
#[cfg(target_arch = "bpf")]
mod entrypoint;
#[cfg(target_arch = "bpf")]
mod processor;
#[cfg(target_arch = "bpf")]
mod syscalls;

#[cfg(test)]
mod idl;
#[cfg(test)]
mod test_vectors;

/// A Solana address.
pub type Pubkey = [u8; 32];

/// A little-endian number stored as a byte array at any address. Account data and instruction
/// data start 8-aligned in the runtime's input buffer, so most fields are naturally aligned: those
/// are read and written with one load or store, the others byte by byte (LLVM's BPF backend splits
/// every access it cannot prove aligned into single bytes).
pub trait LeField: Sized {
    type Bytes;
    fn get(bytes: &Self::Bytes) -> Self;
    fn put(self, bytes: &mut Self::Bytes);
}

macro_rules! le_field_impl {
    ($($t:ty),*) => {$(
        impl LeField for $t {
            type Bytes = [u8; core::mem::size_of::<$t>()];
            #[inline(always)]
            fn get(bytes: &Self::Bytes) -> $t {
                let p = bytes.as_ptr();
                if (p as usize) % core::mem::align_of::<$t>() == 0 {
                    // SAFETY: the array holds size_of::<$t>() bytes and the address is aligned for $t.
                    // Volatile, or LLVM merges this load with the byte-wise one below into a single
                    // unaligned load, which the BPF backend splits into bytes again.
                    <$t>::from_le(unsafe { (p as *const $t).read_volatile() })
                } else {
                    <$t>::from_le_bytes(*bytes)
                }
            }
            #[inline(always)]
            fn put(self, bytes: &mut Self::Bytes) {
                let p = bytes.as_mut_ptr();
                if (p as usize) % core::mem::align_of::<$t>() == 0 {
                    // SAFETY: as in `get`, and the borrow is exclusive. Volatile for the same reason.
                    unsafe { (p as *mut $t).write_volatile(self.to_le()) }
                } else {
                    *bytes = self.to_le_bytes();
                }
            }
        }
    )*};
}

le_field_impl!(u16, u32, i32, u64, i64);

/// Compares two addresses as four 64-bit words. `==` on arrays would become a `bcmp` call, which
/// the BPF target cannot make.
#[inline(always)]
pub fn keys_eq(a: &Pubkey, b: &Pubkey) -> bool {
    let mut diff = 0u64;
    let mut i = 0;
    while i < 32 {
        // SAFETY: bytes i..i + 8 lie within both 32-byte arrays.
        let (x, y) = unsafe { (&*(a.as_ptr().add(i) as *const [u8; 8]), &*(b.as_ptr().add(i) as *const [u8; 8])) };
        diff |= u64::get(x) ^ u64::get(y);
        i += 8;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::{keys_eq, LeField};

    #[test]
    fn fields_read_and_write_at_any_alignment() {
        let mut buf = [0u8; 24];
        for offset in 0..8 {
            let field: &mut [u8; 8] = (&mut buf[offset..offset + 8]).try_into().unwrap();
            (-0x0102_0304_0506_0708i64).put(field);
            assert_eq!(*field, (-0x0102_0304_0506_0708i64).to_le_bytes());
            assert_eq!(i64::get(field), -0x0102_0304_0506_0708);
            let half: &mut [u8; 2] = (&mut buf[offset + 8..offset + 10]).try_into().unwrap();
            0xbeefu16.put(half);
            assert_eq!(u16::get(half), 0xbeef);
        }
    }

    #[test]
    fn keys_compare_at_any_alignment() {
        let mut buf = [7u8; 80];
        for offset in 0..8 {
            let a: [u8; 32] = buf[offset..offset + 32].try_into().unwrap();
            let b: &[u8; 32] = (&buf[40 + offset..72 + offset]).try_into().unwrap();
            assert!(keys_eq(&a, b));
            buf[40 + offset + 31] = 8;
            let b: &[u8; 32] = (&buf[40 + offset..72 + offset]).try_into().unwrap();
            assert!(!keys_eq(&a, b));
            buf[40 + offset + 31] = 7;
        }
    }
}
