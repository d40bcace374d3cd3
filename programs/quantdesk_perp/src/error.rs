//! The program's one error enum. Codes start at 6000, where Anchor's clients expect a program's own
//! errors, and never change meaning: the IDL (`idl/quantdesk_perp.json`) lists the same codes and
//! names, which a host test checks.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum PerpError {
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
}

impl PerpError {
    /// Every variant, in code order (the IDL test walks this list).
    pub const ALL: [PerpError; 44] = [
        Self::UnknownInstruction,
        Self::InstructionDataTooShort,
        Self::InstructionDataTooLong,
        Self::NotEnoughAccounts,
        Self::MissingSignature,
        Self::Unauthorized,
        Self::AccountNotWritable,
        Self::WrongAccountOwner,
        Self::InvalidAccountData,
        Self::InvalidPda,
        Self::AlreadyInitialized,
        Self::WrongProgramAccount,
        Self::InvalidMint,
        Self::WrongVault,
        Self::WrongMarket,
        Self::InvalidMarketParams,
        Self::InvalidSymbol,
        Self::UnsupportedRent,
        Self::CpiFailed,
        Self::InvalidBatch,
        Self::ExponentOutOfRange,
        Self::NonPositivePrice,
        Self::PriceInFuture,
        Self::PriceStale,
        Self::PublishTimeRegressed,
        Self::PublishTimeDuplicate,
        Self::ConfidenceTooWide,
        Self::OraclePriceMissing,
        Self::PythWrongOwner,
        Self::PythInvalidAccount,
        Self::PythNotFullyVerified,
        Self::PythFeedMismatch,
        Self::MathOverflow,
        Self::ZeroAmount,
        Self::ZeroSize,
        Self::InsufficientCollateral,
        Self::WithdrawBelowInitialMargin,
        Self::OpenExceedsLeverage,
        Self::PositionAlreadyOpen,
        Self::PositionNotOpen,
        Self::PositionHealthy,
        Self::PriceBelowPrecision,
        Self::DuplicateAccount,
        Self::InvalidConfigParams,
    ];

    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The variant's name, as the IDL spells it; logged when an instruction fails. Always inlined:
    /// BPF functions cannot return a slice.
    #[inline(always)]
    pub const fn name(self) -> &'static str {
        match self {
            Self::UnknownInstruction => "UnknownInstruction",
            Self::InstructionDataTooShort => "InstructionDataTooShort",
            Self::InstructionDataTooLong => "InstructionDataTooLong",
            Self::NotEnoughAccounts => "NotEnoughAccounts",
            Self::MissingSignature => "MissingSignature",
            Self::Unauthorized => "Unauthorized",
            Self::AccountNotWritable => "AccountNotWritable",
            Self::WrongAccountOwner => "WrongAccountOwner",
            Self::InvalidAccountData => "InvalidAccountData",
            Self::InvalidPda => "InvalidPda",
            Self::AlreadyInitialized => "AlreadyInitialized",
            Self::WrongProgramAccount => "WrongProgramAccount",
            Self::InvalidMint => "InvalidMint",
            Self::WrongVault => "WrongVault",
            Self::WrongMarket => "WrongMarket",
            Self::InvalidMarketParams => "InvalidMarketParams",
            Self::InvalidSymbol => "InvalidSymbol",
            Self::UnsupportedRent => "UnsupportedRent",
            Self::CpiFailed => "CpiFailed",
            Self::InvalidBatch => "InvalidBatch",
            Self::ExponentOutOfRange => "ExponentOutOfRange",
            Self::NonPositivePrice => "NonPositivePrice",
            Self::PriceInFuture => "PriceInFuture",
            Self::PriceStale => "PriceStale",
            Self::PublishTimeRegressed => "PublishTimeRegressed",
            Self::PublishTimeDuplicate => "PublishTimeDuplicate",
            Self::ConfidenceTooWide => "ConfidenceTooWide",
            Self::OraclePriceMissing => "OraclePriceMissing",
            Self::PythWrongOwner => "PythWrongOwner",
            Self::PythInvalidAccount => "PythInvalidAccount",
            Self::PythNotFullyVerified => "PythNotFullyVerified",
            Self::PythFeedMismatch => "PythFeedMismatch",
            Self::MathOverflow => "MathOverflow",
            Self::ZeroAmount => "ZeroAmount",
            Self::ZeroSize => "ZeroSize",
            Self::InsufficientCollateral => "InsufficientCollateral",
            Self::WithdrawBelowInitialMargin => "WithdrawBelowInitialMargin",
            Self::OpenExceedsLeverage => "OpenExceedsLeverage",
            Self::PositionAlreadyOpen => "PositionAlreadyOpen",
            Self::PositionNotOpen => "PositionNotOpen",
            Self::PositionHealthy => "PositionHealthy",
            Self::PriceBelowPrecision => "PriceBelowPrecision",
            Self::DuplicateAccount => "DuplicateAccount",
            Self::InvalidConfigParams => "InvalidConfigParams",
        }
    }
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
