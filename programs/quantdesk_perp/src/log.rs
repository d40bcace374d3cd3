//! Program logs (`Program log: ...` lines in transaction metadata) and events (`Program data:
//! <base64>` lines). On the host, where the pure modules are unit-tested, they are no-ops.

#[cfg(target_arch = "bpf")]
use crate::syscalls::{sol_log_, sol_log_64_, sol_log_data, SolBytes};

#[inline(always)]
pub fn log(message: &str) {
    log_bytes(message.as_bytes());
}

#[inline(always)]
pub fn log_bytes(message: &[u8]) {
    // SAFETY: the syscall only reads `len` bytes from `message`.
    #[cfg(target_arch = "bpf")]
    unsafe {
        sol_log_(message.as_ptr(), message.len() as u64)
    }
    #[cfg(not(target_arch = "bpf"))]
    let _ = message;
}

/// Five numbers on one line, for amounts and prices (printed in hex by the runtime).
#[inline(always)]
pub fn log_u64s(a: u64, b: u64, c: u64, d: u64, e: u64) {
    // SAFETY: the syscall takes its arguments by value.
    #[cfg(target_arch = "bpf")]
    unsafe {
        sol_log_64_(a, b, c, d, e)
    }
    #[cfg(not(target_arch = "bpf"))]
    let _ = (a, b, c, d, e);
}

/// One `Program data:` line carrying `data` (an event: discriminator + Borsh fields).
#[inline(always)]
pub fn log_data(data: &[u8]) {
    #[cfg(target_arch = "bpf")]
    {
        let part = SolBytes { addr: data.as_ptr(), len: data.len() as u64 };
        // SAFETY: the syscall reads one slice descriptor, which points into `data`.
        unsafe { sol_log_data(&part, 1) }
    }
    #[cfg(not(target_arch = "bpf"))]
    let _ = data;
}

/// "<what> at <file>:<line>" in one line, e.g. "MathOverflow at src/math/margin.rs:57".
#[cold]
#[inline(never)]
pub fn log_at(what: &str, location: &core::panic::Location<'static>) {
    let mut buf = [0u8; 160];
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        let mut i = 0;
        while i < bytes.len() && n < buf.len() {
            buf[n] = bytes[i];
            n += 1;
            i += 1;
        }
    };
    put(what.as_bytes());
    put(b" at ");
    put(location.file().as_bytes());
    put(b":");
    let mut digits = [0u8; 10];
    let mut line = location.line();
    let mut d = digits.len();
    loop {
        d -= 1;
        digits[d] = b'0' + (line % 10) as u8;
        line /= 10;
        if line == 0 {
            break;
        }
    }
    put(&digits[d..]);
    log_bytes(&buf[..n]);
}
