import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Source } from '../domain/price.ts';
import type { ChainHealth, IngestMode } from './status.ts';

/**
 * What Temporal carries between processes: task queues, workflow ids, failure types, and each
 * workflow's signals, queries and their payloads. Pure (importable by the workflow bundle and by
 * clients alike: `defineSignal`/`defineQuery` only name things).
 */
export const TASK_QUEUES = {
  ingest: 'oracle-ingest',
  sync: 'oracle-sync',
  liquidations: 'liquidations',
} as const;

export const ingestWorkflowId = (feedGroup: string) => `ingest-${feedGroup}`;
export const RETENTION_SCHEDULE_ID = 'retention-prune';
export const SYNC_WORKFLOW_ID = 'oracle-sync';

/** A source failed or went silent: the workflow switches source instead of Temporal retrying. */
export const SOURCE_UNAVAILABLE = 'SourceUnavailable';
/** The chain's RPC has not answered for a while: the sync activity fails visibly and Temporal retries it. */
export const CHAIN_UNAVAILABLE = 'ChainUnavailable';
/** A feed group the registry does not have. */
export const UNKNOWN_FEED_GROUP = 'UnknownFeedGroup';

// ---- priceIngestion -------------------------------------------------------------------------


/** What a source activity tells its workflow while it runs (by signal), and when it ends. */
export interface SourceProgress {
  source: Source;
  /** Whether the source is delivering good prices right now. */
  healthy: boolean;
  /** Newest accepted publish time (unix seconds). */
  lastPublishTime?: number;
  accepted: number;
  rejected: number;
  failures: number;
  detail?: string;
}

export interface IngestionState {
  mode: IngestMode;
  /** Mode before a pause. */
  resumeMode: Exclude<IngestMode, 'paused'>;
  /** Workflow time of the last mode change, epoch ms. */
  since: number;
  reason: string;
  /** Newest accepted publish time per source, unix seconds. */
  lastUpdate: { pyth?: number; coingecko?: number };
  failures: { pyth: number; coingecko: number };
  fallbackHealthy: boolean;
  /** Mode switches over the workflow's whole life (across continue-as-new). */
  switches: number;
}

export interface IngestionInput {
  feedGroup: string;
  state?: IngestionState;
  /** Longest wait between Pyth probes while on the fallback, ms. */
  maxProbeBackoffMs?: number;
}

export const pauseSignal = defineSignal<[reason?: string]>('pause');
export const resumeSignal = defineSignal('resume');
export const progressSignal = defineSignal<[SourceProgress]>('progress');
export const statusQuery = defineQuery<IngestionState & { feedGroup: string }>('status');

/** What a retention run dropped: whole days (UTC, `YYYYMMDD`) of each kind of record. */
export interface RetentionResult {
  historyDays: string[];
  pushDays: string[];
  rejectionDays: string[];
}

// ---- oracleSync -----------------------------------------------------------------------------

export const PUSH_OUTCOMES = [
  /** Landed; the market now holds this price. */
  'confirmed',
  /** The program refused it because the market already holds this (or a newer) publish time. */
  'replay_rejected',
  /** The program refused it for another reason (bounds, signer): see `error`. */
  'rejected',
  /** The blockhash expired before it landed; a new attempt follows if the price is still newer. */
  'expired',
  /** The RPC could not be reached or refused the request. */
  'send_failed',
  /** Not pushed: the price was not usable for the push action (recorded when the reason changes). */
  'skipped',
] as const;
export type PushOutcome = (typeof PUSH_OUTCOMES)[number];

export interface MarketSyncState {
  onChainPublishTime: number;
  lastTrigger?: string;
  lastOutcome?: PushOutcome;
  /** Epoch ms of the last confirmed push. */
  lastPushAt?: number;
  /** Why the newest price is not being pushed, while that is so. */
  holding?: string;
}

export interface SyncProgress {
  health: ChainHealth;
  reason: string;
  /** Whether the price bus delivers (the sync then falls back to reading the store). */
  bus: 'up' | 'down';
  markets: Record<string, MarketSyncState>;
  pushes: number;
  failures: number;
}

export interface OracleSyncState {
  health: ChainHealth;
  reason: string;
  bus?: SyncProgress['bus'];
  markets: SyncProgress['markets'];
  pushes: number;
  failures: number;
  /** Workflow time of the last report, epoch ms. */
  reportedAt?: number;
}

export interface OracleSyncInput {
  symbols?: string[];
  state?: OracleSyncState;
}

export const syncProgressSignal = defineSignal<[SyncProgress]>('syncProgress');
export const syncStatusQuery = defineQuery<OracleSyncState>('status');

// ---- liquidations ---------------------------------------------------------------------------

/**
 * One liquidation of one trade is one saga, whichever scanner or keeper starts it:
 * `liquidate-<position>-<open slot>`, and after a partial liquidation left the trade open,
 * `-<slot of that liquidation>` too (the same trade may need liquidating again later).
 */
export const liquidationWorkflowId = (position: string, openSlot: bigint | number | string, lastLiquidationSlot: bigint | number | string = 0) =>
  `liquidate-${position}-${openSlot}${BigInt(lastLiquidationSlot) > 0n ? `-${lastLiquidationSlot}` : ''}`;
export const scannerWorkflowId = (keeper: string) => `liquidation-scanner-${keeper}`;
export const LIQUIDATION_SCAN_SCHEDULE_ID = 'liquidation-scan';

/** What a scanner saw: enough for the saga to act, and to tell the trader. */
export interface LiquidationSagaInput {
  /** Position account (base58). */
  position: string;
  owner: string;
  symbol: string;
  openSlot: string;
  /** Slot of the trade's last partial liquidation ('0' when none). */
  lastLiquidationSlot: string;
  /** Base units (10⁻⁹), signed, as the scanner saw it. */
  size: string;
  /** Margin ratio at the scanner's price, basis points. */
  marginRatioBps: number;
  /** Mark used by the scanner, 10⁻⁹ USD. */
  markPrice: string;
  /** Epoch ms. */
  detectedAt: number;
}

export const LIQUIDATION_OUTCOMES = ['liquidated', 'partially-liquidated', 'healthy-again', 'outcompeted'] as const;
/** Named outcomes, not errors; a failure after compensation is `failed:<reason>`. */
export type LiquidationOutcome = (typeof LIQUIDATION_OUTCOMES)[number] | `failed:${string}`;

export interface LiquidationResult {
  outcome: LiquidationOutcome;
  keeper?: string;
  signature?: string;
  slot?: number;
  /** Base units liquidated. */
  sizeLiquidated?: string;
  /** Price used on-chain, 10⁻⁹ USD. */
  price?: string;
  keeperFee?: string;
  insuranceFee?: string;
  badDebt?: string;
  /** From detection to confirmation, ms. */
  latencyMs?: number;
  detail?: string;
}

/** The saga's claim could not be taken: another saga of this trade holds it. */
export const CLAIM_HELD = 'ClaimHeld';
