//! The declarative layer: each account layout, argument type, event and instruction account list is
//! written once, with one of these macros, and everything else is generated from that declaration:
//! the zero-copy struct and its accessors, the Borsh reader or writer, the typed accounts struct
//! with its slice-pattern parser and its signer / writable / program checks, the discriminator
//! (from the name, `sha256.rs`) and, for host tests only, the IDL description that `idl.rs` turns
//! into `idl/quantdesk_perp.json`. Field types are single tokens: `u8 bool u16 u32 u64 i32 i64`,
//! `Pubkey`, `[u8; N]`, or the name of another declared type.

// ---------------------------------------------------------------------------------------------
// Field types

/// Storage of a field in a zero-copy account: little-endian byte arrays (alignment 1).
macro_rules! stored {
    (u8) => { u8 };
    (bool) => { u8 };
    (u16) => { [u8; 2] };
    (u32) => { [u8; 4] };
    (i32) => { [u8; 4] };
    (u64) => { [u8; 8] };
    (i64) => { [u8; 8] };
    (Pubkey) => { $crate::Pubkey };
    ([u8; $n:literal]) => { [u8; $n] };
}

/// The Rust type of a Borsh field (arguments, events).
macro_rules! native {
    (Pubkey) => { $crate::Pubkey };
    ([u8; $n:literal]) => { [u8; $n] };
    ($t:ident) => { $t };
}

/// Borsh size of a field.
macro_rules! borsh_len {
    (u8) => { 1 };
    (bool) => { 1 };
    (u16) => { 2 };
    (u32) => { 4 };
    (i32) => { 4 };
    (u64) => { 8 };
    (i64) => { 8 };
    (Pubkey) => { 32 };
    ([u8; $n:literal]) => { $n };
    ($t:ident) => { <$t>::LEN };
}

/// Reads one Borsh field.
macro_rules! read_field {
    ($r:ident, u8) => { $r.u8()? };
    ($r:ident, bool) => { $r.bool()? };
    ($r:ident, u16) => { $r.u16()? };
    ($r:ident, u32) => { $r.u32()? };
    ($r:ident, i32) => { $r.i32()? };
    ($r:ident, u64) => { $r.u64()? };
    ($r:ident, i64) => { $r.i64()? };
    ($r:ident, Pubkey) => { *$r.bytes::<32>()? };
    ($r:ident, [u8; $n:literal]) => { *$r.bytes::<$n>()? };
    ($r:ident, $t:ident) => { <$t>::read($r)? };
}

/// Writes one Borsh field.
macro_rules! write_field {
    ($w:ident, $v:expr, u8) => { $w.put(&[$v]) };
    ($w:ident, $v:expr, bool) => { $w.put(&[$v as u8]) };
    ($w:ident, $v:expr, Pubkey) => { $w.put(&$v) };
    ($w:ident, $v:expr, [u8; $n:literal]) => { $w.put(&$v) };
    ($w:ident, $v:expr, u16) => { $w.put(&$v.to_le_bytes()) };
    ($w:ident, $v:expr, u32) => { $w.put(&$v.to_le_bytes()) };
    ($w:ident, $v:expr, i32) => { $w.put(&$v.to_le_bytes()) };
    ($w:ident, $v:expr, u64) => { $w.put(&$v.to_le_bytes()) };
    ($w:ident, $v:expr, i64) => { $w.put(&$v.to_le_bytes()) };
    ($w:ident, $v:expr, $t:ident) => { $v.write($w) };
}

/// The IDL type of a field.
#[cfg(test)]
macro_rules! idl_type {
    (u8) => { $crate::idl::IdlType::U8 };
    (bool) => { $crate::idl::IdlType::Bool };
    (u16) => { $crate::idl::IdlType::U16 };
    (u32) => { $crate::idl::IdlType::U32 };
    (i32) => { $crate::idl::IdlType::I32 };
    (u64) => { $crate::idl::IdlType::U64 };
    (i64) => { $crate::idl::IdlType::I64 };
    (Pubkey) => { $crate::idl::IdlType::Pubkey };
    ([u8; $n:literal]) => { $crate::idl::IdlType::Bytes($n) };
    ($t:ident) => { $crate::idl::IdlType::Defined(stringify!($t)) };
}

/// Getter and setter of a zero-copy field.
macro_rules! accessors {
    ($field:ident, $set:ident, u8) => {
        #[inline(always)]
        pub fn $field(&self) -> u8 {
            self.$field
        }
        #[inline(always)]
        pub fn $set(&mut self, value: u8) {
            self.$field = value;
        }
    };
    ($field:ident, $set:ident, bool) => {
        #[inline(always)]
        pub fn $field(&self) -> bool {
            self.$field != 0
        }
        #[inline(always)]
        pub fn $set(&mut self, value: bool) {
            self.$field = value as u8;
        }
    };
    ($field:ident, $set:ident, Pubkey) => {
        #[inline(always)]
        pub fn $field(&self) -> &$crate::Pubkey {
            &self.$field
        }
        #[inline(always)]
        pub fn $set(&mut self, value: &$crate::Pubkey) {
            self.$field = *value;
        }
    };
    ($field:ident, $set:ident, [u8; $n:literal]) => {
        #[inline(always)]
        pub fn $field(&self) -> &[u8; $n] {
            &self.$field
        }
        #[inline(always)]
        pub fn $set(&mut self, value: &[u8; $n]) {
            self.$field = *value;
        }
    };
    ($field:ident, $set:ident, $t:ident) => {
        #[inline(always)]
        pub fn $field(&self) -> $t {
            <$t as $crate::LeField>::get(&self.$field)
        }
        #[inline(always)]
        pub fn $set(&mut self, value: $t) {
            <$t as $crate::LeField>::put(value, &mut self.$field)
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Declarations

/// A zero-copy account stored by this program: `#[repr(C)]` over byte arrays (alignment 1, no
/// padding, so the layout is exactly the Borsh layout the IDL describes), the Anchor account
/// discriminator sha256("account:<Name>")[..8] first, then the fields in order.
macro_rules! account_layout {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident / $set:ident : $ty:tt ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[repr(C)]
        pub struct $name {
            discriminator: [u8; 8],
            $( $(#[doc = $fdoc])* $field: stored!($ty), )*
        }

        impl $crate::state::Account for $name {
            const DISCRIMINATOR: [u8; 8] = $crate::sha256::discriminator(concat!("account:", stringify!($name)));
        }

        impl $name {
            $( accessors!($field, $set, $ty); )*
        }

        #[cfg(test)]
        impl $name {
            pub const IDL: $crate::idl::Layout = $crate::idl::Layout {
                name: stringify!($name),
                docs: &[$($doc),*],
                discriminator: <$name as $crate::state::Account>::DISCRIMINATOR,
                len: core::mem::size_of::<$name>(),
                fields: &[$(
                    $crate::idl::LayoutField {
                        field: $crate::idl::IdlField { name: stringify!($field), docs: &[$($fdoc),*], ty: idl_type!($ty) },
                        offset: core::mem::offset_of!($name, $field),
                    }
                ),*],
            };
        }
    };
}

/// A Borsh-encoded struct (instruction arguments, their nested types, events): native fields, a
/// reader, a writer and its fixed encoded length.
macro_rules! borsh_struct {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident : $ty:tt ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $( $(#[doc = $fdoc])* pub $field: native!($ty), )*
        }

        impl $name {
            /// Encoded length in bytes.
            pub const LEN: usize = 0 $( + borsh_len!($ty) )*;

            #[inline(always)]
            #[allow(unused_variables)]
            pub fn read(r: &mut $crate::instruction::Reader) -> Result<Self, $crate::error::PerpError> {
                Ok($name { $( $field: read_field!(r, $ty), )* })
            }

            #[inline(always)]
            #[allow(unused_variables)]
            pub fn write(&self, w: &mut $crate::instruction::Writer) {
                $( write_field!(w, self.$field, $ty); )*
            }
        }

        #[cfg(test)]
        impl $name {
            pub const IDL: $crate::idl::TypeDef = $crate::idl::TypeDef {
                name: stringify!($name),
                docs: &[$($doc),*],
                fields: &[$( $crate::idl::IdlField { name: stringify!($field), docs: &[$($fdoc),*], ty: idl_type!($ty) } ),*],
            };
        }
    };
}

/// Instruction arguments: a Borsh struct decoded exactly (missing and left-over bytes are errors).
macro_rules! instruction_args {
    ($(#[doc = $doc:literal])* pub struct $name:ident { $($body:tt)* }) => {
        borsh_struct! { $(#[doc = $doc])* pub struct $name { $($body)* } }

        impl<'a> $crate::instruction::Args<'a> for $name {
            #[inline(always)]
            fn decode(r: &mut $crate::instruction::Reader<'a>) -> Result<Self, $crate::error::PerpError> {
                let args = Self::read(r)?;
                r.finish()?;
                Ok(args)
            }
            #[cfg(test)]
            const IDL: &'static [$crate::idl::IdlField] = Self::IDL.fields;
        }
    };
}

/// An event, logged with `sol_log_data` as Anchor does: sha256("event:<Name>")[..8], then Borsh.
macro_rules! event {
    ($(#[doc = $doc:literal])* pub struct $name:ident { $($body:tt)* }) => {
        borsh_struct! { $(#[doc = $doc])* pub struct $name { $($body)* } }

        impl $name {
            pub const DISCRIMINATOR: [u8; 8] = $crate::sha256::discriminator(concat!("event:", stringify!($name)));

            /// Logs the event as one `Program data:` line.
            #[inline(always)]
            pub fn emit(&self) {
                let mut buf = [0u8; 8 + Self::LEN];
                let mut w = $crate::instruction::Writer::new(&mut buf);
                w.put(&Self::DISCRIMINATOR);
                self.write(&mut w);
                $crate::log::log_data(&buf);
            }
        }
    };
}

/// Whether an account kind is writable / a signer, for the IDL.
#[cfg(test)]
macro_rules! kind_flags {
    (signer) => { (false, true) };
    (payer) => { (true, true) };
    (writable) => { (true, false) };
    (readonly) => { (false, false) };
    (program) => { (false, false) };
}

/// The check an account kind stands for.
macro_rules! check_kind {
    ($a:ident, signer) => { $crate::instruction::accounts::require_signer($a)? };
    ($a:ident, payer) => {
        $crate::instruction::accounts::require_signer($a)?;
        $crate::instruction::accounts::require_writable($a)?
    };
    ($a:ident, writable) => { $crate::instruction::accounts::require_writable($a)? };
    ($a:ident, readonly) => {};
    ($a:ident, program, $id:path) => { $crate::instruction::accounts::require_program($a, &$id)? };
}

#[cfg(test)]
macro_rules! idl_address {
    () => { None };
    ($id:path) => { Some(&$id) };
}

#[cfg(test)]
macro_rules! idl_seed {
    ($s:literal) => { $crate::idl::Seed::Const($s) };
    ($a:ident) => { $crate::idl::Seed::Account(stringify!($a)) };
}

/// One instruction's accounts, in order, each with its kind:
///   `signer` signs · `payer` signs and is written (pays rent) · `writable` · `readonly` ·
///   `program(ID)` must be that program.
/// An optional `[seeds…]` after the kind documents the account as a program address (IDL only).
/// After the list, `optional <name>;` takes one trailing account that may be left out (or passed
/// as the program's own id, Anchor's placeholder), or `remaining <name>;` takes all the rest.
/// The generated `parse` is a slice pattern, then every check in declaration order; accounts
/// beyond those declared are ignored.
macro_rules! instruction_accounts {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident : $kind:ident $( ( $karg:path ) )? $( [ $($seed:tt),* ] )? ),* $(,)?
        }
        $( $(#[doc = $odoc:literal])* optional $opt:ident ; )?
        $( remaining $rem:ident ; )?
    ) => {
        $(#[doc = $doc])*
        pub struct $name<'a> {
            $( $(#[doc = $fdoc])* pub $field: &'a $crate::input::AccountInfo, )*
            $( $(#[doc = $odoc])* pub $opt: Option<&'a $crate::input::AccountInfo>, )?
            $( pub $rem: &'a [$crate::input::AccountInfo], )?
        }

        impl<'a> $name<'a> {
            #[inline(always)]
            #[allow(unused_variables)]
            pub fn parse(accounts: &'a [$crate::input::AccountInfo], program_id: &$crate::Pubkey) -> Result<Self, $crate::error::PerpError> {
                let [$($field,)* rest @ ..] = accounts else {
                    return Err($crate::error::PerpError::NotEnoughAccounts);
                };
                $( check_kind!($field, $kind $(, $karg)?); )*
                Ok($name {
                    $( $field, )*
                    $( $opt: $crate::instruction::accounts::optional_account(rest, program_id), )?
                    $( $rem: rest, )?
                })
            }
        }

        #[cfg(test)]
        impl $name<'_> {
            pub const IDL: &'static [$crate::idl::IdlAccountItem] = &[
                $( $crate::idl::IdlAccountItem {
                    name: stringify!($field),
                    docs: &[$($fdoc),*],
                    writable: kind_flags!($kind).0,
                    signer: kind_flags!($kind).1,
                    optional: false,
                    address: idl_address!($($karg)?),
                    pda: &[$($( idl_seed!($seed) ),*)?],
                }, )*
                $( $crate::idl::IdlAccountItem {
                    name: stringify!($opt),
                    docs: &[$($odoc),*],
                    writable: false,
                    signer: false,
                    optional: true,
                    address: None,
                    pda: &[],
                }, )?
            ];
        }
    };
}
