import { z } from 'zod';

/**
 * Where an accepted price's time goes, stage by stage, each measured by the process that sees it
 * (epoch ms, so stages that span processes assume their clocks agree, as on one machine or NTP):
 * - `source`: published by the source → received by an ingest worker (publish times are whole
 *   seconds, so this one is known to about a second) — measured by the gateways;
 * - `validated`: received → validated and graded — ingest;
 * - `stored`: received → written to price history — ingest;
 * - `bus`: received → sent on the bus — gateways (from the batch's send time);
 * - `gateway`: sent on the bus → arrived at a gateway — gateways;
 * - `sockets`: arrived at a gateway → written to the sockets that follow the market — gateways;
 * - `pushed`: received → its push transaction sent to the chain — sync;
 * - `confirmed`: received → that transaction confirmed — sync.
 * Each process keeps a histogram (`qd_price_stage_seconds{stage}`) and reports its cumulative bucket
 * counts on the bus under its own scope; the gateway's ops view adds them up.
 */
export const PRICE_STAGES = ['source', 'validated', 'stored', 'bus', 'gateway', 'sockets', 'pushed', 'confirmed'] as const;
export type PriceStage = (typeof PRICE_STAGES)[number];

/** Histogram bucket bounds, seconds (the +Inf bucket is implied). */
export const STAGE_BUCKETS_SEC = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** How often a process renews its report, and after how long without one it is taken for gone, ms. */
export const STAGE_REPORT_EVERY_MS = 5_000;
export const STAGE_REPORT_TTL_MS = 60_000;

/** One process's stage histograms: per stage, cumulative counts for each bound and then +Inf. */
export interface StageReport {
  v: 1;
  /** Who measured: e.g. `ingest:host:pid`; a process overwrites its own report. */
  scope: string;
  /** Epoch ms of the report: one not renewed for a while is from a process that is gone. */
  at: number;
  /** Epoch ms from which the process counted. */
  since: number;
  stages: Partial<Record<PriceStage, number[]>>;
}

const counts = z.array(z.number().int().nonnegative()).length(STAGE_BUCKETS_SEC.length + 1);
export const stageReportSchema: z.ZodType<StageReport> = z.object({
  v: z.literal(1),
  scope: z.string().min(1).max(200),
  at: z.number().int().positive(),
  since: z.number().int().positive(),
  stages: z.object(Object.fromEntries(PRICE_STAGES.map((s) => [s, counts.optional()])) as Record<PriceStage, z.ZodOptional<typeof counts>>).strict(),
});

/** A stage's figures, as the ops view shows them. */
export interface StageSummary {
  stage: PriceStage;
  count: number;
  /** Estimated from the buckets, as Prometheus' histogram_quantile does; ms. */
  p50Ms?: number;
  p99Ms?: number;
}
