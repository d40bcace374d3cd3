//! Checks and steps more than one instruction uses.

pub mod accounts;
pub mod oracle;
pub mod sysvar;
