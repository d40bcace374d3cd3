import type { PriceBatch } from '../contracts/bus.ts';
import type { StageReport } from '../contracts/latency.ts';
import type { StatusReport } from '../contracts/status.ts';
import type { Grades } from '../domain/validation.ts';
import type { AcceptedPrice } from '../store/roles.ts';

/**
 * The live-price bus as its users see it: the ingest worker publishes, gateways, the sync and the
 * liquidation scanner subscribe. `bus/redis.ts` implements it on Redis pub/sub, `bus/memory.ts` in
 * memory for unit tests.
 */

export type BusState = 'up' | 'down';

/** An accepted price with the grades validation gave it: what the ingest worker publishes. */
export type GradedPrice = AcceptedPrice & { readonly grades: Grades };

export interface PriceBusPublisher {
  /**
   * Publishes accepted prices once: the bus gives each a per-symbol sequence number. Prices are
   * latest-value data: while the bus is down they are dropped (counted), never queued — consumers
   * reload the latest prices from the store when it returns.
   */
  publishPrices(prices: readonly GradedPrice[]): void;
  /** Publishes a status report and keeps it as the latest of its scope (republished on reconnect). */
  publishStatus(report: StatusReport): void;
  /** Asks the on-chain sync to push a market's price now (a keeper that needs it fresher). */
  requestPush(symbol: string): void;
  /** Replaces this process's stage-latency report (kept per scope; dropped while the bus is down). */
  reportStages(report: StageReport): void;
  readonly state: BusState;
  close(): Promise<void>;
}

export interface PriceBusSubscriber {
  onPrices(handler: (batch: PriceBatch) => void): void;
  onStatus(handler: (report: StatusReport) => void): void;
  /** Called on every change of the subscription's state (`up` once subscribed). */
  onState(handler: (state: BusState) => void): void;
  /** Requests to push a market now; returns a function that stops listening. */
  onPushRequest(handler: (symbol: string) => void): () => void;
  /** The latest status report of every scope, for a consumer that (re)joins. */
  statusSnapshot(): Promise<StatusReport[]>;
  /** Every process's latest stage-latency report; reports older than `forgetAfterMs` are deleted. */
  stageReports(forgetAfterMs: number): Promise<StageReport[]>;
  readonly state: BusState;
  close(): Promise<void>;
}
