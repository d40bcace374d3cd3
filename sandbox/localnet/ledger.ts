// The chain around LiteSVM: slots that advance with real time, a window of recent blockhashes, landing
// and simulating transactions with a validator's semantics, and the history the RPC reads back.
import { createHash, randomBytes } from 'node:crypto';
import bs58 from 'bs58';
import type { Logger } from 'pino';
import {
  SOLANA_ERROR__TRANSACTION__SIGNATURES_MISSING,
  address,
  getTransactionDecoder,
  isSolanaError,
  lamports as toLamports,
  type Signature,
} from '@solana/kit';
import { Clock, EpochSchedule, FailedTransactionMetadata, LiteSVM, type TransactionMetadata } from 'litesvm';
import {
  Keypair,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionInstruction,
  VersionedTransaction,
  type VersionedMessage,
} from '@solana/web3.js';
import { transactionErrorToJson, type TransactionErrorJson } from './tx-errors.ts';
import {
  computeFee,
  computeUnitPrice,
  extractMemo,
  replaceRecentBlockhash,
  resolveAccountKeys,
  type DecodedTransaction,
  type ResolvedKeys,
} from './wire.ts';
import type { AccountView } from './account-encoding.ts';
import { TOKEN_PROGRAM_IDS, decodeMint, decodeTokenAccount, uiTokenAmount, type UiTokenAmount } from './token-accounts.ts';

/** A blockhash is usable for this many blocks after the one that produced it (agave `MAX_PROCESSING_AGE`). */
export const MAX_PROCESSING_AGE = 150;
/** Statuses are found without `searchTransactionHistory` for this many slots (agave `MAX_CACHE_ENTRIES`). */
const STATUS_CACHE_SLOTS = 300;
/**
 * A slot is rooted (finalized) once this many slots were built on it: with one validator every vote
 * lands, and a vote's lockout reaches the root after 32 confirmations (`MAX_LOCKOUT_HISTORY` + 1).
 */
export const FINALIZATION_DEPTH = 32;
/** Mainnet's epoch length; no warm-up epochs, so epoch = slot / SLOTS_PER_EPOCH. */
export const SLOTS_PER_EPOCH = 432_000;
const SLOT_TIMES_KEPT = 20_000;
/** The SlotHashes sysvar holds parents of the current slot (agave keeps 512; our window is STATUS_CACHE_SLOTS). */
const SLOT_HASHES_KEPT = 512;
/** Slots a timer tick may catch up after the event loop stalled, before the schedule is re-based. */
const MAX_CATCH_UP_SLOTS = 256;
const MEMO_PROGRAM_ID = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');

export interface TokenBalance {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: UiTokenAmount;
}

export interface CompiledInner {
  programIdIndex: number;
  accounts: number[];
  data: string;
  stackHeight: number;
}

export interface InnerInstructionGroup {
  index: number;
  instructions: CompiledInner[];
}

export interface ReturnData {
  programId: string;
  data: [string, 'base64'];
}

/** A transaction that landed in a slot, successful or with `err` (fee charged). */
export interface LandedTransaction {
  signature: string;
  slot: number;
  blockTime: number;
  bytes: Uint8Array;
  message: VersionedMessage;
  signatures: string[];
  keys: ResolvedKeys;
  err: TransactionErrorJson | null;
  fee: bigint;
  logs: string[];
  preBalances: bigint[];
  postBalances: bigint[];
  preTokenBalances: TokenBalance[];
  postTokenBalances: TokenBalance[];
  innerInstructions: InnerInstructionGroup[];
  computeUnitsConsumed: bigint;
  returnData: ReturnData | null;
  memo: string | null;
}

export type LandResult =
  | { status: 'landed'; record: LandedTransaction }
  /** Rejected before execution (expired blockhash, bad signature, unpaid fee, duplicate): never lands. */
  | { status: 'dropped'; signature: string; err: TransactionErrorJson; logs: string[] };

export interface SimulationResult {
  err: TransactionErrorJson | null;
  logs: string[];
  unitsConsumed: bigint;
  returnData: ReturnData | null;
  innerInstructions: InnerInstructionGroup[];
  fee: bigint;
  /** Accounts as the transaction left them (only those it loaded). */
  postAccounts: Map<string, AccountView>;
  replacementBlockhash: { blockhash: string; lastValidBlockHeight: number } | null;
}

export interface SignatureStatus {
  slot: number;
  confirmations: number | null;
  err: TransactionErrorJson | null;
  confirmationStatus: 'confirmed' | 'finalized';
}

export interface SlotInfo {
  slot: number;
  parent: number;
  root: number;
}

export interface LedgerOptions {
  /** Slot duration in ms; 0 stops the clock (slots then advance only through `warp`). */
  slotMs: number;
  logger: Logger;
  faucet: Keypair;
  faucetLamports: bigint;
  /** How many landed transactions are kept for getTransaction / getSignatureStatuses. */
  historyCapacity: number;
}

type Listener<T> = (value: T) => void;

class Topic<T> {
  readonly #listeners = new Set<Listener<T>>();
  on(listener: Listener<T>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  emit(value: T): void {
    for (const listener of this.#listeners) listener(value);
  }
}

interface SlotFees {
  min: bigint;
  perAccount: Map<string, bigint>;
}

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function isFailed<T>(result: T | FailedTransactionMetadata): result is FailedTransactionMetadata {
  return result instanceof FailedTransactionMetadata;
}

export class Ledger {
  readonly svm: LiteSVM;
  readonly faucet: Keypair;
  readonly genesisHash: string;
  readonly slots = new Topic<SlotInfo>();
  readonly transactions = new Topic<LandedTransaction>();
  /** Addresses written by a landed transaction or set directly. */
  readonly accountsWritten = new Topic<string[]>();

  readonly #log: Logger;
  readonly #slotMs: number;
  readonly #historyCapacity: number;
  readonly #kitDecoder = getTransactionDecoder();
  #slot = 0;
  #timeOffsetMs = 0;
  #scheduleBase = { ms: Date.now(), slot: 0 };
  #timer: NodeJS.Timeout | null = null;
  #epochStartUnix: number;
  #transactionCount = 0;
  #airdropCount = 0;
  readonly #recentHashes: { slot: number; hash: string }[] = [];
  readonly #hashSlot = new Map<string, number>();
  readonly #slotTimes = new Map<number, number>();
  readonly #history = new Map<string, LandedTransaction>();
  readonly #byAddress = new Map<string, string[]>();
  readonly #fees = new Map<number, SlotFees>();

  constructor(options: LedgerOptions) {
    this.#log = options.logger;
    this.#slotMs = options.slotMs;
    this.#historyCapacity = options.historyCapacity;
    this.faucet = options.faucet;
    // LiteSVM only knows one valid blockhash; the window of MAX_PROCESSING_AGE is checked here instead.
    this.svm = new LiteSVM()
      .withBlockhashCheck(false)
      .withSigverify(true)
      .withTransactionHistory(BigInt(options.historyCapacity));
    this.svm.setEpochSchedule(new EpochSchedule(BigInt(SLOTS_PER_EPOCH), BigInt(SLOTS_PER_EPOCH), false, 0n, 0n));
    this.svm.setAccount({
      address: address(this.faucet.publicKey.toBase58()),
      lamports: toLamports(options.faucetLamports),
      programAddress: address(SystemProgram.programId.toBase58()),
      executable: false,
      data: new Uint8Array(),
      space: 0n,
    });
    // A fresh genesis per boot: state is re-created at start, so clients must not mistake it for the last one.
    this.genesisHash = bs58.encode(sha256(randomBytes(32)));
    this.#epochStartUnix = this.unixTimestamp();
    this.#recordSlot(0, this.genesisHash);
    this.#syncSysvars();
  }

  /** Starts advancing slots with wall-clock time. */
  start(): void {
    if (this.#slotMs <= 0 || this.#timer !== null) return;
    this.#scheduleBase = { ms: Date.now(), slot: this.#slot };
    this.#timer = setInterval(() => this.#tick(), this.#slotMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  get slot(): number {
    return this.#slot;
  }

  /** Every slot produces a block here, so block height equals the slot. */
  get blockHeight(): number {
    return this.#slot;
  }

  get rootSlot(): number {
    return Math.max(0, this.#slot - FINALIZATION_DEPTH);
  }

  get transactionCount(): number {
    return this.#transactionCount;
  }

  get epochStartUnix(): number {
    return this.#epochStartUnix;
  }

  unixTimestamp(): number {
    return Math.floor((Date.now() + this.#timeOffsetMs) / 1000);
  }

  latestBlockhash(): { blockhash: string; lastValidBlockHeight: number } {
    const last = this.#recentHashes[this.#recentHashes.length - 1];
    if (last === undefined) throw new Error('ledger has no blockhash');
    return { blockhash: last.hash, lastValidBlockHeight: last.slot + MAX_PROCESSING_AGE };
  }

  isBlockhashValid(blockhash: string): boolean {
    const slot = this.#hashSlot.get(blockhash);
    return slot !== undefined && this.blockHeight - slot <= MAX_PROCESSING_AGE;
  }

  blockTime(slot: number): number | null {
    return this.#slotTimes.get(slot) ?? null;
  }

  /** Advances `slots` slots at once (each with its own blockhash), e.g. to expire a blockhash in a test. */
  warp(slots: number): void {
    if (!Number.isInteger(slots) || slots < 0) throw new Error(`warp needs a non-negative integer, got ${slots}`);
    this.#advanceTo(this.#slot + slots);
    this.#scheduleBase.slot += slots;
  }

  /** Moves the Clock sysvar's unix time (and block times) by `seconds` from real time. */
  shiftTime(seconds: number): void {
    this.#timeOffsetMs += seconds * 1000;
    this.#syncSysvars();
  }

  #tick(): void {
    const due = this.#scheduleBase.slot + Math.floor((Date.now() - this.#scheduleBase.ms) / this.#slotMs);
    if (due - this.#slot > MAX_CATCH_UP_SLOTS) {
      this.#log.warn({ behind: due - this.#slot }, 'slot.clock_rebased');
      this.#scheduleBase = { ms: Date.now(), slot: this.#slot + 1 };
      this.#advanceTo(this.#slot + 1);
      return;
    }
    if (due > this.#slot) this.#advanceTo(due);
  }

  #advanceTo(target: number): void {
    if (target <= this.#slot) return;
    const start = this.#slot;
    let hash = this.#recentHashes[this.#recentHashes.length - 1]?.hash ?? this.genesisHash;
    // Only the last STATUS_CACHE_SLOTS hashes can matter; a long warp skips computing the others.
    const firstHashed = Math.max(start + 1, target - STATUS_CACHE_SLOTS);
    for (let slot = firstHashed; slot <= target; slot++) {
      const slotBytes = Buffer.alloc(8);
      slotBytes.writeBigUInt64LE(BigInt(slot));
      hash = bs58.encode(sha256(bs58.decode(hash), slotBytes));
      this.#recordSlot(slot, hash);
    }
    this.#slot = target;
    const epoch = Math.floor(target / SLOTS_PER_EPOCH);
    if (epoch !== Math.floor(start / SLOTS_PER_EPOCH)) this.#epochStartUnix = this.unixTimestamp();
    this.#syncSysvars();
    for (let slot = Math.max(start + 1, target - STATUS_CACHE_SLOTS); slot <= target; slot++) {
      this.slots.emit({ slot, parent: slot - 1, root: Math.max(0, slot - FINALIZATION_DEPTH) });
    }
  }

  #recordSlot(slot: number, hash: string): void {
    this.#recentHashes.push({ slot, hash });
    this.#hashSlot.set(hash, slot);
    while (this.#recentHashes.length > STATUS_CACHE_SLOTS) {
      const old = this.#recentHashes.shift();
      if (old !== undefined) this.#hashSlot.delete(old.hash);
    }
    this.#slotTimes.set(slot, this.unixTimestamp());
    if (this.#slotTimes.size > SLOT_TIMES_KEPT) {
      const oldest = this.#slotTimes.keys().next().value;
      if (oldest !== undefined) this.#slotTimes.delete(oldest);
    }
    for (const feeSlot of this.#fees.keys()) {
      if (feeSlot < slot - MAX_PROCESSING_AGE) this.#fees.delete(feeSlot);
      else break;
    }
  }

  /**
   * Points the Clock at the current slot and real unix time, so on-chain staleness checks see real time,
   * and SlotHashes at the recent slots (newest first), which e.g. address lookup table creation checks.
   */
  #syncSysvars(): void {
    const epoch = BigInt(Math.floor(this.#slot / SLOTS_PER_EPOCH));
    this.svm.setClock(new Clock(BigInt(this.#slot), BigInt(this.#epochStartUnix), epoch, epoch + 1n, BigInt(this.unixTimestamp())));
    const hashes = [];
    for (let i = this.#recentHashes.length - 1; i >= 0 && hashes.length < SLOT_HASHES_KEPT; i--) {
      const entry = this.#recentHashes[i];
      if (entry !== undefined && entry.slot < this.#slot) hashes.push({ slot: BigInt(entry.slot), hash: entry.hash });
    }
    // litesvm types this as its SlotHash class, which has no constructor; the native side reads plain
    // { slot, hash } objects (SlotHashInput in litesvm's internal.d.ts).
    this.svm.setSlotHashes(hashes as unknown as Parameters<LiteSVM['setSlotHashes']>[0]);
  }

  readAccount(addr: string): AccountView | null {
    const account = this.svm.getAccount(address(addr));
    if (!account.exists) return null;
    return {
      lamports: BigInt(account.lamports),
      owner: account.programAddress,
      executable: account.executable,
      data: account.data,
    };
  }

  /** Writes an account directly (bootstrap, test set-up) and tells subscribers. */
  setAccount(addr: string, account: AccountView): void {
    this.svm.setAccount({
      address: address(addr),
      lamports: toLamports(account.lamports),
      programAddress: address(account.owner),
      executable: account.executable,
      data: account.data,
      space: BigInt(account.data.length),
    });
    this.accountsWritten.emit([addr]);
  }

  decimalsOfMint(mint: string): number | null {
    const account = this.readAccount(mint);
    if (account === null) return null;
    return decodeMint(account.owner, account.data)?.decimals ?? null;
  }

  /** Lamports and token balances of the transaction's accounts, each account read once. */
  #snapshot(keys: string[]): { lamports: bigint[]; tokens: TokenBalance[] } {
    const lamports: bigint[] = [];
    const tokens: TokenBalance[] = [];
    const decimals = new Map<string, number | null>();
    keys.forEach((key, accountIndex) => {
      const account = this.readAccount(key);
      lamports.push(account?.lamports ?? 0n);
      if (account === null || !TOKEN_PROGRAM_IDS.has(account.owner)) return;
      const token = decodeTokenAccount(account.owner, account.data);
      if (token === null || token.state === 'uninitialized') return;
      if (!decimals.has(token.mint)) decimals.set(token.mint, this.decimalsOfMint(token.mint));
      const mintDecimals = decimals.get(token.mint);
      if (mintDecimals === null || mintDecimals === undefined) return;
      tokens.push({
        accountIndex,
        mint: token.mint,
        owner: token.owner,
        programId: account.owner,
        uiTokenAmount: uiTokenAmount(token.amount, mintDecimals),
      });
    });
    return { lamports, tokens };
  }

  /** litesvm takes @solana/kit transactions; the wire bytes are the same. */
  #toKit(bytes: Uint8Array) {
    return this.#kitDecoder.decode(bytes);
  }

  #resolveKeys(message: VersionedMessage): ResolvedKeys | null {
    return resolveAccountKeys(message, (key) => this.readAccount(key));
  }

  /**
   * Lands a transaction in the current slot, as a validator's banking stage would: rejected before
   * execution it is dropped; failing during execution it lands with `err` and pays its fee.
   */
  land(decoded: DecodedTransaction): LandResult {
    const { bytes, tx, signature } = decoded;
    if (!this.isBlockhashValid(tx.message.recentBlockhash)) {
      return { status: 'dropped', signature, err: 'BlockhashNotFound', logs: [] };
    }
    const keys = this.#resolveKeys(tx.message) ?? {
      keys: tx.message.staticAccountKeys.map((k) => k.toBase58()),
      writable: tx.message.staticAccountKeys.map((_, i) => tx.message.isAccountWritable(i)),
      loaded: { writable: [], readonly: [] },
    };
    const pre = this.#snapshot(keys.keys);

    let result: TransactionMetadata | FailedTransactionMetadata;
    try {
      result = this.svm.sendTransaction(this.#toKit(bytes));
    } catch (err) {
      // litesvm's wrapper refuses a transaction with an empty signature slot before the runtime sees it.
      if (!isSolanaError(err, SOLANA_ERROR__TRANSACTION__SIGNATURES_MISSING)) throw err;
      this.#log.debug({ signature }, 'tx.dropped');
      return { status: 'dropped', signature, err: 'SignatureFailure', logs: [] };
    }
    let err: TransactionErrorJson | null = null;
    if (isFailed(result)) {
      err = transactionErrorToJson(result.err());
      // Only a transaction the runtime loaded and charged is kept in its history; others never landed.
      const included = err !== 'AlreadyProcessed' && this.svm.getTransaction(signature as Signature) !== null;
      if (!included) {
        this.#log.debug({ signature, err }, 'tx.dropped');
        return { status: 'dropped', signature, err, logs: result.meta().logs() };
      }
    }
    const meta = isFailed(result) ? result.meta() : result;
    const post = this.#snapshot(keys.keys);
    const record: LandedTransaction = {
      signature,
      slot: this.#slot,
      blockTime: this.blockTime(this.#slot) ?? this.unixTimestamp(),
      bytes,
      message: tx.message,
      signatures: tx.signatures.map((s) => bs58.encode(s)),
      keys,
      err,
      fee: computeFee(tx.message),
      logs: meta.logs(),
      preBalances: pre.lamports,
      postBalances: post.lamports,
      preTokenBalances: pre.tokens,
      postTokenBalances: post.tokens,
      innerInstructions: convertInner(meta),
      computeUnitsConsumed: meta.computeUnitsConsumed(),
      returnData: convertReturnData(meta),
      memo: extractMemo(tx.message),
    };
    this.#remember(record);
    this.#transactionCount += 1;
    this.#recordFees(record);
    this.#log.debug({ signature, slot: record.slot, err, cu: record.computeUnitsConsumed }, 'tx.landed');
    this.transactions.emit(record);
    this.accountsWritten.emit(keys.keys.filter((_, i) => keys.writable[i]));
    return { status: 'landed', record };
  }

  /** Runs a transaction against current state without committing anything. */
  simulate(
    decoded: DecodedTransaction,
    options: { sigVerify: boolean; replaceRecentBlockhash: boolean },
  ): SimulationResult {
    let bytes = decoded.bytes;
    let replacementBlockhash: SimulationResult['replacementBlockhash'] = null;
    const fee = computeFee(decoded.tx.message);
    const empty = { logs: [], unitsConsumed: 0n, returnData: null, innerInstructions: [], fee, postAccounts: new Map() };
    if (options.replaceRecentBlockhash) {
      replacementBlockhash = this.latestBlockhash();
      bytes = replaceRecentBlockhash(bytes, replacementBlockhash.blockhash);
    } else if (!this.isBlockhashValid(decoded.tx.message.recentBlockhash)) {
      return { ...empty, err: 'BlockhashNotFound', replacementBlockhash };
    }
    this.svm.withSigverify(options.sigVerify);
    let result;
    try {
      result = this.svm.simulateTransaction(this.#toKit(bytes));
    } catch (err) {
      if (!isSolanaError(err, SOLANA_ERROR__TRANSACTION__SIGNATURES_MISSING)) throw err;
      return { ...empty, err: 'SignatureFailure', replacementBlockhash };
    } finally {
      this.svm.withSigverify(true);
    }
    if (isFailed(result)) {
      const meta = result.meta();
      return {
        err: transactionErrorToJson(result.err()),
        logs: meta.logs(),
        unitsConsumed: meta.computeUnitsConsumed(),
        returnData: convertReturnData(meta),
        innerInstructions: convertInner(meta),
        fee,
        postAccounts: new Map(),
        replacementBlockhash,
      };
    }
    const meta = result.meta();
    const postAccounts = new Map<string, AccountView>();
    for (const account of result.postAccounts()) {
      postAccounts.set(account.address, {
        lamports: BigInt(account.lamports),
        owner: account.programAddress,
        executable: account.executable,
        data: Uint8Array.from(account.data),
      });
    }
    return {
      err: null,
      logs: meta.logs(),
      unitsConsumed: meta.computeUnitsConsumed(),
      returnData: convertReturnData(meta),
      innerInstructions: convertInner(meta),
      fee,
      postAccounts,
      replacementBlockhash,
    };
  }

  /** Fee for a message, or null when its blockhash is no longer valid (as `getFeeForMessage` answers). */
  feeForMessage(message: VersionedMessage): bigint | null {
    return this.isBlockhashValid(message.recentBlockhash) ? computeFee(message) : null;
  }

  /**
   * Sends `lamports` from the faucet as a real system transfer. A memo numbers each airdrop so two equal
   * requests in one slot are two transactions, not one duplicate.
   */
  airdrop(to: PublicKey, lamports: bigint): LandResult {
    this.#airdropCount += 1;
    const tx = new Transaction({ feePayer: this.faucet.publicKey, recentBlockhash: this.latestBlockhash().blockhash })
      .add(SystemProgram.transfer({ fromPubkey: this.faucet.publicKey, toPubkey: to, lamports }))
      .add(new TransactionInstruction({ programId: MEMO_PROGRAM_ID, keys: [], data: Buffer.from(`airdrop ${this.#airdropCount}`) }));
    tx.sign(this.faucet);
    return this.landSigned(tx);
  }

  /** Lands an already signed web3.js transaction in-process (bootstrap, airdrops): no HTTP, no preflight. */
  landSigned(tx: Transaction): LandResult {
    const bytes = tx.serialize();
    const signature = bs58.encode(tx.signature ?? new Uint8Array(64));
    return this.land({ bytes, tx: VersionedTransaction.deserialize(bytes), signature });
  }

  #remember(record: LandedTransaction): void {
    this.#history.set(record.signature, record);
    for (const key of record.keys.keys) {
      let list = this.#byAddress.get(key);
      if (list === undefined) {
        list = [];
        this.#byAddress.set(key, list);
      }
      list.push(record.signature);
    }
    while (this.#history.size > this.#historyCapacity) {
      const oldest = this.#history.values().next().value;
      if (oldest === undefined) break;
      this.#history.delete(oldest.signature);
      for (const key of oldest.keys.keys) {
        const list = this.#byAddress.get(key);
        if (list?.[0] === oldest.signature) list.shift();
        if (list?.length === 0) this.#byAddress.delete(key);
      }
    }
  }

  #recordFees(record: LandedTransaction): void {
    const price = computeUnitPrice(record.message);
    let fees = this.#fees.get(record.slot);
    if (fees === undefined) {
      fees = { min: price, perAccount: new Map() };
      this.#fees.set(record.slot, fees);
    }
    if (price < fees.min) fees.min = price;
    record.keys.keys.forEach((key, i) => {
      if (!record.keys.writable[i]) return;
      const current = fees.perAccount.get(key);
      if (current === undefined || price < current) fees.perAccount.set(key, price);
    });
  }

  /**
   * Per slot of the last MAX_PROCESSING_AGE: the lowest unit price (micro-lamports) that landed, or, with
   * accounts, the highest of the lowest prices that write-locked each of them (agave's definition).
   */
  recentPrioritizationFees(accounts: string[]): { slot: number; prioritizationFee: bigint }[] {
    const out: { slot: number; prioritizationFee: bigint }[] = [];
    for (let slot = Math.max(0, this.#slot - MAX_PROCESSING_AGE + 1); slot <= this.#slot; slot++) {
      const fees = this.#fees.get(slot);
      let fee = 0n;
      if (fees !== undefined) {
        if (accounts.length === 0) fee = fees.min;
        else for (const a of accounts) fee = (fees.perAccount.get(a) ?? 0n) > fee ? (fees.perAccount.get(a) ?? 0n) : fee;
      }
      out.push({ slot, prioritizationFee: fee });
    }
    return out;
  }

  getTransaction(signature: string): LandedTransaction | null {
    return this.#history.get(signature) ?? null;
  }

  signatureStatus(signature: string, searchTransactionHistory: boolean): SignatureStatus | null {
    const record = this.#history.get(signature);
    if (record === undefined) return null;
    if (!searchTransactionHistory && this.#slot - record.slot > STATUS_CACHE_SLOTS) return null;
    const finalized = record.slot <= this.rootSlot;
    return {
      slot: record.slot,
      confirmations: finalized ? null : this.#slot - record.slot,
      err: record.err,
      confirmationStatus: finalized ? 'finalized' : 'confirmed',
    };
  }

  /** Newest first, like `getSignaturesForAddress`. */
  signaturesForAddress(addr: string, options: { limit: number; before?: string; until?: string }): LandedTransaction[] {
    const list = this.#byAddress.get(addr) ?? [];
    const out: LandedTransaction[] = [];
    let started = options.before === undefined;
    for (let i = list.length - 1; i >= 0 && out.length < options.limit; i--) {
      const signature = list[i];
      if (signature === undefined) continue;
      if (!started) {
        if (signature === options.before) started = true;
        continue;
      }
      if (signature === options.until) break;
      const record = this.#history.get(signature);
      if (record !== undefined) out.push(record);
    }
    return out;
  }

  /** The oldest slot whose transactions are still kept. */
  firstAvailableSlot(): number {
    const oldest = this.#history.values().next().value;
    return oldest?.slot ?? this.#slot;
  }
}

function convertInner(meta: TransactionMetadata): InnerInstructionGroup[] {
  const groups: InnerInstructionGroup[] = [];
  meta.innerInstructions().forEach((list, index) => {
    if (list.length === 0) return;
    groups.push({
      index,
      instructions: list.map((inner) => {
        const ix = inner.instruction();
        return {
          programIdIndex: ix.programIdIndex(),
          accounts: Array.from(ix.accounts()),
          data: bs58.encode(ix.data()),
          stackHeight: inner.stackHeight(),
        };
      }),
    });
  });
  return groups;
}

function convertReturnData(meta: TransactionMetadata): ReturnData | null {
  const ret = meta.returnData();
  const data = ret.data();
  if (data.length === 0) return null;
  return { programId: bs58.encode(ret.programId()), data: [Buffer.from(data).toString('base64'), 'base64'] };
}
