//! The program's one error enum. Codes start at 6000, where Anchor's clients expect a program's own
//! errors, and never change meaning. The declaration below is the only list: the IDL's `errors`
//! (code, name, and the doc comment as message) are generated from it (`idl.rs`).

macro_rules! perp_errors {
    ($( $(#[doc = $doc:literal])* $name:ident = $code:literal, )*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum PerpError {
            $( $(#[doc = $doc])* $name = $code, )*
        }

        impl PerpError {
            /// Every variant, in code order.
            pub const ALL: &'static [PerpError] = &[$(Self::$name),*];

            pub const fn code(self) -> u32 {
                self as u32
            }

            /// The variant's name, as the IDL spells it; logged when an instruction fails. Always
            /// inlined: BPF functions cannot return a slice.
            #[inline(always)]
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$name => stringify!($name),)*
                }
            }

            /// The doc comment, as the IDL's `msg`.
            #[cfg(test)]
            pub fn msg(self) -> String {
                match self {
                    $(Self::$name => crate::idl::doc_text(&[$($doc),*]),)*
                }
            }
        }
    };
}

perp_errors! {
    // Instruction decoding.
    /// The first eight bytes name no instruction of this program.
    UnknownInstruction = 6000,
    /// The instruction data ends before all arguments were read.
    InstructionDataTooShort = 6001,
    /// Bytes are left over after all arguments were read.
    InstructionDataTooLong = 6002,
    /// Fewer accounts than the instruction needs.
    NotEnoughAccounts = 6003,

    // Accounts and authority.
    /// An account that must sign did not.
    MissingSignature = 6004,
    /// The signer is not the admin, the oracle authority or the position's owner.
    Unauthorized = 6005,
    /// An account the instruction writes was passed read-only.
    AccountNotWritable = 6006,
    /// An account is not owned by the program it must belong to.
    WrongAccountOwner = 6007,
    /// An account's size or discriminator is not that of the expected type.
    InvalidAccountData = 6008,
    /// An account's address is not the program address its seeds give.
    InvalidPda = 6009,
    /// The account to create already holds data.
    AlreadyInitialized = 6010,
    /// The token or system program passed is not the expected one.
    WrongProgramAccount = 6011,
    /// The mint is not an initialised SPL mint with the quote decimals.
    InvalidMint = 6012,
    /// The vault passed is not the config's vault.
    WrongVault = 6013,
    /// The position belongs to another market.
    WrongMarket = 6014,
    /// Market parameters are inconsistent (margins, bounds, exponent range).
    InvalidMarketParams = 6015,
    /// The symbol is empty, not upper-case ASCII, or not zero-padded.
    InvalidSymbol = 6016,
    /// The rent sysvar's exemption threshold is not a finite positive number.
    UnsupportedRent = 6017,
    /// A cross-program invocation returned an error.
    CpiFailed = 6018,
    /// The number of price updates is zero, above the maximum, or differs from the markets passed.
    InvalidBatch = 6019,

    // Prices (same reasons as domain/validation.ts).
    /// The exponent lies outside the market's range.
    ExponentOutOfRange = 6020,
    /// The price is zero or negative.
    NonPositivePrice = 6021,
    /// The publish time lies further in the future than the allowed clock skew.
    PriceInFuture = 6022,
    /// The publish time is older than the action's maximum age.
    PriceStale = 6023,
    /// The publish time is before the one already stored.
    PublishTimeRegressed = 6024,
    /// The publish time equals the one already stored.
    PublishTimeDuplicate = 6025,
    /// conf/price exceeds the action's bound.
    ConfidenceTooWide = 6026,
    /// No price was ever pushed to this market.
    OraclePriceMissing = 6027,
    /// The PriceUpdateV2 account is not owned by the configured Pyth receiver program.
    PythWrongOwner = 6028,
    /// The PriceUpdateV2 account is too short, or its discriminator or verification level is unknown.
    PythInvalidAccount = 6029,
    /// The PriceUpdateV2 account is only partially verified.
    PythNotFullyVerified = 6030,
    /// The PriceUpdateV2 account carries another feed than the market's.
    PythFeedMismatch = 6031,

    // Positions and money.
    /// An intermediate value does not fit its type.
    MathOverflow = 6032,
    /// The amount is zero.
    ZeroAmount = 6033,
    /// The position size is zero.
    ZeroSize = 6034,
    /// The withdrawal exceeds the collateral.
    InsufficientCollateral = 6035,
    /// The withdrawal would leave the open position below initial margin.
    WithdrawBelowInitialMargin = 6036,
    /// The position would open below initial margin (beyond the allowed leverage).
    OpenExceedsLeverage = 6037,
    /// A position is already open in this market; close it first.
    PositionAlreadyOpen = 6038,
    /// There is no open position (never opened, closed, or already liquidated).
    PositionNotOpen = 6039,
    /// The position meets maintenance margin and may not be liquidated.
    PositionHealthy = 6040,
    /// The price is below 10^-9, the resolution of margin math.
    PriceBelowPrecision = 6041,
    /// The same account was passed twice; no instruction takes an account twice.
    DuplicateAccount = 6042,
    /// The keeper fee ceiling exceeds 10000 basis points.
    InvalidConfigParams = 6043,

    // Price pinning and bands (the same rules as domain/validation.ts).
    /// The market pins a Pyth price account and none was passed.
    OracleAccountMissing = 6044,
    /// The price account passed is not the one the market pins.
    OracleAccountMismatch = 6045,
    /// A price account was passed for a market that pins none (it uses pushed prices only).
    OracleNotPinned = 6046,
    /// The newest usable price is older than one the market already used or was pushed.
    PriceOlderThanUsed = 6047,
    /// The Pyth price moved beyond the sanity band from the market's last good price.
    SanityBandExceeded = 6048,
    /// The Pyth price lies beyond the EMA band from its EMA price.
    EmaBandExceeded = 6049,
    /// An argument holds a value its type does not allow (a bool other than 0 or 1).
    InvalidArgument = 6050,

    // Keepers and the insurance fund.
    /// The keeper network (insurance fund, stake vault) is not initialized yet.
    KeeperNetworkNotInitialized = 6051,
    /// The keeper network is already initialized.
    KeeperNetworkInitialized = 6052,
    /// The insurance fund passed is not the config's.
    WrongInsuranceFund = 6053,
    /// The keeper stake vault passed is not the config's.
    WrongStakeVault = 6054,
    /// The stake is below the config's minimum.
    KeeperStakeTooLow = 6055,
    /// The keeper is already registered (active or deregistering).
    KeeperAlreadyRegistered = 6056,
    /// The keeper is not active: never registered, or already deregistered.
    KeeperNotActive = 6057,
    /// A deregistering keeper may not liquidate.
    KeeperDeregistering = 6058,
    /// The stake can only be withdrawn after deregistering.
    KeeperNotDeregistering = 6059,
    /// The deregistration cooldown has not passed yet.
    KeeperCooldownActive = 6060,
    /// The keeper account belongs to another authority than the signer.
    WrongKeeper = 6061,
    /// The signer is not a registered keeper and the market allows no permissionless liquidation.
    KeeperNotRegistered = 6062,
    /// Permissionless liquidation opens only a number of slots after the position was first seen liquidatable.
    PermissionlessTooEarly = 6063,
}

pub type ProgramResult = Result<(), PerpError>;

#[cfg(test)]
mod tests {
    use super::PerpError;

    #[test]
    fn codes_are_dense_and_ordered() {
        for (i, e) in PerpError::ALL.iter().enumerate() {
            assert_eq!(e.code(), 6000 + i as u32, "{}", e.name());
        }
    }
}
