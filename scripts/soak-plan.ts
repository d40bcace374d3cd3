import { createRng } from '../sandbox/market-sim/random.ts';
import { CORRUPTIONS, WHOLE_MESSAGE_CORRUPTIONS } from '../sandbox/market-sim/faults.ts';
import type { PublishedUpdate } from '../sandbox/market-sim/hermes-wire.ts';

/**
 * The pure parts of `npm run soak` (scripts/soak.ts): which fault strikes when (seeded, so a run
 * can be repeated), how memory is judged, and the verdict table. No I/O here.
 */

/** Processes the soak kills with SIGKILL; each is restarted by the supervisor. */
export const KILL_TARGETS = ['ingest', 'sync', 'keeper', 'gateway', 'redis', 'ferretdb', 'postgres', 'temporal'] as const;
export type KillTarget = (typeof KILL_TARGETS)[number];

/** Upstream faults, played by the market simulator for `holdMs`, then lifted. */
export type SourceFault =
  | { kind: 'pyth-paused' }
  | { kind: 'pyth-stalled' }
  | { kind: 'pyth-dropped' }
  | { kind: 'pyth-delayed'; ms: number }
  /** Every bad-payload kind in turn (CORRUPTIONS), a few updates each, among good ones. */
  | { kind: 'pyth-corrupt' }
  | { kind: 'coingecko-corrupt' }
  /** Both upstreams down: the last good price is served, marked stale. */
  | { kind: 'both-down' };

export type Fault = { kind: 'kill'; target: KillTarget } | SourceFault;

export interface ScheduledFault {
  /** From the start of the soak. */
  atMs: number;
  fault: Fault;
  /** How long a source fault stays on (a kill is instantaneous: 0). */
  holdMs: number;
}

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'kill':
      return `kill -9 ${f.target}`;
    case 'pyth-delayed':
      return `pyth delayed ${f.ms} ms`;
    case 'pyth-corrupt':
    case 'coingecko-corrupt':
      return `${f.kind.split('-')[0]} sends each of the ${CORRUPTIONS.length} bad payloads`;
    default:
      return f.kind.replace('-', ' ');
  }
}

function shuffled<T>(items: readonly T[], rng: { next(): number }): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * One fault every `everyMs` (25 s, or a sixth of a short run), from `firstAtMs` until `settleMs`
 * before the end, so the last one is over and recovered from before the checks. Kills and source
 * faults alternate; each kind comes round once before any comes again (a shuffled deck per round),
 * so even a 2-minute run sees different faults, and the same seed gives the same run.
 */
export function faultSchedule(seed: string | number, durationMs: number, o: { everyMs?: number; firstAtMs?: number; settleMs?: number; holdMs?: number } = {}): ScheduledFault[] {
  const everyMs = o.everyMs ?? Math.min(25_000, Math.max(10_000, Math.floor(durationMs / 6)));
  const firstAtMs = o.firstAtMs ?? everyMs;
  const settleMs = o.settleMs ?? 30_000;
  const holdMs = o.holdMs ?? Math.min(12_000, Math.floor(everyMs / 2));
  const rng = createRng(seed, 'soak-faults');
  const sourceFaults = (): SourceFault[] => [
    { kind: 'pyth-paused' },
    { kind: 'pyth-stalled' },
    { kind: 'pyth-dropped' },
    { kind: 'pyth-delayed', ms: 500 + Math.floor(rng.next() * 2_000) },
    { kind: 'pyth-corrupt' },
    { kind: 'coingecko-corrupt' },
    { kind: 'both-down' },
  ];
  const kills: Fault[] = [];
  const sources: Fault[] = [];
  const out: ScheduledFault[] = [];
  for (let at = firstAtMs, i = 0; at <= durationMs - settleMs; at += everyMs, i++) {
    const deck = i % 2 === 0 ? kills : sources;
    if (deck.length === 0) deck.push(...(i % 2 === 0 ? shuffled(KILL_TARGETS.map((target) => ({ kind: 'kill' as const, target })), rng) : shuffled(sourceFaults(), rng)));
    const fault = deck.shift()!;
    out.push({ atMs: at, fault, holdMs: fault.kind === 'kill' ? 0 : holdMs });
  }
  return out;
}

/** A resident-set sample of one process (pid: a restart starts a new life). */
export interface RssSample {
  atMs: number;
  pid: number;
  mb: number;
}

export interface RssSummary {
  peakMb: number;
  finalMb: number;
  /** Least-squares growth over the longest life, after its warm-up; undefined when that is under `minSpanMs`. */
  slopeMbPerMin: number | undefined;
  /**
   * How fast the high-water mark still rose in the second half of that settled life: (its peak −
   * the first half's peak) / half the span. A leak keeps raising it; a heap that breathes (GC
   * sawtooth, a cache filling to its bound) does not, even when a least-squares line through the
   * samples tilts. This is what the soak judges. Undefined like the slope.
   */
  highWaterMbPerMin: number | undefined;
  /** The span the slope is taken over. */
  spanMs: number;
}

export function summarizeRss(samples: readonly RssSample[], warmupMs = 120_000, minSpanMs = 240_000): RssSummary | undefined {
  if (samples.length === 0) return undefined;
  const lives = new Map<number, RssSample[]>();
  for (const s of samples) {
    if (!lives.has(s.pid)) lives.set(s.pid, []);
    lives.get(s.pid)!.push(s);
  }
  let best: RssSample[] = [];
  for (const life of lives.values()) {
    const settled = life.filter((s) => s.atMs - life[0]!.atMs >= warmupMs);
    const span = settled.length > 1 ? settled.at(-1)!.atMs - settled[0]!.atMs : 0;
    const bestSpan = best.length > 1 ? best.at(-1)!.atMs - best[0]!.atMs : 0;
    if (span > bestSpan) best = settled;
  }
  const spanMs = best.length > 1 ? best.at(-1)!.atMs - best[0]!.atMs : 0;
  const judged = spanMs >= minSpanMs;
  const peakOf = (list: readonly RssSample[]) => Math.max(...list.map((s) => s.mb));
  const half = best.filter((s) => s.atMs - best[0]!.atMs <= spanMs / 2);
  return {
    peakMb: peakOf(samples),
    finalMb: samples.at(-1)!.mb,
    slopeMbPerMin: judged ? slope(best.map((s) => [s.atMs / 60_000, s.mb])) : undefined,
    highWaterMbPerMin: judged ? (peakOf(best) - peakOf(half)) / (spanMs / 2 / 60_000) : undefined,
    spanMs,
  };
}

function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Growth a process may show over its settled life and still count as bounded (MB per minute). */
export const RSS_GROWTH_LIMIT_MB_PER_MIN = 4;

/**
 * Per feed, the publish seconds in [from, to] that history must hold a Pyth update of. Live, every
 * accepted update is stored; a gap the stream missed (a kill, a stall, a dropped connection) is
 * backfilled from Hermes, which serves the first update of each second. So a second counts when it
 * has an update the validator accepts — not corrupted itself, and not in a message a whole-message
 * corruption spoiled (any feed's `malformed-json` or `oversized` entry spoils every entry of its
 * tick, which shares its publish instant) — and its first update is not corrupted: the archive
 * serves what was published, and a bad first update may be all a backfill can get of that second.
 */
export function secondsToStore(published: ReadonlyMap<string, readonly PublishedUpdate[]>, from: number, to: number): Map<string, Set<number>> {
  const spoiled = new Set<number>();
  for (const updates of published.values()) for (const u of updates) if (u.corruption !== undefined && WHOLE_MESSAGE_CORRUPTIONS.includes(u.corruption)) spoiled.add(u.publishedAtMs);
  const out = new Map<string, Set<number>>();
  for (const [feedId, updates] of published) {
    const seconds = new Set<number>();
    const firstCorrupted = new Map<number, boolean>();
    for (const u of updates) if (!firstCorrupted.has(u.publishTime)) firstCorrupted.set(u.publishTime, u.corruption !== undefined);
    for (const u of updates) {
      if (u.corruption !== undefined || spoiled.has(u.publishedAtMs) || firstCorrupted.get(u.publishTime)) continue;
      if (u.publishTime >= from && u.publishTime <= to) seconds.add(u.publishTime);
    }
    out.set(feedId, seconds);
  }
  return out;
}

export interface SoakReport {
  minutes: number;
  seed: string | number;
  faults: { at: string; fault: string; recoveredMs: number | undefined }[];
  /** Prices the client received, distinct. */
  received: number;
  /** Received, yet not in history. */
  lost: string[];
  /** Publish seconds with an acceptable update (`secondsToStore`) that were checked against history. */
  publishedSeconds: number;
  /** Of those, the ones history holds no Pyth update of (`<symbol> <publish second>`). */
  lostSeconds: string[];
  /** Stored twice, or liquidated more often than the keepers counted. */
  duplicates: string[];
  /** Positions pushed under water that no saga liquidated in time. */
  missed: string[];
  liquidated: number;
  /** Exits the soak did not cause, and processes the supervisor gave up on. */
  crashed: string[];
  /** Workflows that should run and were not running at the end. */
  workflowsMissing: string[];
  rss: { name: string; summary: RssSummary }[];
  latencyMs: { p50: number; p99: number; samples: number };
}

/** What fails the soak: anything lost, twice, missed, crashed or not running, and memory that keeps growing. */
export function failures(r: SoakReport): string[] {
  const out: string[] = [];
  if (r.received === 0) out.push('the client received no price at all');
  if (r.lost.length > 0) out.push(`${r.lost.length} received prices not in history, e.g. ${r.lost.slice(0, 3).join(', ')}`);
  if (r.publishedSeconds === 0) out.push('no published second was checked against history');
  if (r.lostSeconds.length > 0) out.push(`${r.lostSeconds.length} published seconds with an acceptable update have none in history, e.g. ${r.lostSeconds.slice(0, 3).join(', ')}`);
  if (r.duplicates.length > 0) out.push(`${r.duplicates.length} duplicates, e.g. ${r.duplicates.slice(0, 3).join(', ')}`);
  if (r.missed.length > 0) out.push(`${r.missed.length} liquidations missed: ${r.missed.slice(0, 3).join(', ')}`);
  if (r.liquidated === 0) out.push('no position was liquidated: the liquidation path was not exercised');
  if (r.crashed.length > 0) out.push(`${r.crashed.length} crashes: ${r.crashed.slice(0, 3).join(', ')}`);
  if (r.workflowsMissing.length > 0) out.push(`workflows not running: ${r.workflowsMissing.join(', ')}`);
  for (const { name, summary } of r.rss) {
    if (summary.highWaterMbPerMin !== undefined && summary.highWaterMbPerMin > RSS_GROWTH_LIMIT_MB_PER_MIN) {
      out.push(`${name} memory keeps rising: its peak grew ${summary.highWaterMbPerMin.toFixed(1)} MB/min over the second half of its settled life (limit ${RSS_GROWTH_LIMIT_MB_PER_MIN})`);
    }
  }
  return out;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

export function renderReport(r: SoakReport): string {
  const fails = failures(r);
  const lines = [
    `soak: ${r.minutes} min, seed ${r.seed}, ${r.faults.length} faults`,
    '',
    ...table(
      ['at', 'fault', 'prices flowing again after'],
      r.faults.map((f) => [f.at, f.fault, f.recoveredMs === undefined ? 'NOT recovered' : `${(f.recoveredMs / 1000).toFixed(1)} s`]),
    ),
    '',
    ...table(
      ['check', 'count'],
      [
        ['prices received (distinct)', String(r.received)],
        ['lost (received, not stored)', String(r.lost.length)],
        [`lost (published and acceptable, no update of its second stored; of ${r.publishedSeconds} feed-seconds)`, String(r.lostSeconds.length)],
        ['duplicates (stored twice, liquidated twice)', String(r.duplicates.length)],
        ['positions liquidated', String(r.liquidated)],
        ['liquidations missed', String(r.missed.length)],
        ['crashed (exits the soak did not cause)', String(r.crashed.length)],
        ['workflows not running at the end', String(r.workflowsMissing.length)],
        [`publish → client p50 / p99 (${r.latencyMs.samples} samples)`, `${Math.round(r.latencyMs.p50)} / ${Math.round(r.latencyMs.p99)} ms`],
      ],
    ),
    '',
    ...table(
      ['process', 'peak MB', 'final MB', 'trend MB/min (settled life)', 'peak rise MB/min (its 2nd half)'],
      r.rss.map(({ name, summary: s }) => [
        name,
        String(Math.round(s.peakMb)),
        String(Math.round(s.finalMb)),
        s.slopeMbPerMin === undefined ? `— (${(s.spanMs / 60_000).toFixed(1)} min settled)` : `${s.slopeMbPerMin.toFixed(2)} over ${(s.spanMs / 60_000).toFixed(1)} min`,
        s.highWaterMbPerMin === undefined ? '—' : s.highWaterMbPerMin.toFixed(2),
      ]),
    ),
    '',
    fails.length === 0 ? 'soak PASSED' : `soak FAILED:\n  ${fails.join('\n  ')}`,
  ];
  return lines.join('\n');
}
