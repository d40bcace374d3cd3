//! Program logs (`Program log: ...` lines in transaction metadata).

use crate::syscalls::{sol_log_, sol_log_64_};

#[inline(always)]
pub fn log(message: &str) {
    // SAFETY: the syscall only reads `len` bytes from `message`.
    unsafe { sol_log_(message.as_ptr(), message.len() as u64) }
}

/// Five numbers on one line, for amounts and prices (printed in hex by the runtime).
#[inline(always)]
pub fn log_u64s(a: u64, b: u64, c: u64, d: u64, e: u64) {
    // SAFETY: the syscall takes its arguments by value.
    unsafe { sol_log_64_(a, b, c, d, e) }
}
