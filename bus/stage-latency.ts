import { Histogram, type Registry } from 'prom-client';
import { PRICE_STAGES, STAGE_BUCKETS_SEC, STAGE_REPORT_EVERY_MS, type PriceStage, type StageReport, type StageSummary } from '../contracts/latency.ts';
import type { PriceBusPublisher } from './roles.ts';

/** The q-quantile of cumulative bucket counts, interpolated linearly inside its bucket (as histogram_quantile). */
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

const BOUNDS = [...STAGE_BUCKETS_SEC, Infinity];

/** Adds up the reports of several processes, stage by stage, and estimates p50 and p99 of each. */
export function summarizeStages(reports: readonly StageReport[]): StageSummary[] {
  return PRICE_STAGES.map((stage) => {
    const sum = BOUNDS.map(() => 0);
    for (const r of reports) r.stages[stage]?.forEach((n, i) => (sum[i]! += n));
    const buckets = BOUNDS.map((le, i) => ({ le, count: sum[i]! }));
    const count = sum.at(-1)!;
    const ms = (q: number) => {
      const s = bucketQuantile(q, buckets);
      return s === undefined ? undefined : Math.round(s * 100_000) / 100;
    };
    return { stage, count, ...(count > 0 && { p50Ms: ms(0.5), p99Ms: ms(0.99) }) };
  });
}

/**
 * This process's share of the price-stage histogram (`qd_price_stage_seconds{stage}` on its
 * /metrics), and its report for the bus so one view can add up every process's stages.
 */
export function priceStages(registry: Registry, now: () => number = Date.now) {
  const histogram = new Histogram({
    name: 'qd_price_stage_seconds',
    help: 'Time an accepted price takes to reach each stage (contracts/latency.ts): source, validated, stored, bus, gateway, sockets, pushed, confirmed',
    labelNames: ['stage'] as const,
    buckets: [...STAGE_BUCKETS_SEC],
    registers: [registry],
  });
  const since = now();
  return {
    /** Records `ms` for `stage`; a negative or non-finite span (clock skew, a bad time) is ignored. */
    observe(stage: PriceStage, ms: number): void {
      if (Number.isFinite(ms) && ms >= 0) histogram.observe({ stage }, ms / 1000);
    },
    async report(scope: string): Promise<StageReport> {
      const { values } = await histogram.get();
      const stages: StageReport['stages'] = {};
      for (const v of values) {
        if (v.metricName !== 'qd_price_stage_seconds_bucket') continue;
        const labels = v.labels as { stage?: PriceStage; le?: string | number };
        if (labels.stage === undefined) continue;
        const i = labels.le === '+Inf' ? BOUNDS.length - 1 : BOUNDS.indexOf(Number(labels.le));
        if (i < 0) continue;
        (stages[labels.stage] ??= BOUNDS.map(() => 0))[i] = v.value;
      }
      return { v: 1, scope, at: now(), since, stages };
    },
  };
}
export type PriceStages = ReturnType<typeof priceStages>;

/** Puts this process's report on the bus every `everyMs` (and at once); returns a function that stops it. */
export function reportStagesEvery(stages: PriceStages, bus: Pick<PriceBusPublisher, 'reportStages'>, scope: string, everyMs = STAGE_REPORT_EVERY_MS): () => void {
  const send = () => void stages.report(scope).then((r) => bus.reportStages(r));
  send();
  const timer = setInterval(send, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
