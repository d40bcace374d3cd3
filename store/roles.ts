import type { Candle } from '../domain/candles.ts';
import type { PayloadRejection } from '../domain/payload.ts';
import type { Source, ValidPrice } from '../domain/price.ts';
import type { PushTrigger } from '../domain/push-policy.ts';
import type { RejectionReason } from '../domain/validation.ts';
import type { Grades } from '../domain/validation.ts';
import type { LiquidationAlert, MarginWarning } from '../contracts/socket.ts';
import type { LiquidationResult, PushOutcome } from '../contracts/temporal.ts';

/**
 * The store's roles: one interface per collection family. Callers (activities, the gateway, the
 * sync) depend on these, never on a model; `store/mongo/` implements them on mongoose (FerretDB or
 * a real MongoDB), `store/memory.ts` in memory for unit tests. Mantissas are decimal strings in the
 * database (exact, any size), exponents integers, publish times unix seconds.
 */

/** A price that passed validation, as the system keeps it. */
export interface AcceptedPrice extends ValidPrice {
  /** When our process received it, epoch milliseconds. */
  readonly receivedAt: number;
  /** Per-action usability on arrival (domain/validation.ts). */
  readonly grades?: Grades;
}

/** A feed's served price, as `latest()` returns it. */
export interface LatestPriceDoc {
  feedId: string;
  symbol: string;
  source: Source;
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  slot?: number;
  emaPrice?: string;
  emaConf?: string;
  receivedAt: Date;
  /** Set when no source can currently deliver (both failing); the price is the last good one. */
  stale: boolean;
  staleSince?: Date;
}

/** Where validation resumes after a restart: a source's newest accepted update of a feed. */
export interface LastAccepted {
  publishTime: number;
  slot?: number;
}

export interface LatestPrices {
  /** The served price of each feed that has one (all feeds when none are named). */
  latest(feedIds?: readonly string[]): Promise<LatestPriceDoc[]>;
  /** The newest accepted update per `feedId:source`. */
  lastAccepted(feedIds: readonly string[]): Promise<Map<string, LastAccepted>>;
  /**
   * Records accepted prices as their sources' newest, and `served` as their feeds' served prices.
   * One ingest process writes a feed group and passes only newer prices, so a feed never moves back.
   */
  writeLatest(accepted: readonly AcceptedPrice[], served: readonly AcceptedPrice[]): Promise<void>;
  /** Marks the feeds' served prices stale (both sources failing) or fresh again. */
  markStale(feedIds: readonly string[], stale: boolean, at: Date): Promise<void>;
}

/** One stored update, as history reads return it. */
export interface HistoryRow {
  source: Source;
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  slot?: number;
}

/** OHLC of the served series over one interval, with the confidence at its close and its widest. */
export type StoredCandle = Candle;

export interface CandleSeries {
  /** The exponent every value is at (the finest seen). */
  expo: number;
  candles: StoredCandle[];
}

export interface PriceHistory {
  /**
   * Stores accepted updates, each exactly once (an update is its feed, source, publish time and
   * slot): a retry, or a journal written again after a crash, never duplicates one. Returns how
   * many were new.
   */
  append(prices: readonly AcceptedPrice[]): Promise<number>;
  /**
   * Rolls the stored updates of these feeds' `minute` into its candle, and an hour whose last minute
   * this is into the hour's. Idempotent: sealing again (late updates) recomputes from what is stored;
   * `again` says the caller sealed it before (the candles are then replaced, not inserted).
   */
  seal(feedIds: readonly string[], minute: number, again?: boolean): Promise<void>;
  /**
   * Candles of a feed's served series (Pyth's updates, CoinGecko's only in seconds without one)
   * over [from, to] at `intervalSec`. The work is bounded by the window and the interval, never by
   * how much history is stored.
   */
  candles(feedId: string, from: number, to: number, intervalSec: number, signal?: AbortSignal): Promise<CandleSeries>;
  /** Every stored update of a feed within [from, to] (both sources), oldest first; windows of at most an hour. */
  updates(feedId: string, from: number, to: number): Promise<HistoryRow[]>;
  /** Retention: drops the days that ended before `before` (unix seconds); cheap however much they hold. */
  prune(before: number): Promise<{ days: string[] }>;
}

export interface RejectionDoc {
  source: Source;
  reason: RejectionReason | PayloadRejection;
  detail: string;
  feedId?: string;
  symbol?: string;
  publishTime?: number;
  /** The offending payload, trimmed. */
  raw: string;
  receivedAt: Date;
}

export interface Rejections {
  write(rejections: readonly RejectionDoc[]): Promise<void>;
  /** Rejections received at or after `since` (at most a day back), newest first, at most `limit`. */
  recent(since: Date, filter?: { source?: Source; reason?: string }, limit?: number): Promise<RejectionDoc[]>;
  /** Drops the days that ended before `before`. */
  prune(before: Date): Promise<{ days: string[] }>;
}

/** One push decision and its outcome, one document per market per attempt (an audit trail). */
export interface PushDoc {
  symbol: string;
  feedId: string;
  batchId: string;
  attempt: number;
  triggers: (PushTrigger | 'recovery' | 'requested')[];
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  /** When the ingest worker received the price from its source. */
  receivedAt: Date;
  decidedAt: Date;
  signature?: string;
  slot?: number;
  feeLamports?: number;
  computeUnits?: number;
  /** From the backend's receipt of the price to its confirmation on-chain. */
  latencyMs?: number;
  outcome: PushOutcome;
  error?: string;
  recordedAt: Date;
}

export interface InflightUpdate {
  symbol: string;
  feedId: string;
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  receivedAt: Date;
  triggers: (PushTrigger | 'recovery' | 'requested')[];
}

/** A batch between signing and its outcome: a restarted worker sends it again (the program refuses a replay). */
export interface InflightDoc {
  /** The batch id. */
  _id: string;
  attempt: number;
  signature: string;
  decidedAt: Date;
  updates: InflightUpdate[];
}

export interface PushLog {
  record(docs: readonly Omit<PushDoc, 'recordedAt'>[]): Promise<void>;
  /** A market's newest push records, newest first. */
  recent(symbol: string, limit: number): Promise<PushDoc[]>;
  /** Written before a batch is sent, so a crash between send and outcome loses nothing. */
  markInflight(doc: InflightDoc): Promise<void>;
  clearInflight(batchId: string): Promise<void>;
  pendingInflight(): Promise<InflightDoc[]>;
  /** Drops the days that ended before `before`. */
  prune(before: Date): Promise<{ days: string[] }>;
}

/** The database as a dependency: answers a ping within `timeoutMs`, or says why not. */
export interface StoreHealth {
  ping(timeoutMs: number): Promise<{ ok: true; ms: number } | { ok: false; error: string }>;
}

export const RAW_PAYLOAD_LIMIT = 2_048;
/** Longest candle window one request may read. */
export const MAX_HISTORY_WINDOW_SEC = 24 * 3_600;
/** Longest window of raw updates one request may read. */
export const MAX_UPDATES_WINDOW_SEC = 3_600;

/** A liquidation saga's record: its claim on the trade, its failed attempts, its result. */
export interface LiquidationDoc {
  /** The saga's workflow id, `liquidate-<position>-<open slot>`. */
  _id: string;
  position: string;
  owner: string;
  symbol: string;
  openSlot: string;
  state: 'claimed' | 'released' | 'done';
  claimedBy?: string;
  /** Keepers that sent this saga's `liquidate` (a step's attempts may run on different keeper workers). */
  senders?: string[];
  /** Failed attempts, each compensated (claim released), oldest first. */
  attempts: { at: Date; keeper?: string; reason: string }[];
  result?: LiquidationResult;
  detectedAt: Date;
  updatedAt: Date;
}

export interface Liquidations {
  /**
   * Takes the claim on a trade for the saga of this id; false once it is done. Temporal runs one saga
   * per id at a time, so a claim still held is this saga's own (a retried step) or was left by a run
   * that died without compensating (a killed worker, a terminated run): either way it is taken.
   */
  claim(doc: Pick<LiquidationDoc, '_id' | 'position' | 'owner' | 'symbol' | 'openSlot' | 'detectedAt'> & { claimant: string }): Promise<boolean>;
  /** Records, before it sends, that this keeper sends the saga's transaction: a retry elsewhere then knows a landed liquidation by it as the saga's own. */
  sending(id: string, keeper: string): Promise<void>;
  /** Compensation: gives the claim back and records why the attempt failed. */
  release(id: string, attempt: { keeper?: string; reason: string }): Promise<void>;
  complete(id: string, result: LiquidationResult): Promise<void>;
  /** Keeps the outcome of an attempt that did not liquidate (its claim already released). */
  note(id: string, result: LiquidationResult): Promise<void>;
  get(id: string): Promise<LiquidationDoc | undefined>;
  /** A trader's liquidations, newest first. */
  byWallet(wallet: string, limit: number): Promise<LiquidationDoc[]>;
  /** The latest sagas of the last day, newest first (the ops page). */
  recent(limit: number): Promise<LiquidationDoc[]>;
}

export type WalletAlertDoc =
  | { wallet: string; kind: 'margin-warning'; alert: MarginWarning; at: Date }
  | { wallet: string; kind: 'liquidation'; alert: LiquidationAlert; at: Date };

/** What traders were warned of and told, for the dashboard's history (delivery itself is live, at most once). */
export interface WalletAlertLog {
  record(alert: WalletAlertDoc): Promise<void>;
  /** Newest first, at most `limit`, from the last `days` days. */
  byWallet(wallet: string, limit: number, days?: number): Promise<WalletAlertDoc[]>;
}
