import { Histogram, type Registry } from 'prom-client';
import type { LivePrice } from '../bus/follower.ts';

/**
 * Where a live price's time goes, stage by stage, as each gateway sees it:
 * - `source`: published by the source → received by the ingest worker (publish times are whole
 *   seconds, so this stage is known to about a second);
 * - `bus`: received → sent on the bus by the worker (validation, grading, batching);
 * - `gateway`: sent on the bus → arrived at this gateway;
 * - `sockets`: arrived → written to the sockets that follow the market.
 * The on-chain stages (received → push confirmed) are the sync's `qd_sync_push_latency_seconds`.
 */
export const STAGES = ['source', 'bus', 'gateway', 'sockets'] as const;
export type Stage = (typeof STAGES)[number];

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface StageSummary {
  stage: Stage;
  count: number;
  /** Estimated from the histogram's buckets, as Prometheus' histogram_quantile does; ms. */
  p50Ms?: number;
  p99Ms?: number;
}

/** The q-quantile of cumulative bucket counts, interpolated linearly inside its bucket. */
export function bucketQuantile(q: number, buckets: readonly { le: number; count: number }[]): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      // Beyond the last finite bucket nothing is known but its bound.
      if (!Number.isFinite(b.le)) return lower;
      const inBucket = b.count - below;
      return inBucket === 0 ? b.le : lower + ((b.le - lower) * (rank - below)) / inBucket;
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

export function stageLatency(registry: Registry) {
  const histogram = new Histogram({
    name: 'qd_price_stage_seconds',
    help: 'Time a live price spends in each stage: source → worker, worker → bus, bus → gateway, gateway → sockets',
    labelNames: ['stage'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const observe = (stage: Stage, ms: number) => {
    if (Number.isFinite(ms) && ms >= 0) histogram.observe({ stage }, ms / 1000);
  };
  return {
    /** Prices that came off the bus in a batch sent at `busAt`, arrived here at `arrivedAt` (epoch ms). */
    arrived(prices: readonly LivePrice[], busAt: number, arrivedAt: number): void {
      for (const p of prices) {
        observe('source', p.receivedAt - p.publishTime * 1000);
        observe('bus', busAt - p.receivedAt);
      }
      observe('gateway', arrivedAt - busAt);
    },
    sent(arrivedAt: number, sentAt: number): void {
      observe('sockets', sentAt - arrivedAt);
    },
    async summary(): Promise<StageSummary[]> {
      const { values } = await histogram.get();
      return STAGES.map((stage) => {
        const buckets = values
          .filter((v) => v.labels.stage === stage && v.metricName === 'qd_price_stage_seconds_bucket')
          .map((v) => {
            const le = (v.labels as { le?: string | number }).le;
            return { le: le === '+Inf' ? Infinity : Number(le), count: v.value };
          })
          .sort((a, b) => a.le - b.le);
        const count = buckets.at(-1)?.count ?? 0;
        const ms = (q: number) => {
          const s = bucketQuantile(q, buckets);
          return s === undefined ? undefined : Math.round(s * 100_000) / 100;
        };
        return { stage, count, ...(count > 0 && { p50Ms: ms(0.5), p99Ms: ms(0.99) }) };
      });
    },
  };
}
export type StageLatency = ReturnType<typeof stageLatency>;
