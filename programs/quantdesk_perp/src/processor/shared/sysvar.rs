//! Sysvars read through syscalls (no sysvar accounts needed).

use crate::error::PerpError;
use crate::syscalls::sol_get_clock_sysvar;

/// The Clock sysvar as the runtime writes it.
#[repr(C)]
pub struct Clock {
    pub slot: u64,
    pub epoch_start_timestamp: i64,
    pub epoch: u64,
    pub leader_schedule_epoch: u64,
    /// Unix seconds, the clock every price age is measured against.
    pub unix_timestamp: i64,
}

/// Reads the clock into `out` (an out-parameter: BPF cannot return aggregates).
#[inline(always)]
pub fn clock(out: &mut Clock) -> Result<(), PerpError> {
    // SAFETY: the syscall writes a Clock (same layout) into `out`.
    if unsafe { sol_get_clock_sysvar(out as *mut Clock as *mut u8) } != 0 {
        return Err(PerpError::CpiFailed);
    }
    Ok(())
}

#[inline(always)]
pub fn empty_clock() -> Clock {
    Clock { slot: 0, epoch_start_timestamp: 0, epoch: 0, leader_schedule_epoch: 0, unix_timestamp: 0 }
}
