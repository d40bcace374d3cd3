// Transactions on the wire: decoding what clients send, and reading from a message what the runtime
// derives from it (account keys with address lookup tables, fee, memos).
import bs58 from 'bs58';
import { PublicKey, VersionedTransaction, type VersionedMessage } from '@solana/web3.js';
import { invalidParams } from './json-rpc.ts';

/** Largest serialized transaction a validator accepts (`PACKET_DATA_SIZE`: IPv6 MTU minus headers). */
export const PACKET_DATA_SIZE = 1232;
// Longest base58 / base64 text that can decode to PACKET_DATA_SIZE bytes (agave `MAX_BASE58_SIZE` etc.).
const MAX_BASE58_SIZE = 1683;
const MAX_BASE64_SIZE = 1644;
const TX_TYPE_NAME = 'solana_transaction::versioned::VersionedTransaction';

export const SYSTEM_PROGRAM_ID = '11111111111111111111111111111111';
export const COMPUTE_BUDGET_PROGRAM_ID = 'ComputeBudget111111111111111111111111111111';
export const MEMO_PROGRAM_IDS = new Set([
  'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr',
  'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo',
]);
const ADDRESS_LOOKUP_TABLE_PROGRAM_ID = 'AddressLookupTab1e1111111111111111111111111';
const ED25519_PROGRAM_ID = 'Ed25519SigVerify111111111111111111111111111';
const SECP256K1_PROGRAM_ID = 'KeccakSecp256k11111111111111111111111111111';
const SECP256R1_PROGRAM_ID = 'Secp256r1SigVerify1111111111111111111111111';
const PRECOMPILE_PROGRAM_IDS = new Set([ED25519_PROGRAM_ID, SECP256K1_PROGRAM_ID, SECP256R1_PROGRAM_ID]);

// Programs the runtime treats as builtins when it reserves compute units for an instruction that has
// no explicit SetComputeUnitLimit (agave `compute-budget-instruction`): 3,000 each, 200,000 for others.
const BUILTIN_PROGRAM_IDS = new Set([
  SYSTEM_PROGRAM_ID,
  COMPUTE_BUDGET_PROGRAM_ID,
  'Vote111111111111111111111111111111111111111',
  'BPFLoader1111111111111111111111111111111111',
  'BPFLoader2111111111111111111111111111111111',
  'BPFLoaderUpgradeab1e11111111111111111111111',
  'LoaderV411111111111111111111111111111111111',
  ...PRECOMPILE_PROGRAM_IDS,
]);
const DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT = 200_000n;
const BUILTIN_INSTRUCTION_COMPUTE_UNIT_LIMIT = 3_000n;
const MAX_COMPUTE_UNIT_LIMIT = 1_400_000n;
const MICRO_LAMPORTS_PER_LAMPORT = 1_000_000n;
/** Base fee per signature (the runtime's `FeeStructure::default`, which LiteSVM uses). */
export const LAMPORTS_PER_SIGNATURE = 5_000n;

export type WireEncoding = 'base58' | 'base64';

export interface DecodedTransaction {
  readonly bytes: Uint8Array;
  readonly tx: VersionedTransaction;
  readonly signature: string;
}

/** Decodes a transaction as `sendTransaction` / `simulateTransaction` receive it; bad input is -32602. */
export function decodeWireTransaction(encoded: string, encoding: WireEncoding): DecodedTransaction {
  const maxEncoded = encoding === 'base58' ? MAX_BASE58_SIZE : MAX_BASE64_SIZE;
  if (encoded.length > maxEncoded) {
    throw invalidParams(
      `${encoding} encoded ${TX_TYPE_NAME} too large: ${encoded.length} bytes (max: encoded/raw ${maxEncoded}/${PACKET_DATA_SIZE})`,
    );
  }
  let bytes: Uint8Array;
  if (encoding === 'base58') {
    try {
      bytes = bs58.decode(encoded);
    } catch (err) {
      throw invalidParams(`invalid base58 encoding: ${(err as Error).message}`);
    }
  } else {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
      throw invalidParams('invalid base64 encoding: not canonical padded base64');
    }
    bytes = Buffer.from(encoded, 'base64');
  }
  if (bytes.length > PACKET_DATA_SIZE) {
    throw invalidParams(`decoded ${TX_TYPE_NAME} too large: ${bytes.length} bytes (max: ${PACKET_DATA_SIZE} bytes)`);
  }
  let tx: VersionedTransaction;
  try {
    tx = VersionedTransaction.deserialize(bytes);
  } catch (err) {
    throw invalidParams(`failed to deserialize ${TX_TYPE_NAME}: ${(err as Error).message}`);
  }
  const first = tx.signatures[0];
  if (first === undefined || tx.signatures.length !== tx.message.header.numRequiredSignatures) {
    throw invalidParams('invalid transaction: Transaction failed to sanitize accounts offsets correctly');
  }
  return { bytes, tx, signature: bs58.encode(first) };
}

function readCompactU16(bytes: Uint8Array, offset: number): { value: number; size: number } {
  let value = 0;
  for (let size = 0; size < 3; size++) {
    const byte = bytes[offset + size];
    if (byte === undefined) throw new Error('truncated compact-u16');
    value |= (byte & 0x7f) << (7 * size);
    if ((byte & 0x80) === 0) return { value, size: size + 1 };
  }
  throw new Error('compact-u16 too long');
}

/** Returns a copy of the wire transaction with its message's recent blockhash replaced. */
export function replaceRecentBlockhash(bytes: Uint8Array, blockhash: string): Uint8Array {
  const sigs = readCompactU16(bytes, 0);
  let offset = sigs.size + 64 * sigs.value;
  if (((bytes[offset] ?? 0) & 0x80) !== 0) offset += 1; // versioned message prefix
  offset += 3; // header
  const keys = readCompactU16(bytes, offset);
  offset += keys.size + 32 * keys.value;
  const out = Uint8Array.from(bytes);
  out.set(bs58.decode(blockhash), offset);
  return out;
}

/** Size of an address lookup table's metadata before its addresses (`LOOKUP_TABLE_META_SIZE`). */
const LOOKUP_TABLE_META_SIZE = 56;

export interface ResolvedKeys {
  /** Static keys, then loaded writable, then loaded readonly: the order of balances in `meta`. */
  readonly keys: string[];
  readonly writable: boolean[];
  readonly loaded: { writable: string[]; readonly: string[] };
}

/**
 * Account keys of a message, with v0 lookups resolved from the lookup table accounts. Returns null when a
 * table is missing or an index is out of range: the runtime then rejects the transaction itself.
 */
export function resolveAccountKeys(
  message: VersionedMessage,
  readAccount: (address: string) => { owner: string; data: Uint8Array } | null,
): ResolvedKeys | null {
  const keys = message.staticAccountKeys.map((k) => k.toBase58());
  const writable = keys.map((_, i) => message.isAccountWritable(i));
  const loaded = { writable: [] as string[], readonly: [] as string[] };
  for (const lookup of message.addressTableLookups) {
    const table = readAccount(lookup.accountKey.toBase58());
    if (table === null || table.owner !== ADDRESS_LOOKUP_TABLE_PROGRAM_ID) return null;
    const count = Math.floor((table.data.length - LOOKUP_TABLE_META_SIZE) / 32);
    const at = (index: number): string | null =>
      index < count
        ? new PublicKey(table.data.subarray(LOOKUP_TABLE_META_SIZE + 32 * index, LOOKUP_TABLE_META_SIZE + 32 * (index + 1))).toBase58()
        : null;
    for (const index of lookup.writableIndexes) {
      const key = at(index);
      if (key === null) return null;
      loaded.writable.push(key);
    }
    for (const index of lookup.readonlyIndexes) {
      const key = at(index);
      if (key === null) return null;
      loaded.readonly.push(key);
    }
  }
  return {
    keys: [...keys, ...loaded.writable, ...loaded.readonly],
    writable: [...writable, ...loaded.writable.map(() => true), ...loaded.readonly.map(() => false)],
    loaded,
  };
}

interface ComputeBudgetRequest {
  unitLimit: bigint | null;
  microLamportsPerUnit: bigint;
}

function readComputeBudget(message: VersionedMessage): { request: ComputeBudgetRequest; defaultLimit: bigint } {
  const keys = message.staticAccountKeys.map((k) => k.toBase58());
  const request: ComputeBudgetRequest = { unitLimit: null, microLamportsPerUnit: 0n };
  let defaultLimit = 0n;
  for (const ix of message.compiledInstructions) {
    const program = keys[ix.programIdIndex] ?? '';
    if (program === COMPUTE_BUDGET_PROGRAM_ID) {
      const data = Buffer.from(ix.data);
      if (data[0] === 2 && data.length >= 5) request.unitLimit = BigInt(data.readUInt32LE(1));
      if (data[0] === 3 && data.length >= 9) request.microLamportsPerUnit = data.readBigUInt64LE(1);
    }
    defaultLimit += BUILTIN_PROGRAM_IDS.has(program)
      ? BUILTIN_INSTRUCTION_COMPUTE_UNIT_LIMIT
      : DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT;
  }
  return { request, defaultLimit };
}

/** Prioritization fee in micro-lamports per compute unit requested by the message (0 if none). */
export function computeUnitPrice(message: VersionedMessage): bigint {
  return readComputeBudget(message).request.microLamportsPerUnit;
}

/**
 * The fee the runtime charges: 5,000 lamports per signature (transaction signatures plus those verified
 * by precompile instructions) plus ceil(unit price × unit limit / 10^6).
 */
export function computeFee(message: VersionedMessage): bigint {
  const keys = message.staticAccountKeys.map((k) => k.toBase58());
  let signatures = BigInt(message.header.numRequiredSignatures);
  for (const ix of message.compiledInstructions) {
    if (PRECOMPILE_PROGRAM_IDS.has(keys[ix.programIdIndex] ?? '')) signatures += BigInt(ix.data[0] ?? 0);
  }
  const { request, defaultLimit } = readComputeBudget(message);
  const requested = request.unitLimit ?? defaultLimit;
  const limit = requested < MAX_COMPUTE_UNIT_LIMIT ? requested : MAX_COMPUTE_UNIT_LIMIT;
  const priority = (request.microLamportsPerUnit * limit + MICRO_LAMPORTS_PER_LAMPORT - 1n) / MICRO_LAMPORTS_PER_LAMPORT;
  return signatures * LAMPORTS_PER_SIGNATURE + priority;
}

/** Memo text as `getSignaturesForAddress` reports it: "[length] text" per memo instruction, joined by "; ". */
export function extractMemo(message: VersionedMessage): string | null {
  const keys = message.staticAccountKeys.map((k) => k.toBase58());
  const memos = message.compiledInstructions
    .filter((ix) => MEMO_PROGRAM_IDS.has(keys[ix.programIdIndex] ?? ''))
    .map((ix) => `[${ix.data.length}] ${Buffer.from(ix.data).toString('utf8')}`);
  return memos.length > 0 ? memos.join('; ') : null;
}
