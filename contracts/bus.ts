import { z } from 'zod';
import { ACTIONS, type Action } from '../domain/markets.ts';
import type { Source } from '../domain/price.ts';
import type { UnusableReason } from '../domain/validation.ts';
import { CHAIN_HEALTH, INGEST_MODES, type StatusReport } from './status.ts';

/**
 * The live-price bus (Redis pub/sub): what the ingest worker publishes once and every gateway, the
 * sync and the liquidation scanner follow. MongoDB stays the durable record: a consumer that
 * (re)connects loads the latest prices from the store, then follows the bus, and resyncs from the
 * store when a per-market sequence number jumps. Money travels as decimal strings, never floats.
 */
/**
 * The bus's channel and key names under a prefix (QD_BUS_PREFIX, `qd` by default), so several
 * deployments — or test runs — can share one Redis without hearing each other.
 */
export function busNames(prefix = 'qd') {
  return {
    /** `PriceBatch` messages: the accepted prices of one update from a source. */
    prices: `${prefix}:prices`,
    /** `StatusReport` messages. */
    status: `${prefix}:status`,
    /** Hash: per symbol, the sequence number of the last price published (assigned by the bus itself). */
    seqKey: `${prefix}:seq`,
    /** Hash: the latest `StatusReport` per scope, for consumers that join late. */
    statusKey: `${prefix}:status:latest`,
    /** A keeper asking the sync to push a market's price now (its JSON: `{ "symbol": ... }`). */
    pushRequests: `${prefix}:push-requests`,
    /** Hash: per process scope, its latest `StageReport` (stage-latency histograms). */
    latencyKey: `${prefix}:latency`,
    /** Channel prefix of the Socket.IO Redis adapter and emitter (wallet rooms across gateways). */
    socketIo: `${prefix}:socket.io`,
  } as const;
}
export type BusNames = ReturnType<typeof busNames>;

/** A price as it travels between our processes and to the dashboard: mantissas as decimal strings. */
export interface WirePrice {
  symbol: string;
  feedId: string;
  source: Source;
  /** Integer mantissa; the value is price × 10^expo USD. */
  price: string;
  conf: string;
  expo: number;
  /** Unix seconds, from the source. */
  publishTime: number;
  /** Pythnet slot of the aggregate: orders updates that share a publish second. */
  slot?: number;
  emaPrice?: string;
  emaConf?: string;
  /** Epoch ms at which the ingest worker received it. */
  receivedAt: number;
}

/** One accepted price as the bus carries it. */
export interface BusPrice extends WirePrice {
  /** Per action, `ok` or why not, as validation graded it on arrival; age degrades it further. */
  grades: Record<Action, 'ok' | UnusableReason>;
  /** Per symbol, one more for each price published; a jump means this consumer missed some. */
  seq: number;
}

export interface PriceBatch {
  v: 1;
  /** Epoch ms at which the publisher sent it. */
  at: number;
  prices: BusPrice[];
}

const mantissa = z.string().regex(/^\d{1,20}$/);
const grade = z.enum(['ok', 'stale', 'confidence_too_wide', 'source_not_allowed']);
const symbol = z.string().regex(/^[A-Z0-9]{1,10}-PERP$/);
const symbols = z.array(symbol).max(10_000);

export const busPriceSchema = z.object({
  symbol,
  feedId: z.string().regex(/^[0-9a-f]{64}$/),
  source: z.enum(['pyth', 'coingecko']),
  price: mantissa,
  conf: mantissa,
  expo: z.number().int().min(-18).max(0),
  publishTime: z.number().int().positive(),
  slot: z.number().int().nonnegative().optional(),
  emaPrice: z.string().regex(/^-?\d{1,20}$/).optional(),
  emaConf: mantissa.optional(),
  receivedAt: z.number().int().positive(),
  grades: z.object(Object.fromEntries(ACTIONS.map((a) => [a, grade])) as Record<Action, typeof grade>),
  seq: z.number().int().positive(),
});

export const priceBatchSchema = z.object({ v: z.literal(1), at: z.number().int().positive(), prices: z.array(busPriceSchema).max(10_000) });

const reason = z.string().max(500);
const scope = z.string().min(1).max(200);
export const statusReportSchema: z.ZodType<StatusReport> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ingest'), scope, symbols, mode: z.enum(INGEST_MODES), stale: z.boolean(), reason }),
  z.object({
    kind: z.literal('divergence'),
    scope,
    symbols,
    reason,
    divergence: z.object({ pyth: z.string().max(60), coingecko: z.string().max(60), bps: z.string().max(20), boundBps: z.number() }).optional(),
  }),
  z.object({ kind: z.literal('chain'), scope, symbols, health: z.enum(CHAIN_HEALTH), reason }),
  z.object({
    kind: z.literal('sources'),
    scope,
    symbols,
    problems: z.record(
      symbol,
      z.array(z.object({ source: z.enum(['pyth', 'coingecko']), reason: z.string().max(60), detail: reason, since: z.number().int().nonnegative() })).max(4),
    ),
  }),
]);
