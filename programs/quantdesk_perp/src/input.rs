//! The runtime's serialized input (loader v2/v3, aligned format), read in place:
//!   u64 account count, then per account either
//!     u8 0xff, u8 is_signer, u8 is_writable, u8 executable, [u8; 4] padding, key, owner,
//!     u64 lamports, u64 data_len, data, 10 KiB of realloc room, padding to 8, u64 rent_epoch
//!   or, for a repeat of an earlier account, u8 its index and [u8; 7] padding;
//!   then u64 instruction data length, the data, and the program id.

#![cfg_attr(not(target_arch = "bpf"), allow(dead_code))]

use crate::Pubkey;
use core::mem::MaybeUninit;
use core::ptr::addr_of;

/// Most accounts kept: an `update_oracle_price` with 32 markets needs 34.
pub const MAX_ACCOUNTS: usize = 40;
const NOT_A_DUPLICATE: u8 = 0xff;
/// Room the runtime leaves after each account's data so a CPI may grow it.
const MAX_PERMITTED_DATA_INCREASE: usize = 10 * 1024;

#[repr(C)]
struct AccountHeader {
    duplicate: u8,
    is_signer: u8,
    is_writable: u8,
    executable: u8,
    padding: [u8; 4],
    key: Pubkey,
    owner: Pubkey,
    lamports: u64,
    data_len: u64,
}

/// One account in the input buffer. Reads go to the buffer each time, so values the runtime
/// changes during a CPI (lamports, owner, data length) are seen afterwards.
#[derive(Clone, Copy)]
pub struct AccountInfo(*mut AccountHeader);

impl AccountInfo {
    #[inline(always)]
    fn header(&self) -> &AccountHeader {
        // SAFETY: the pointer was taken from the runtime's input buffer, which lives for the whole
        // instruction and is 8-aligned at every account record.
        unsafe { &*self.0 }
    }

    #[inline(always)]
    pub fn key(&self) -> &Pubkey {
        &self.header().key
    }
    #[inline(always)]
    pub fn owner(&self) -> &Pubkey {
        &self.header().owner
    }
    #[inline(always)]
    pub fn is_signer(&self) -> bool {
        self.header().is_signer != 0
    }
    #[inline(always)]
    pub fn is_writable(&self) -> bool {
        self.header().is_writable != 0
    }
    #[inline(always)]
    pub fn executable(&self) -> bool {
        self.header().executable != 0
    }
    #[inline(always)]
    pub fn lamports(&self) -> u64 {
        self.header().lamports
    }
    #[inline(always)]
    pub fn data_len(&self) -> usize {
        self.header().data_len as usize
    }

    #[inline(always)]
    pub fn lamports_ptr(&self) -> *mut u64 {
        // SAFETY: a field of the record the pointer designates (no reference is created).
        unsafe { core::ptr::addr_of_mut!((*self.0).lamports) }
    }

    #[inline(always)]
    pub fn data_ptr(&self) -> *mut u8 {
        // SAFETY: the data follows the header in the same record.
        unsafe { (self.0 as *mut u8).add(core::mem::size_of::<AccountHeader>()) }
    }

    /// The account's data, read-only.
    #[inline(always)]
    pub fn data(&self) -> &[u8] {
        // SAFETY: data_len bytes follow the header. Mutable views exist only through `data_mut`,
        // whose callers guarantee no shared view of the same account is live.
        unsafe { core::slice::from_raw_parts(self.data_ptr(), self.data_len()) }
    }

    /// The account's data, writable.
    ///
    /// # Safety
    /// No other reference to this account's data may be live while the result is. The entrypoint
    /// refuses duplicate accounts, so distinct `AccountInfo`s never share data; each processor
    /// borrows each account's data at most once.
    #[inline(always)]
    pub unsafe fn data_mut(&self) -> &mut [u8] {
        core::slice::from_raw_parts_mut(self.data_ptr(), self.data_len())
    }
}

/// What `parse` found besides the accounts (out-parameter: BPF cannot return aggregates).
pub struct Input {
    /// Accounts passed, including any beyond MAX_ACCOUNTS (which are not kept).
    pub total_accounts: usize,
    pub has_duplicates: bool,
    pub data: *const u8,
    pub data_len: usize,
    pub program_id: *const Pubkey,
}

/// Walks the input buffer, keeping up to MAX_ACCOUNTS accounts in `accounts`.
///
/// # Safety
/// `input` must be the pointer the runtime passed to the entrypoint.
#[inline(always)]
pub unsafe fn parse(input: *mut u8, accounts: &mut [MaybeUninit<AccountInfo>; MAX_ACCOUNTS], out: &mut Input) {
    let mut p = input;
    let total = *(p as *const u64) as usize;
    p = p.add(8);
    let mut has_duplicates = false;
    let mut i = 0;
    while i < total {
        let duplicate_of = *p;
        if duplicate_of != NOT_A_DUPLICATE {
            has_duplicates = true;
            let original = duplicate_of as usize;
            if i < MAX_ACCOUNTS && original < i {
                accounts[i] = accounts[original];
            }
            p = p.add(8);
        } else {
            let header = p as *mut AccountHeader;
            if i < MAX_ACCOUNTS {
                accounts[i].write(AccountInfo(header));
            }
            let data_len = addr_of!((*header).data_len).read() as usize;
            let end = p as usize + core::mem::size_of::<AccountHeader>() + data_len + MAX_PERMITTED_DATA_INCREASE;
            // Round up to 8, then skip rent_epoch.
            p = p.add(((end + 7) & !7) - p as usize + 8);
        }
        i += 1;
    }
    let data_len = *(p as *const u64) as usize;
    p = p.add(8);
    out.total_accounts = total;
    out.has_duplicates = has_duplicates;
    out.data = p;
    out.data_len = data_len;
    out.program_id = p.add(data_len) as *const Pubkey;
}
