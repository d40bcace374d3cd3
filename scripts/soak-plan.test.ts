import { describe, expect, it } from 'vitest';
import type { Corruption } from '../sandbox/market-sim/faults.ts';
import type { PublishedUpdate } from '../sandbox/market-sim/hermes-wire.ts';
import { KILL_TARGETS, failures, faultSchedule, renderReport, secondsToStore, summarizeRss, type RssSample, type SoakReport } from './soak-plan.ts';

describe('the soak fault schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(faultSchedule(7, 600_000)).toEqual(faultSchedule(7, 600_000));
    expect(faultSchedule(8, 600_000)).not.toEqual(faultSchedule(7, 600_000));
  });

  it('alternates kills and upstream faults, kills every process once before any twice, and ends before the settle time', () => {
    const s = faultSchedule(1, 600_000);
    expect(s.length).toBe(22); // 25 s apart, from 25 s to 550 s (settled by 570 s)
    expect(s.every((f, i) => (f.fault.kind === 'kill') === (i % 2 === 0))).toBe(true);
    const firstRound = s.filter((f) => f.fault.kind === 'kill').slice(0, KILL_TARGETS.length).map((f) => (f.fault.kind === 'kill' ? f.fault.target : ''));
    expect(new Set(firstRound)).toEqual(new Set(KILL_TARGETS));
    expect(s.at(-1)!.atMs).toBeLessThanOrEqual(600_000 - 30_000);
    expect(s.filter((f) => f.fault.kind !== 'kill').every((f) => f.holdMs > 0 && f.holdMs < 25_000)).toBe(true);
  });

  it('still plays several different faults in a 2-minute run', () => {
    const s = faultSchedule(1, 120_000);
    expect(s.map((f) => f.atMs)).toEqual([20_000, 40_000, 60_000, 80_000]);
    expect(new Set(s.map((f) => JSON.stringify(f.fault))).size).toBe(4);
  });
});

describe('memory of a soaked process', () => {
  const life = (pid: number, fromMs: number, minutes: number, mbAt: (min: number) => number): RssSample[] =>
    Array.from({ length: minutes * 12 + 1 }, (_, i) => ({ atMs: fromMs + i * 5_000, pid, mb: mbAt(i / 12) }));

  it('measures growth over the longest life after its warm-up, not across a restart', () => {
    // 5 minutes growing 2 MB/min after a 2-minute start-up climb, then a restart back to 100 MB for a minute.
    const samples = [...life(1, 0, 7, (m) => (m < 2 ? 100 + 100 * m : 300 + 2 * (m - 2))), ...life(2, 425_000, 1, () => 100)];
    const r = summarizeRss(samples)!;
    expect(r.slopeMbPerMin).toBeCloseTo(2, 5);
    expect(r.peakMb).toBeCloseTo(310, 5);
    expect(r.finalMb).toBe(100);
  });

  it('tells a heap that breathes from one that keeps rising', () => {
    // Both tilt a least-squares line by more than the limit. The first climbs to its bound by the
    // middle and then only breathes (a 20 MB GC sawtooth); the second keeps rising 5 MB/min.
    const breathing = summarizeRss(life(1, 0, 8, (m) => Math.min(200 + 12 * m, 260) + (Math.round(m * 12) % 4 === 0 ? 20 : 0)))!;
    expect(breathing.slopeMbPerMin).toBeGreaterThan(4);
    expect(breathing.highWaterMbPerMin).toBe(0);
    const leaking = summarizeRss(life(1, 0, 8, (m) => 200 + 5 * m + (Math.round(m * 12) % 4 === 0 ? 20 : 0)))!;
    expect(leaking.highWaterMbPerMin).toBeCloseTo(5, 0);
    const clean = { minutes: 8, seed: 1, faults: [], received: 1, lost: [], publishedSeconds: 1, lostSeconds: [], duplicates: [], missed: [], liquidated: 1, crashed: [], workflowsMissing: [], latencyMs: { p50: 1, p99: 1, samples: 1 } };
    expect(failures({ ...clean, rss: [{ name: 'x', summary: breathing }] })).toEqual([]);
    expect(failures({ ...clean, rss: [{ name: 'x', summary: leaking }] })).toEqual([expect.stringContaining('x memory keeps rising')]);
  });

  it('does not judge a life too short to show a trend', () => {
    expect(summarizeRss(life(1, 0, 5, (m) => 100 + 50 * m))!.slopeMbPerMin).toBeUndefined();
  });
});

describe('the soak verdict', () => {
  const clean: SoakReport = {
    minutes: 2,
    seed: 1,
    faults: [{ at: '20 s', fault: 'kill -9 ingest', recoveredMs: 3_000 }],
    received: 1_000,
    lost: [],
    publishedSeconds: 2_400,
    lostSeconds: [],
    duplicates: [],
    missed: [],
    liquidated: 4,
    crashed: [],
    workflowsMissing: [],
    rss: [{ name: 'gateway', summary: { peakMb: 300, finalMb: 290, slopeMbPerMin: 0.5, highWaterMbPerMin: 0, spanMs: 180_000 } }],
    latencyMs: { p50: 100, p99: 300, samples: 500 },
  };

  it('passes a clean run and prints every count', () => {
    expect(failures(clean)).toEqual([]);
    const text = renderReport(clean);
    expect(text).toContain('soak PASSED');
    expect(text).toMatch(/lost \(received, not stored\)\s+0/);
    expect(text).toMatch(/no update of its second stored; of 2400 feed-seconds\)\s+0/);
    expect(text).toMatch(/kill -9 ingest\s+3\.0 s/);
  });

  it('fails on a loss, a duplicate, a miss, a crash, a missing workflow, growing memory, or nothing exercised', () => {
    expect(failures({ ...clean, lost: ['x'] })).toHaveLength(1);
    expect(failures({ ...clean, lostSeconds: ['SOL-PERP 1796000000'] })).toHaveLength(1);
    expect(failures({ ...clean, publishedSeconds: 0 })).toHaveLength(1);
    expect(failures({ ...clean, duplicates: ['x'] })).toHaveLength(1);
    expect(failures({ ...clean, missed: ['x'] })).toHaveLength(1);
    expect(failures({ ...clean, crashed: ['sync exited with code 1'] })).toHaveLength(1);
    expect(failures({ ...clean, workflowsMissing: ['oracle-sync: TERMINATED'] })).toHaveLength(1);
    expect(failures({ ...clean, rss: [{ name: 'gateway', summary: { peakMb: 900, finalMb: 900, slopeMbPerMin: 40, highWaterMbPerMin: 40, spanMs: 300_000 } }] })).toHaveLength(1);
    expect(failures({ ...clean, liquidated: 0 })).toHaveLength(1);
    expect(failures({ ...clean, received: 0 })).toHaveLength(1);
    expect(renderReport({ ...clean, lost: ['x'] })).toContain('soak FAILED');
  });
});

describe('the seconds history must hold', () => {
  const update = (feedId: string, publishTime: number, publishedAtMs: number, corruption?: Corruption): PublishedUpdate =>
    ({ feedId, slot: 1, publishTime, prevPublishTime: publishTime - 1, price: '1', expo: -8, publishedAtMs, corruption, parsedJson: '{}', binary: Buffer.alloc(0) }) as PublishedUpdate;

  it('keeps a second with an acceptable update whose first update is sound; drops corrupted entries and every entry of a spoiled message', () => {
    const published = new Map([
      // 100: a sound first update, then a corrupted one: has to be stored.
      // 101: its only update is in a tick another feed's malformed entry spoiled.
      // 102: its only update is itself corrupted (a shifted publish time).
      // 104: a corrupted first update, then a sound one: a backfill may only get the bad one.
      ['a', [update('a', 100, 100_000), update('a', 100, 100_400, 'nan-price'), update('a', 101, 101_200), update('a', 700, 102_000, 'future-time'), update('a', 103, 103_000), update('a', 104, 104_000, 'zero-price'), update('a', 104, 104_400)]],
      ['b', [update('b', 100, 100_000), update('b', 101, 101_200, 'malformed-json'), update('b', 103, 103_000, 'unknown-id')]],
    ]);
    const seconds = secondsToStore(published, 100, 104);
    expect([...seconds.get('a')!].sort()).toEqual([100, 103]);
    expect([...seconds.get('b')!]).toEqual([100]);
    // Outside the window: not judged.
    expect([...secondsToStore(published, 101, 102).get('a')!]).toEqual([]);
  });
});
