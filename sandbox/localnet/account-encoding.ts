// Accounts as the RPC returns them (`UiAccount`), and the `getProgramAccounts` filters.
import bs58 from 'bs58';
import { RpcError, RpcErrorCode, invalidParams } from './json-rpc.ts';
import { decodeTokenAccount, parseTokenAccountJson } from './token-accounts.ts';

export type AccountEncoding = 'binary' | 'base58' | 'base64' | 'base64+zstd' | 'jsonParsed';

export interface DataSlice {
  offset: number;
  length: number;
}

/** An account read from the SVM. */
export interface AccountView {
  lamports: bigint;
  owner: string;
  executable: boolean;
  data: Uint8Array;
}

/** No account pays rent any more, so every account reports the "rent exempt" epoch (`u64::MAX`). */
const RENT_EXEMPT_RENT_EPOCH = 18446744073709551615n;
/** Largest account data the base58 encodings return (agave `MAX_BASE58_BYTES`). */
const MAX_BASE58_BYTES = 128;

export interface UiAccount {
  data: unknown;
  executable: boolean;
  lamports: bigint;
  owner: string;
  rentEpoch: bigint;
  space: number;
}

export interface EncodeContext {
  /** Decimals of a mint, for jsonParsed token accounts; null when the mint does not exist. */
  decimalsOfMint(mint: string): number | null;
}

/** Rejects encoding/slice combinations a validator rejects, before any account is read. */
export function checkEncoding(encoding: AccountEncoding, slice: DataSlice | undefined): void {
  if (encoding === 'base64+zstd') {
    throw invalidParams('Invalid params: base64+zstd encoding is not supported by this localnet; use base64');
  }
  if (encoding === 'jsonParsed' && slice !== undefined) {
    throw new RpcError(
      RpcErrorCode.invalidRequest,
      'Sliced account data can only be encoded using binary (base 58) or base64 encoding.',
    );
  }
  if ((encoding === 'binary' || encoding === 'base58') && slice !== undefined && slice.length > MAX_BASE58_BYTES) {
    throw new RpcError(
      RpcErrorCode.invalidRequest,
      `Encoded binary (base 58) data should be less than ${MAX_BASE58_BYTES} bytes, please use Base64 encoding.`,
    );
  }
}

function sliceData(data: Uint8Array, slice: DataSlice | undefined): Uint8Array {
  if (slice === undefined) return data;
  const start = Math.min(slice.offset, data.length);
  return data.subarray(start, Math.min(start + slice.length, data.length));
}

/**
 * Encodes an account. RPC methods refuse base58 for data over 128 bytes; subscriptions encode whatever
 * they were asked for (`enforceBase58Limit: false`), as a validator's notifications do.
 */
export function encodeAccount(
  account: AccountView,
  encoding: AccountEncoding,
  slice: DataSlice | undefined,
  ctx: EncodeContext,
  enforceBase58Limit = true,
): UiAccount {
  const base = {
    executable: account.executable,
    lamports: account.lamports,
    owner: account.owner,
    rentEpoch: RENT_EXEMPT_RENT_EPOCH,
    space: account.data.length,
  };
  if (encoding === 'jsonParsed') {
    const parsed = parseTokenAccountJson(account.owner, account.data, (mint) => ctx.decimalsOfMint(mint));
    if (parsed !== null) return { ...base, data: parsed };
    return { ...base, data: [Buffer.from(account.data).toString('base64'), 'base64'] };
  }
  const data = sliceData(account.data, slice);
  if (encoding === 'base64') return { ...base, data: [Buffer.from(data).toString('base64'), 'base64'] };
  if (enforceBase58Limit && data.length > MAX_BASE58_BYTES) {
    throw new RpcError(
      RpcErrorCode.invalidRequest,
      `Encoded binary (base 58) data should be less than ${MAX_BASE58_BYTES} bytes, please use Base64 encoding.`,
    );
  }
  const text = bs58.encode(data);
  return { ...base, data: encoding === 'binary' ? text : [text, 'base58'] };
}

export type AccountFilter =
  | { kind: 'dataSize'; size: number }
  | { kind: 'memcmp'; offset: number; bytes: Uint8Array }
  | { kind: 'tokenAccountState' };

/** Limits from agave's `verify_filter` / `MAX_GET_PROGRAM_ACCOUNT_FILTERS`. */
const MAX_FILTERS = 4;
const MAX_MEMCMP_BYTES = 128;

export interface RawFilter {
  dataSize?: number | undefined;
  memcmp?: { offset: number; bytes: string; encoding?: 'base58' | 'base64' | undefined } | undefined;
  tokenAccountState?: object | undefined;
}

export function compileFilters(raw: RawFilter[]): AccountFilter[] {
  if (raw.length > MAX_FILTERS) throw invalidParams(`Too many filters provided; max ${MAX_FILTERS}`);
  return raw.map((f): AccountFilter => {
    if (f.dataSize !== undefined) return { kind: 'dataSize', size: f.dataSize };
    if (f.memcmp !== undefined) {
      const { offset, bytes, encoding = 'base58' } = f.memcmp;
      let decoded: Uint8Array;
      if (encoding === 'base58') {
        try {
          decoded = bs58.decode(bytes);
        } catch {
          throw invalidParams(`Invalid param: memcmp bytes are not valid base58: ${bytes}`);
        }
      } else {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(bytes)) throw invalidParams(`Invalid param: memcmp bytes are not valid base64: ${bytes}`);
        decoded = Buffer.from(bytes, 'base64');
      }
      if (decoded.length > MAX_MEMCMP_BYTES) {
        throw invalidParams(`Invalid param: memcmp data too large: ${decoded.length} bytes (max ${MAX_MEMCMP_BYTES})`);
      }
      return { kind: 'memcmp', offset, bytes: decoded };
    }
    if (f.tokenAccountState !== undefined) return { kind: 'tokenAccountState' };
    throw invalidParams('Invalid param: a filter needs one of dataSize, memcmp, tokenAccountState');
  });
}

export function matchesFilters(account: AccountView, filters: AccountFilter[]): boolean {
  for (const f of filters) {
    if (f.kind === 'dataSize') {
      if (account.data.length !== f.size) return false;
    } else if (f.kind === 'memcmp') {
      const end = f.offset + f.bytes.length;
      if (end > account.data.length) return false;
      if (!Buffer.from(account.data.subarray(f.offset, end)).equals(f.bytes)) return false;
    } else {
      const token = decodeTokenAccount(account.owner, account.data);
      if (token === null || token.state === 'uninitialized') return false;
    }
  }
  return true;
}
