// SPL Token (and the base layout of Token-2022) account and mint layouts, and the validator's
// `jsonParsed` / token-balance shapes built from them.
import bs58 from 'bs58';

export const TOKEN_PROGRAM_ID = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
export const TOKEN_2022_PROGRAM_ID = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb';
export const TOKEN_PROGRAM_IDS = new Set([TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]);

/** Base sizes of the SPL Token layouts (`spl_token::state::{Account, Mint}::LEN`). */
export const TOKEN_ACCOUNT_SIZE = 165;
export const MINT_SIZE = 82;
// Token-2022 puts an account-type byte right after the 165-byte base when extensions follow.
const ACCOUNT_TYPE_OFFSET = TOKEN_ACCOUNT_SIZE;
const ACCOUNT_TYPE_MINT = 1;
const ACCOUNT_TYPE_ACCOUNT = 2;

export interface TokenAccountState {
  mint: string;
  owner: string;
  amount: bigint;
  delegate: string | null;
  state: 'uninitialized' | 'initialized' | 'frozen';
  /** Rent-exempt reserve of a wrapped-SOL account, null for other mints. */
  isNative: bigint | null;
  delegatedAmount: bigint;
  closeAuthority: string | null;
  /** True when Token-2022 extensions follow the base layout (not parsed here). */
  hasExtensions: boolean;
}

export interface MintState {
  mintAuthority: string | null;
  supply: bigint;
  decimals: number;
  isInitialized: boolean;
  freezeAuthority: string | null;
  hasExtensions: boolean;
}

function readCOptionKey(data: Buffer, offset: number): string | null {
  return data.readUInt32LE(offset) === 1 ? bs58.encode(data.subarray(offset + 4, offset + 36)) : null;
}

function isTokenAccountData(owner: string, data: Uint8Array): boolean {
  if (owner === TOKEN_PROGRAM_ID) return data.length === TOKEN_ACCOUNT_SIZE;
  if (owner === TOKEN_2022_PROGRAM_ID) {
    return (
      data.length === TOKEN_ACCOUNT_SIZE ||
      (data.length > TOKEN_ACCOUNT_SIZE && data[ACCOUNT_TYPE_OFFSET] === ACCOUNT_TYPE_ACCOUNT)
    );
  }
  return false;
}

function isMintData(owner: string, data: Uint8Array): boolean {
  if (owner === TOKEN_PROGRAM_ID) return data.length === MINT_SIZE;
  if (owner === TOKEN_2022_PROGRAM_ID) {
    return data.length === MINT_SIZE || (data.length > TOKEN_ACCOUNT_SIZE && data[ACCOUNT_TYPE_OFFSET] === ACCOUNT_TYPE_MINT);
  }
  return false;
}

/** Decodes an initialized-or-not token account; null if the bytes are not a token account of `owner`. */
export function decodeTokenAccount(owner: string, bytes: Uint8Array): TokenAccountState | null {
  if (!isTokenAccountData(owner, bytes)) return null;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stateByte = data[108];
  const state = stateByte === 1 ? 'initialized' : stateByte === 2 ? 'frozen' : stateByte === 0 ? 'uninitialized' : null;
  if (state === null) return null;
  return {
    mint: bs58.encode(data.subarray(0, 32)),
    owner: bs58.encode(data.subarray(32, 64)),
    amount: data.readBigUInt64LE(64),
    delegate: readCOptionKey(data, 72),
    state,
    isNative: data.readUInt32LE(109) === 1 ? data.readBigUInt64LE(113) : null,
    delegatedAmount: data.readBigUInt64LE(121),
    closeAuthority: readCOptionKey(data, 129),
    hasExtensions: data.length > TOKEN_ACCOUNT_SIZE,
  };
}

export function decodeMint(owner: string, bytes: Uint8Array): MintState | null {
  if (!isMintData(owner, bytes)) return null;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    mintAuthority: readCOptionKey(data, 0),
    supply: data.readBigUInt64LE(36),
    decimals: data[44] ?? 0,
    isInitialized: data[45] === 1,
    freezeAuthority: readCOptionKey(data, 46),
    hasExtensions: data.length > MINT_SIZE,
  };
}

/** The raw owner/mint bytes of a token account, for cheap filtering before a full decode. */
export function tokenAccountKeys(owner: string, data: Uint8Array): { mint: Uint8Array; owner: Uint8Array; delegate: Uint8Array | null } | null {
  if (!isTokenAccountData(owner, data)) return null;
  const hasDelegate = data[72] === 1 && data[73] === 0 && data[74] === 0 && data[75] === 0;
  return { mint: data.subarray(0, 32), owner: data.subarray(32, 64), delegate: hasDelegate ? data.subarray(76, 108) : null };
}

export interface UiTokenAmount {
  amount: string;
  decimals: number;
  uiAmount: number | null;
  uiAmountString: string;
}

/** `amount` in base units as a decimal string with `decimals` places, trailing zeros trimmed ("1.5", "0"). */
export function formatUiAmount(amount: bigint, decimals: number): string {
  if (decimals === 0) return amount.toString();
  const digits = amount.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return fraction.length > 0 ? `${whole}.${fraction}` : whole;
}

export function uiTokenAmount(amount: bigint, decimals: number): UiTokenAmount {
  const uiAmountString = formatUiAmount(amount, decimals);
  // uiAmount is a double by the RPC's definition; display only, never used for money here.
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}

function programLabel(owner: string): string {
  return owner === TOKEN_2022_PROGRAM_ID ? 'spl-token-2022' : 'spl-token';
}

/**
 * The validator's `jsonParsed` form of a token account or mint, or null when it cannot be parsed (the
 * caller then falls back to base64, as a validator does). Token-2022 accounts with extensions are left
 * unparsed: their extension list is not decoded here.
 */
export function parseTokenAccountJson(
  owner: string,
  data: Uint8Array,
  decimalsOfMint: (mint: string) => number | null,
): { program: string; parsed: { type: string; info: Record<string, unknown> }; space: number } | null {
  if (!TOKEN_PROGRAM_IDS.has(owner)) return null;
  const account = decodeTokenAccount(owner, data);
  if (account !== null && !account.hasExtensions) {
    if (account.state === 'uninitialized') return null;
    const decimals = decimalsOfMint(account.mint);
    if (decimals === null) return null;
    const info: Record<string, unknown> = {
      isNative: account.isNative !== null,
      mint: account.mint,
      owner: account.owner,
      state: account.state,
      tokenAmount: uiTokenAmount(account.amount, decimals),
    };
    if (account.delegate !== null) {
      info.delegate = account.delegate;
      info.delegatedAmount = uiTokenAmount(account.delegatedAmount, decimals);
    }
    if (account.isNative !== null) info.rentExemptReserve = uiTokenAmount(account.isNative, decimals);
    if (account.closeAuthority !== null) info.closeAuthority = account.closeAuthority;
    return { program: programLabel(owner), parsed: { type: 'account', info }, space: data.length };
  }
  const mint = decodeMint(owner, data);
  if (mint !== null && !mint.hasExtensions) {
    if (!mint.isInitialized) return null;
    return {
      program: programLabel(owner),
      parsed: {
        type: 'mint',
        info: {
          decimals: mint.decimals,
          freezeAuthority: mint.freezeAuthority,
          isInitialized: mint.isInitialized,
          mintAuthority: mint.mintAuthority,
          supply: mint.supply.toString(),
        },
      },
      space: data.length,
    };
  }
  return null;
}
