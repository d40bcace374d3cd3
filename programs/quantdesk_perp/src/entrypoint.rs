//! The program's entrypoint: parse the input, refuse duplicate accounts, dispatch, and turn an
//! error into its code (a custom program error) after logging its name.

use crate::error::PerpError;
use crate::input::{parse, AccountInfo, Input, MAX_ACCOUNTS};
use crate::log::log;
use crate::processor::{process, Context};
use core::mem::MaybeUninit;

/// # Safety
/// Called by the runtime with its serialized input.
#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    let mut accounts = [const { MaybeUninit::<AccountInfo>::uninit() }; MAX_ACCOUNTS];
    let mut parsed = Input { total_accounts: 0, has_duplicates: false, data: core::ptr::null(), data_len: 0, program_id: core::ptr::null() };
    parse(input, &mut accounts, &mut parsed);
    let result = if parsed.has_duplicates {
        Err(PerpError::DuplicateAccount)
    } else {
        let kept = parsed.total_accounts.min(MAX_ACCOUNTS);
        // SAFETY: `parse` initialised the first `kept` entries; the data and program id point into
        // the input buffer.
        let ctx = Context {
            program_id: &*parsed.program_id,
            accounts: core::slice::from_raw_parts(accounts.as_ptr() as *const AccountInfo, kept),
            data: core::slice::from_raw_parts(parsed.data, parsed.data_len),
        };
        process(&ctx)
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            log(e.name());
            e.code() as u64
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    log("panicked");
    // SAFETY: `abort` ends the program; it takes no arguments.
    unsafe { crate::syscalls::abort() }
}
