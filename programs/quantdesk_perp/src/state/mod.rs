//! Zero-copy account layouts, each declared once with `account_layout!` (see `macros.rs`): the
//! struct is `#[repr(C)]` over byte arrays, so its alignment is 1 and it can be laid over account
//! data at any address, with little-endian numbers behind accessors. The first eight bytes are
//! Anchor's account discriminator, sha256("account:<Name>")[..8]. The IDL's account types are
//! generated from the same declarations.

pub mod config;
pub mod keeper;
pub mod market;
pub mod position;

pub use config::Config;
pub use keeper::Keeper;
pub use market::Market;
pub use position::Position;

use crate::error::PerpError;

/// An account type stored by this program.
pub trait Account: Sized {
    const DISCRIMINATOR: [u8; 8];
    const LEN: usize = core::mem::size_of::<Self>();

    /// Views `data` as this type after checking length and discriminator.
    #[inline(always)]
    fn load(data: &[u8]) -> Result<&Self, PerpError> {
        check::<Self>(data)?;
        // SAFETY: the length equals size_of::<Self>() and Self has alignment 1 (only byte arrays),
        // so every bit pattern is a valid Self and the reference stays within `data`.
        Ok(unsafe { &*(data.as_ptr() as *const Self) })
    }

    #[inline(always)]
    fn load_mut(data: &mut [u8]) -> Result<&mut Self, PerpError> {
        check::<Self>(data)?;
        // SAFETY: as in `load`; the exclusive borrow of `data` carries over to the result.
        Ok(unsafe { &mut *(data.as_mut_ptr() as *mut Self) })
    }

    /// Writes the discriminator into freshly allocated (zeroed) data and views it.
    #[inline(always)]
    fn init(data: &mut [u8]) -> Result<&mut Self, PerpError> {
        if data.len() != Self::LEN {
            return Err(PerpError::InvalidAccountData);
        }
        if data[..8].iter().any(|b| *b != 0) {
            return Err(PerpError::AlreadyInitialized);
        }
        data[..8].copy_from_slice(&Self::DISCRIMINATOR);
        Self::load_mut(data)
    }
}

#[inline(always)]
fn check<T: Account>(data: &[u8]) -> Result<(), PerpError> {
    if data.len() != T::LEN {
        return Err(PerpError::InvalidAccountData);
    }
    // SAFETY: the length check above leaves at least 8 bytes (every layout starts with them).
    let head = unsafe { &*(data.as_ptr() as *const [u8; 8]) };
    if <u64 as crate::LeField>::get(head) != u64::from_le_bytes(T::DISCRIMINATOR) {
        return Err(PerpError::InvalidAccountData);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_have_alignment_one_and_fixed_sizes() {
        assert_eq!(core::mem::align_of::<Config>(), 1);
        assert_eq!(core::mem::align_of::<Market>(), 1);
        assert_eq!(core::mem::align_of::<Position>(), 1);
        assert_eq!(core::mem::align_of::<Keeper>(), 1);
        assert_eq!(Config::LEN, 254);
        assert_eq!(Market::LEN, 226);
        assert_eq!(Position::LEN, 121);
        assert_eq!(Keeper::LEN, 98);
    }

    #[test]
    fn load_checks_length_and_discriminator() {
        let mut data = vec![0u8; Position::LEN];
        assert_eq!(Position::load(&data).err(), Some(PerpError::InvalidAccountData));
        Position::init(&mut data).unwrap().set_collateral(5);
        assert_eq!(Position::load(&data).unwrap().collateral(), 5);
        assert_eq!(Position::init(&mut data).err(), Some(PerpError::AlreadyInitialized));
        assert_eq!(Market::load(&data).err(), Some(PerpError::InvalidAccountData));
        assert_eq!(Position::load(&data[..Position::LEN - 1]).err(), Some(PerpError::InvalidAccountData));
    }

    #[test]
    fn discriminators_come_from_the_type_names() {
        assert_eq!(Config::DISCRIMINATOR, [155, 12, 170, 224, 30, 250, 204, 130]);
        assert_eq!(Position::DISCRIMINATOR, [170, 188, 143, 228, 122, 64, 247, 208]);
    }
}
