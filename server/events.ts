/**
 * The gateway's Socket.IO contract, shared by the gateway, the workers and the dashboard.
 * Types do not replace runtime checks: everything a client or worker sends is parsed with zod.
 * Money travels as decimal strings (integer mantissas with their exponent), never as floats.
 */
import type { Action } from '../domain/markets.ts';
import type { Source, ValidPrice } from '../domain/price.ts';

export type IngestMode = 'pyth' | 'coingecko' | 'stale' | 'paused';

/** A price as workers hand it to the gateway. */
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
  /** Epoch milliseconds at which the worker received it. */
  receivedAt: number;
  emaPrice?: string;
  emaConf?: string;
}

/** A price as the dashboard receives it: with its sequence number and how usable it is now. */
export interface PriceMessage extends WirePrice {
  /** Per symbol, increasing by one per update the gateway accepted; a jump means updates were skipped. */
  seq: number;
  stale: boolean;
  ageSec: number;
  usableFor: Action[];
}

export interface Divergence {
  pyth: string;
  coingecko: string;
  bps: string;
  boundBps: number;
}

/** Health of the on-chain sync: `down` while pushes cannot land (RPC unreachable, persistent failures). */
export type ChainHealth = 'ok' | 'degraded' | 'down';

export interface StatusMessage {
  symbol: string;
  mode: IngestMode;
  stale: boolean;
  /** Age of the served price, seconds. */
  ageSec?: number;
  reason?: string;
  /** Present while Pyth and CoinGecko disagree beyond the market's bound. */
  divergence?: Divergence;
  /** The on-chain price's state, as the sync worker last reported it. */
  chain?: { health: ChainHealth; reason?: string };
  /** Epoch milliseconds. */
  at: number;
}

/** Worker → gateway status reports. */
export type WorkerStatus =
  /** Where a feed group's prices come from now (ingest). */
  | { kind: 'ingest'; symbols: string[]; mode: IngestMode; stale: boolean; reason: string }
  /** The Pyth ↔ CoinGecko alarm raised (with figures) or cleared (without). */
  | { kind: 'divergence'; symbols: string[]; divergence?: Divergence; reason: string }
  /** The on-chain sync's health (sync). */
  | { kind: 'chain'; symbols: string[]; health: ChainHealth; reason: string };

export interface SubscribeAck {
  ok: boolean;
  error?: string;
  /** The latest price per subscribed symbol, so a (re)subscribing client starts from the current state. */
  snapshot?: PriceMessage[];
}

export interface ServerToClientEvents {
  /** New prices, one event per update from the source: the newest price of each market in it. */
  prices: (batch: PriceMessage[]) => void;
  status: (s: StatusMessage) => void;
}

export interface ClientToServerEvents {
  subscribe: (symbols: unknown, ack: (r: SubscribeAck) => void) => void;
  unsubscribe: (symbols: unknown, ack?: (r: SubscribeAck) => void) => void;
}

export interface InternalClientToServerEvents {
  prices: (batch: WirePrice[]) => void;
  status: (s: WorkerStatus) => void;
}

export type InternalServerToClientEvents = Record<string, never>;

export const INTERNAL_NAMESPACE = '/internal';
export const roomOf = (symbol: string) => `market:${symbol}`;

/** An accepted price (received at `receivedAt`, epoch ms) as it travels: mantissas as strings. */
export const toWirePrice = (p: ValidPrice & { receivedAt: number }): WirePrice => ({
  symbol: p.symbol,
  feedId: p.feedId,
  source: p.source,
  price: p.price.toString(),
  conf: p.conf.toString(),
  expo: p.expo,
  publishTime: p.publishTime,
  receivedAt: p.receivedAt,
  ...(p.emaPrice !== undefined && { emaPrice: p.emaPrice.toString(), emaConf: (p.emaConf ?? 0n).toString() }),
});
