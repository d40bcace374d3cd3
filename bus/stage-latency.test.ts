import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PRICE_STAGES, STAGE_BUCKETS_SEC, stageReportSchema } from '../contracts/latency.ts';
import { createMemoryBus } from './memory.ts';
import { bucketQuantile, priceStages, summarizeStages } from './stage-latency.ts';

describe('bucketQuantile', () => {
  const buckets = (counts: number[], les = [0.01, 0.1, 1, Infinity]) => les.map((le, i) => ({ le, count: counts[i]! }));

  it('interpolates inside the bucket that holds the rank, as histogram_quantile does', () => {
    // 100 observations: 50 under 10 ms, 40 more under 100 ms, 10 more under 1 s.
    const b = buckets([50, 90, 100, 100]);
    expect(bucketQuantile(0.5, b)).toBeCloseTo(0.01);
    expect(bucketQuantile(0.7, b)).toBeCloseTo(0.01 + 0.09 * (20 / 40));
    expect(bucketQuantile(0.99, b)).toBeCloseTo(0.1 + 0.9 * (9 / 10));
  });

  it('says nothing without observations, and no more than the last finite bound beyond it', () => {
    expect(bucketQuantile(0.5, buckets([0, 0, 0, 0]))).toBeUndefined();
    expect(bucketQuantile(0.99, buckets([0, 0, 0, 10]))).toBe(1);
  });
});

describe('price stages across processes', () => {
  it('reports cumulative bucket counts that add up, process by process, to one summary', async () => {
    const ingest = priceStages(new Registry(), () => 1_000);
    const sync = priceStages(new Registry(), () => 1_000);
    for (let i = 0; i < 99; i++) ingest.observe('stored', 20); // 20 ms
    ingest.observe('stored', 3_000); // one slow write
    ingest.observe('stored', -5); // clock skew: ignored
    ingest.observe('validated', Number.NaN); // ignored
    sync.observe('confirmed', 700);
    sync.observe('confirmed', 900);
    const reports = [await ingest.report('ingest:a'), await sync.report('sync:a')];
    for (const r of reports) expect(stageReportSchema.safeParse(r).success).toBe(true);
    const byStage = new Map(summarizeStages(reports).map((s) => [s.stage, s]));
    expect([...byStage.keys()]).toEqual([...PRICE_STAGES]);
    expect(byStage.get('stored')).toMatchObject({ count: 100 });
    expect(byStage.get('stored')!.p50Ms).toBeGreaterThan(10);
    expect(byStage.get('stored')!.p50Ms).toBeLessThanOrEqual(25);
    expect(byStage.get('stored')!.p99Ms).toBeLessThanOrEqual(25);
    expect(byStage.get('confirmed')).toMatchObject({ count: 2 });
    expect(byStage.get('confirmed')!.p50Ms).toBeGreaterThanOrEqual(500);
    expect(byStage.get('confirmed')!.p99Ms).toBeLessThanOrEqual(1_000);
    expect(byStage.get('validated')).toEqual({ stage: 'validated', count: 0 });
    // Two reports of the same stage add up.
    const twice = summarizeStages([reports[0]!, reports[0]!]).find((s) => s.stage === 'stored');
    expect(twice?.count).toBe(200);
  });

  it('keeps one report per process on the bus and forgets a process that stopped reporting', async () => {
    let now = 1_000_000;
    const bus = createMemoryBus(() => now);
    const stages = priceStages(new Registry(), () => now);
    stages.observe('pushed', 100);
    bus.publisher.reportStages(await stages.report('sync:a'));
    bus.publisher.reportStages(await stages.report('sync:a'));
    const sub = bus.subscriber();
    expect((await sub.stageReports(60_000)).map((r) => r.scope)).toEqual(['sync:a']);
    now += 61_000;
    expect(await sub.stageReports(60_000)).toEqual([]);
  });

  it('refuses a malformed report', () => {
    const ok = { v: 1, scope: 'x', at: 1, since: 1, stages: {} };
    expect(stageReportSchema.safeParse(ok).success).toBe(true);
    expect(stageReportSchema.safeParse({ ...ok, stages: { stored: [1, 2] } }).success).toBe(false);
    expect(stageReportSchema.safeParse({ ...ok, stages: { teleported: new Array(STAGE_BUCKETS_SEC.length + 1).fill(0) } }).success).toBe(false);
    expect(stageReportSchema.safeParse({ ...ok, stages: { stored: new Array(STAGE_BUCKETS_SEC.length + 1).fill(-1) } }).success).toBe(false);
  });
});
