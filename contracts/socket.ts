/**
 * The gateways' Socket.IO contract, shared with the dashboard (`web/`). Types do not replace
 * runtime checks: everything a client sends is parsed with zod by the gateway.
 * Money travels as decimal strings (integer mantissas with their exponent), never as floats.
 */
import type { Action } from '../domain/markets.ts';
import type { WirePrice } from './bus.ts';
import type { ChainHealth, Divergence, IngestMode, SourceProblem } from './status.ts';

/** A price as the dashboard receives it: with its sequence number and how usable it is now. */
export interface PriceMessage extends WirePrice {
  /** Per symbol and connection, one more per price this gateway took; a jump means updates were skipped (resync from REST). */
  seq: number;
  stale: boolean;
  ageSec: number;
  usableFor: Action[];
}

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
  /** Sources that cannot deliver this market now, and why. */
  sources?: SourceProblem[];
  /** Whether this gateway receives the live-price bus; while `down`, prices come from the store and age. */
  bus: 'up' | 'down';
  /** Epoch milliseconds. */
  at: number;
}

/** A trader's position came within the warning distance of maintenance margin (issue: liquidations). */
export interface MarginWarning {
  wallet: string;
  position: string;
  symbol: string;
  /** Margin ratio and maintenance requirement, basis points. */
  marginRatioBps: number;
  maintenanceBps: number;
  /** Liquidation price, decimal string in USD. */
  liquidationPrice: string;
  at: number;
}

/** A trader's position was liquidated (fully or partly). */
export interface LiquidationAlert {
  wallet: string;
  position: string;
  symbol: string;
  outcome: string;
  /** Base units liquidated, decimal string. */
  size: string;
  /** Price used, decimal string in USD. */
  price: string;
  signature?: string;
  at: number;
}

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
  'margin-warning': (w: MarginWarning) => void;
  liquidation: (a: LiquidationAlert) => void;
}

export interface ClientToServerEvents {
  subscribe: (symbols: unknown, ack: (r: SubscribeAck) => void) => void;
  unsubscribe: (symbols: unknown, ack?: (r: SubscribeAck) => void) => void;
  /** Follow a wallet's alerts (room `wallet:<pubkey>`); read-only, anyone may watch any wallet. */
  'watch-wallet': (wallet: unknown, ack: (r: { ok: boolean; error?: string }) => void) => void;
  'unwatch-wallet': (wallet: unknown, ack?: (r: { ok: boolean; error?: string }) => void) => void;
}

export const marketRoom = (symbol: string) => `market:${symbol}`;
export const walletRoom = (wallet: string) => `wallet:${wallet}`;
