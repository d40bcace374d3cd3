//! The program's interface, declared once: which instructions exist (`for_each_instruction!`),
//! their accounts (`accounts.rs`) and arguments (`args.rs`). Instruction data is an 8-byte
//! discriminator, sha256("global:<name>")[..8] computed from the name at compile time, followed by
//! Borsh-encoded arguments; decoding is exact (missing bytes and bytes left over are both errors).
//! The dispatcher (`processor/mod.rs`) and the IDL (`idl.rs`) are both generated from the table,
//! so adding an instruction is: a line here, its accounts and arguments, its processor file.

pub mod accounts;
pub mod args;

use crate::error::PerpError;
use crate::LeField;

/// Calls `$m!` with every instruction as `name: AccountsStruct, ArgsType;` — the one list of
/// instructions. Most frequent first: the dispatcher compares discriminators in this order.
macro_rules! for_each_instruction {
    ($m:ident) => {
        $m! {
            /// The oracle authority pushes prices for one or more markets; each must pass the push
            /// bounds and move its publish time strictly forward.
            update_oracle_price: UpdateOraclePriceAccounts, PriceUpdates;
            /// Liquidates a position below maintenance margin at the liquidation-grade price: just
            /// enough to restore maintenance plus the buffer, or all of it; the fee is split between
            /// the keeper and the insurance fund, which also covers a loss beyond collateral.
            liquidate: LiquidateAccounts, NoArgs;
            /// Opens a long (size > 0) or short (size < 0) at the resolved price within initial margin.
            open_position: OpenPositionAccounts, OpenPositionArgs;
            /// Closes the whole position at the resolved price; PnL settles into collateral.
            close_position: ClosePositionAccounts, NoArgs;
            /// Moves collateral into the vault; the first deposit creates the position.
            deposit: DepositAccounts, AmountArgs;
            /// Returns collateral; with a position open, what stays must meet initial margin.
            withdraw: WithdrawAccounts, AmountArgs;
            /// Creates a market with its Pyth feed id and bounds.
            create_market: CreateMarketAccounts, CreateMarketArgs;
            /// The admin pins the Pyth PriceUpdateV2 account a market trusts (all zeros: none).
            set_market_oracle: SetMarketOracleAccounts, SetMarketOracleArgs;
            /// Creates the config and the collateral vault.
            initialize: InitializeAccounts, InitializeArgs;
            /// Creates the insurance fund and the keeper stake vault; sets the minimum stake and cooldown.
            initialize_keeper_network: InitializeKeeperNetworkAccounts, InitializeKeeperNetworkArgs;
            /// Locks a stake and registers (or re-registers) the signer as a keeper.
            register_keeper: RegisterKeeperAccounts, RegisterKeeperArgs;
            /// Starts the cooldown after which the stake can be withdrawn; the keeper stops liquidating.
            deregister_keeper: DeregisterKeeperAccounts, NoArgs;
            /// Returns the stake once the cooldown has passed.
            withdraw_keeper_stake: WithdrawKeeperStakeAccounts, NoArgs;
        }
    };
}
pub(crate) use for_each_instruction;

/// `discriminators::<name>`: the first eight bytes of each instruction's data, as a u64.
pub mod discriminators {
    macro_rules! define {
        ($( $(#[doc = $doc:literal])* $name:ident : $accounts:ident, $args:ident; )*) => {
            $(
                #[allow(non_upper_case_globals)]
                pub const $name: u64 = u64::from_le_bytes($crate::sha256::discriminator(concat!("global:", stringify!($name))));
            )*
        };
    }
    super::for_each_instruction!(define);
}

/// Decoding of an instruction's arguments.
pub trait Args<'a>: Sized {
    /// Reads the arguments and refuses bytes left over.
    fn decode(r: &mut Reader<'a>) -> Result<Self, PerpError>;
    /// The arguments as the IDL lists them.
    #[cfg(test)]
    const IDL: &'static [crate::idl::IdlField];
}

/// A cursor over Borsh-encoded arguments.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// The next N bytes, in place.
    #[inline(always)]
    pub fn bytes<const N: usize>(&mut self) -> Result<&'a [u8; N], PerpError> {
        let end = self.pos + N;
        if end > self.data.len() {
            return Err(PerpError::InstructionDataTooShort);
        }
        // SAFETY: pos + N ≤ len, so the N bytes lie within `data`, borrowed for 'a.
        let bytes = unsafe { &*(self.data.as_ptr().add(self.pos) as *const [u8; N]) };
        self.pos = end;
        Ok(bytes)
    }

    #[inline(always)]
    pub fn u8(&mut self) -> Result<u8, PerpError> {
        Ok(self.bytes::<1>()?[0])
    }
    /// Borsh's bool: exactly 0 or 1.
    #[inline(always)]
    pub fn bool(&mut self) -> Result<bool, PerpError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(PerpError::InvalidArgument),
        }
    }
    #[inline(always)]
    pub fn u16(&mut self) -> Result<u16, PerpError> {
        Ok(u16::get(self.bytes()?))
    }
    #[inline(always)]
    pub fn u32(&mut self) -> Result<u32, PerpError> {
        Ok(u32::get(self.bytes()?))
    }
    #[inline(always)]
    pub fn i32(&mut self) -> Result<i32, PerpError> {
        Ok(i32::get(self.bytes()?))
    }
    #[inline(always)]
    pub fn u64(&mut self) -> Result<u64, PerpError> {
        Ok(u64::get(self.bytes()?))
    }
    #[inline(always)]
    pub fn i64(&mut self) -> Result<i64, PerpError> {
        Ok(i64::get(self.bytes()?))
    }

    /// The rest, unread.
    #[inline(always)]
    pub fn remaining(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// Fails when bytes are left over.
    #[inline(always)]
    pub fn finish(&self) -> Result<(), PerpError> {
        if self.pos != self.data.len() {
            return Err(PerpError::InstructionDataTooLong);
        }
        Ok(())
    }
}

/// Writes Borsh fields into a buffer sized for them (events: the length is a constant of the type,
/// so a write past the end is a bug, which `put` turns into a silent truncation rather than a panic).
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    #[inline(always)]
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    #[inline(always)]
    pub fn put(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() && self.pos < self.buf.len() {
            self.buf[self.pos] = bytes[i];
            self.pos += 1;
            i += 1;
        }
    }

    #[cfg(test)]
    pub fn written(&self) -> usize {
        self.pos
    }
}

/// Splits off the discriminator.
#[inline(always)]
pub fn split_discriminator(data: &[u8]) -> Result<(u64, Reader<'_>), PerpError> {
    let mut r = Reader::new(data);
    let discriminator = r.u64().map_err(|_| PerpError::UnknownInstruction)?;
    Ok((discriminator, Reader::new(r.remaining())))
}

#[cfg(test)]
mod tests {
    use super::args::{AmountArgs, PriceUpdates};
    use super::*;
    use crate::oracle::PriceData;

    #[test]
    fn decoding_is_exact() {
        let mut data = crate::sha256::discriminator("global:deposit").to_vec();
        data.extend(5u64.to_le_bytes());
        let (d, mut r) = split_discriminator(&data).unwrap();
        assert_eq!(d, discriminators::deposit);
        assert_eq!(AmountArgs::decode(&mut r), Ok(AmountArgs { amount: 5 }));
        let (_, mut r) = split_discriminator(&data[..15]).unwrap();
        assert_eq!(AmountArgs::decode(&mut r), Err(PerpError::InstructionDataTooShort));
        data.push(0);
        let (_, mut r) = split_discriminator(&data).unwrap();
        assert_eq!(AmountArgs::decode(&mut r), Err(PerpError::InstructionDataTooLong));
        assert_eq!(split_discriminator(&data[..7]).err(), Some(PerpError::UnknownInstruction));
    }

    #[test]
    fn bools_are_zero_or_one() {
        assert_eq!(Reader::new(&[0]).bool(), Ok(false));
        assert_eq!(Reader::new(&[1]).bool(), Ok(true));
        assert_eq!(Reader::new(&[2]).bool(), Err(PerpError::InvalidArgument));
    }

    #[test]
    fn price_batches_must_match_their_count() {
        let mut data = 2u32.to_le_bytes().to_vec();
        for i in 0..2i64 {
            data.extend((100 + i).to_le_bytes());
            data.extend(1u64.to_le_bytes());
            data.extend((-8i32).to_le_bytes());
            data.extend((1_000 + i).to_le_bytes());
        }
        let u = PriceUpdates::decode(&mut Reader::new(&data)).unwrap();
        assert_eq!(u.count, 2);
        assert_eq!(u.get(1), Ok(PriceData { price: 101, conf: 1, expo: -8, publish_time: 1_001 }));
        assert_eq!(PriceUpdates::decode(&mut Reader::new(&data[..data.len() - 1])).err(), Some(PerpError::InstructionDataTooShort));
        let mut long = data.clone();
        long.push(1);
        assert_eq!(PriceUpdates::decode(&mut Reader::new(&long)).err(), Some(PerpError::InstructionDataTooLong));
        assert_eq!(PriceUpdates::decode(&mut Reader::new(&0u32.to_le_bytes())).err(), Some(PerpError::InvalidBatch));
        assert_eq!(PriceUpdates::decode(&mut Reader::new(&33u32.to_le_bytes())).err(), Some(PerpError::InvalidBatch));
    }

    #[test]
    fn writer_stops_at_the_end_of_its_buffer() {
        let mut buf = [0u8; 3];
        let mut w = Writer::new(&mut buf);
        w.put(&[1, 2]);
        w.put(&[3, 4]);
        assert_eq!(w.written(), 3);
        assert_eq!(buf, [1, 2, 3]);
    }
}
