//! Pure, checked fixed-point arithmetic. No syscalls, no accounts: host `cargo test` covers it and
//! checks it against the shared vectors in `tests/vectors/`.

pub mod constants;
pub mod liquidation;
pub mod margin;
pub mod price;
pub mod safe_math;
pub mod wide;
