// `npm run bench -- store`: the store's reads at scale, while ingestion writes.
//
// Preloads a synthetic day of history — 20 feeds × 86,400 s at one Pyth update per second per feed
// (1,728,000 updates) — and 100,000 push records, through the store's own write API: `append` in
// big batches, then `seal` of every minute (the hour's with its last minute), `writeLatest`, and
// `pushes.record`, so the layout is exactly what production writes (day collections of ticks,
// minute candles, hour documents; pushes bucketed by market and hour). Then, at 10 % of the
// preload (its first 2.4 h) and at 100 %, while a child process ingests 1,000 updates/s through the
// real `PriceWriter` (journal, batched appends, minute sealing, served prices) — by default over
// 400 feeds at 2.5 updates/s each, Pyth's cadence (the 20 preloaded feeds among them) — it measures the
// gateway's reads one after the other, p50/p99:
//   - latest prices of every feed (`latest.latest`, as the bus follower reads them);
//   - 1 h candles of one feed at 60 s (the history route's default window and interval);
//   - 24 h candles of one feed at 300 s (the dashboard chart's 24 h window);
//   - the push log of one market (`pushes.recent`, 20 newest: the pushes route's default).
//
// The bench runs on a virtual clock: the preloaded day is [T0, T0 + 24 h) with T0 about a day before
// the bench started, and each measurement runs "now" at the preload's end — the frontier of the
// stored history — so at 10 % the reads see what a store that has run for 2.4 h holds, at 100 %
// what one that has run for a day holds. Live updates carry that clock's publish times; the preload
// of the remaining 90 % resumes after what the live ingestion wrote, so nothing is written twice.
//
// Ingestion kept up when it offered the rate, stored every update, and its backlog came back under
// a second of updates in every minute (it rises while the writer seals a minute — the inserts wait
// for that — and is reported with its peak). Each measurement also prints the CPU taken by
// PostgreSQL, FerretDB, the ingestion and the reader, the machine's and its load average: on a
// shared machine the latencies are only as good as the CPU that was left.
//
//   npm run bench -- store [--scale 1] [--reads 300] [--rate 1000] [--live-feeds 400] [--measure-seconds 90 (at least)] [--keep]
//   --scale shrinks the preloaded day (and the push records) for quick runs: 0.05 is 72 min of history.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'mongoose';
import pg from 'pg';
import { Registry } from 'prom-client';
import { ingestMetrics } from '../activities/ingest/metrics.ts';
import { PriceWriter } from '../activities/ingest/price-writer.ts';
import { minuteOf } from '../domain/candles.ts';
import { indexMarkets, type Market, type MarketIndex } from '../domain/markets.ts';
import { createLogger } from '../runtime/logger.ts';
import { TEST_ENV } from '../scripts/test-services.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore, type MongoStore } from '../store/mongo/store.ts';
import type { AcceptedPrice, PushDoc } from '../store/roles.ts';
import type { Supervisor } from '../scripts/supervisor.ts';
import { numberArg, percentile, registryOf } from './support.ts';
import { goal as recordGoal } from './goals.ts';

const DAY = 86_400;
const PRELOAD_FEEDS = 20;
const FULL_PUSHES = 100_000;
/** Seconds of history per `append` (× the preloaded feeds: 6,000 updates). */
const CHUNK_SEC = 300;
/** Seconds of ingestion before the reads start. */
const WARMUP_SEC = 10;
const EXPO = -8;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(1) : Math.round(n).toString()) : '—');

/** The bench's registry: the shipped markets then synthetic ones, one feed group. */
const benchMarkets = (n: number) => indexMarkets(registryOf(n));

/** A deterministic random walk per feed (mantissas at 10^-8). */
function walker(seed: number) {
  let s = seed >>> 0 || 1;
  let v = 10_000_000_000n + BigInt(seed % 1_000) * 100_000_000n;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    v += BigInt((s % 201) - 100) * 10_000n;
    if (v < 1_000_000_000n) v = 1_000_000_000n;
    return v;
  };
}

const accepted = (m: Market, publishTime: number, slot: number, price: bigint, receivedAt: number): AcceptedPrice => ({
  symbol: m.symbol,
  feedId: m.pythFeedId,
  source: 'pyth',
  price,
  conf: price / 10_000n,
  expo: EXPO,
  publishTime,
  slot,
  emaPrice: price,
  emaConf: price / 10_000n,
  hasConfidence: true,
  receivedAt,
});

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const fakeSignature = (n: number) => {
  let out = '';
  for (let i = 0, x = n * 2_654_435_761 + 7; i < 88; i++, x = (x * 1_103_515_245 + 12_345) % 2_147_483_648) out += B58[x % 58];
  return out;
};

/** One push batch of these markets at `t` (unix seconds), as the sync records it. */
function pushBatch(markets: readonly Market[], t: number, n: number, price: (m: Market) => bigint): Omit<PushDoc, 'recordedAt'>[] {
  const batchId = `bench-${t}-${n}`;
  return markets.map((m, i) => {
    const p = price(m);
    return {
      symbol: m.symbol,
      feedId: m.pythFeedId,
      batchId,
      attempt: 1,
      triggers: [i % 3 === 0 ? 'deviation' : 'heartbeat'],
      price: p.toString(),
      conf: (p / 10_000n).toString(),
      expo: EXPO,
      publishTime: Math.floor(t) - 1,
      receivedAt: new Date(Math.floor(t * 1000) - 900),
      decidedAt: new Date(Math.floor(t * 1000) - 400),
      signature: fakeSignature(n),
      slot: Math.floor(t) * 1_000,
      feeLamports: 5_000,
      computeUnits: 9_000 + i,
      latencyMs: 900,
      outcome: 'confirmed',
    };
  });
}

// ————— the preload —————

interface PreloadStats {
  updates: number;
  pushes: number;
  ms: number;
  appendMs: number;
  sealMs: number;
}

/**
 * Writes [from, from + seconds) of history of `feeds` (one update per second each) at virtual
 * times starting at `virtualFrom`, and the push batches that fall in it, as production writes them.
 */
async function preload(
  store: MongoStore,
  feeds: readonly Market[],
  walks: Map<string, () => bigint>,
  last: Map<string, bigint>,
  virtualFrom: number,
  seconds: number,
  pushEverySec: number,
  pushFrom: number,
  pushBudget: number,
  setClock: (ms: number | undefined) => void,
  progress: (done: number) => void,
): Promise<PreloadStats & { nextPush: number }> {
  const started = performance.now();
  const stats = { updates: 0, pushes: 0, ms: 0, appendMs: 0, sealMs: 0 };
  let nextPush = pushFrom;
  for (let s = 0; s < seconds; s += CHUNK_SEC) {
    const chunkFrom = virtualFrom + s;
    const chunkTo = Math.min(virtualFrom + seconds, chunkFrom + CHUNK_SEC);
    const prices: AcceptedPrice[] = [];
    for (let t = chunkFrom; t < chunkTo; t++) {
      for (const m of feeds) {
        const p = walks.get(m.pythFeedId)!();
        last.set(m.pythFeedId, p);
        prices.push(accepted(m, t, t * 1_000, p, t * 1_000 + 400));
      }
    }
    let at = performance.now();
    const inserted = await store.history.append(prices);
    if (inserted !== prices.length) throw new Error(`append stored ${inserted} of ${prices.length} updates`);
    stats.updates += inserted;
    // The served prices and marks, as the writer's other track does once per flush.
    const newest = feeds.map((m) => prices.findLast((p) => p.feedId === m.pythFeedId)!);
    await store.latest.writeLatest(newest, newest);
    stats.appendMs += performance.now() - at;
    at = performance.now();
    const ids = feeds.map((m) => m.pythFeedId);
    for (let minute = chunkFrom; minute < chunkTo; minute += 60) await store.history.seal(ids, minute);
    stats.sealMs += performance.now() - at;
    // Push records: `record` stamps them with the store's clock, set to each batch's time.
    for (; nextPush < chunkTo && stats.pushes + feeds.length <= pushBudget; nextPush += pushEverySec) {
      setClock(Math.floor(nextPush * 1000));
      const batch = pushBatch(feeds, nextPush, Math.round(nextPush * 100), (m) => last.get(m.pythFeedId)!);
      await store.pushes.record(batch);
      stats.pushes += batch.length;
    }
    setClock(undefined);
    progress(stats.updates);
  }
  stats.ms = performance.now() - started;
  return { ...stats, nextPush };
}

// ————— the live ingestion (a child process, like the ingest worker) —————

interface ChildConfig {
  uri: string;
  liveFeeds: number;
  rate: number;
  /** Virtual clock = real clock + offsetMs. */
  offsetMs: number;
  pushEverySec: number;
  nextPush: number;
  pushFeeds: number;
}

interface ChildReport {
  kind: 'report';
  seconds: number;
  offered: number;
  stored: number;
  /** The writer's backlog (accepted, not yet stored), sampled every second after the warm-up. */
  backlog: number[];
  backlogAtStop: number;
  /** Each minute's seal (every live feed's candle), ms, the ones at the stop included. */
  sealMs: number[];
  drainMs: number;
  /** Newest publish time written, and the next push batch's time. */
  lastPublish: number;
  nextPush: number;
  pushes: number;
  writeFailures: number;
}

async function ingestChild(cfg: ChildConfig): Promise<void> {
  const send = (m: unknown) => process.send!(m);
  const vnow = () => Date.now() + cfg.offsetMs;
  const markets = benchMarkets(cfg.liveFeeds);
  const db = await openStore(cfg.uri);
  const store = createMongoStore(db, markets, vnow);
  let stored = 0;
  const sealMs: number[] = [];
  const history = {
    ...store.history,
    async append(prices: readonly AcceptedPrice[]) {
      const n = await store.history.append(prices);
      stored += n;
      return n;
    },
    async seal(feedIds: readonly string[], minute: number, again?: boolean) {
      const at = performance.now();
      await store.history.seal(feedIds, minute, again);
      sealMs.push(performance.now() - at);
    },
  };
  const registry = new Registry();
  const metrics = ingestMetrics(registry);
  const journalDir = mkdtempSync(join(tmpdir(), 'qd-bench-store-journal-'));
  const writer = new PriceWriter({ latest: store.latest, history, rejections: store.rejections }, markets, createLogger('bench-store-ingest', 'warn'), metrics, { journalDir }, vnow);
  const feeds = markets.all;
  const walks = new Map(feeds.map((m, i) => [m.pythFeedId, walker(i + 1)] as const));
  const perSecond = new Map<string, { t: number; k: number }>();
  let offered = 0;
  let lastPublish = 0;
  let nextPush = cfg.nextPush;
  let pushes = 0;
  const backlog: number[] = [];
  let rr = 0;
  const started = Date.now();
  const tick = setInterval(() => {
    const due = Math.floor((cfg.rate * (Date.now() - started)) / 1000) - offered;
    const nowMs = vnow();
    const t = Math.floor(nowMs / 1000);
    for (let i = 0; i < due; i++) {
      const m = feeds[rr++ % feeds.length]!;
      const c = perSecond.get(m.pythFeedId);
      const k = c && c.t === t ? c.k + 1 : 0;
      perSecond.set(m.pythFeedId, { t, k });
      writer.addPrice(accepted(m, t, t * 1_000 + k, walks.get(m.pythFeedId)!(), nowMs), true);
      offered += 1;
      lastPublish = t;
    }
  }, 10);
  const pushTimer = setInterval(() => {
    const t = vnow() / 1000;
    for (; nextPush <= t; nextPush += cfg.pushEverySec) {
      const batch = pushBatch(feeds.slice(0, cfg.pushFeeds), nextPush, Math.round(nextPush * 100), () => 10_000_000_000n);
      pushes += batch.length;
      void store.pushes.record(batch);
    }
  }, 250);
  const sampler = setInterval(() => {
    if (Date.now() - started >= WARMUP_SEC * 1000) backlog.push(writer.backlog);
  }, 1_000);
  process.on('message', async (m: { kind: string }) => {
    if (m.kind !== 'stop') return;
    clearInterval(tick);
    clearInterval(pushTimer);
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    const backlogAtStop = writer.backlog;
    const at = Date.now();
    await writer.close(60_000);
    const drainMs = Date.now() - at;
    const writeFailures = (await registry.getSingleMetric('qd_store_write_failures_total')?.get())?.values.reduce((n, v) => n + v.value, 0) ?? 0;
    const report: ChildReport = { kind: 'report', seconds, offered, stored, backlog, backlogAtStop, sealMs, drainMs, lastPublish, nextPush, pushes, writeFailures };
    send(report);
    await db.close();
    rmSync(journalDir, { recursive: true, force: true });
    process.exit(0);
  });
  process.on('disconnect', () => process.exit(1));
  send({ kind: 'ready' });
}

/** Starts the ingestion child; resolves once it writes. */
async function startIngestion(cfg: ChildConfig): Promise<{ child: ChildProcess; stop(): Promise<ChildReport> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--ingest-child', JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the ingestion process exited (${code})`))));
  exited.catch(() => undefined);
  const next = <T>(kind: string) => Promise.race([exited, new Promise<T>((resolve) => child.on('message', (m: { kind: string }) => m.kind === kind && resolve(m as T)))]);
  await next('ready');
  return {
    child,
    async stop() {
      const report = next<ChildReport>('report');
      child.send({ kind: 'stop' });
      const r = await report;
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      return r;
    },
  };
}

// ————— the reads —————

type ReadName = 'latest' | 'candles1h' | 'candles24h' | 'pushes';
const READS: { name: ReadName; label: string }[] = [
  { name: 'latest', label: 'latest prices (every feed)' },
  { name: 'candles1h', label: '1 h candles @ 60 s, one feed' },
  { name: 'candles24h', label: '24 h candles @ 300 s, one feed' },
  { name: 'pushes', label: 'push log, one market (20)' },
];
interface ReadStats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  /** Candles returned (or documents), last read: a check that the read saw the history. */
  size: number;
}

async function measureReads(store: MongoStore, markets: MarketIndex, vnow: () => number, reads: number, minMs: number): Promise<Record<ReadName, ReadStats>> {
  const feed = markets.all[0]!;
  const all = markets.all.map((m) => m.pythFeedId);
  const run: Record<ReadName, () => Promise<number>> = {
    latest: async () => (await store.latest.latest(all)).length,
    candles1h: async () => {
      const to = Math.floor(vnow() / 1000);
      return (await store.history.candles(feed.pythFeedId, to - 3_600, to, 60)).candles.length;
    },
    candles24h: async () => {
      const to = Math.floor(vnow() / 1000);
      return (await store.history.candles(feed.pythFeedId, to - DAY, to, 300)).candles.length;
    },
    pushes: async () => (await store.pushes.recent(feed.symbol, 20)).length,
  };
  const samples: Record<ReadName, number[]> = { latest: [], candles1h: [], candles24h: [], pushes: [] };
  const size: Record<ReadName, number> = { latest: 0, candles1h: 0, candles24h: 0, pushes: 0 };
  // A few reads first (connection pool, caches), not counted.
  for (const r of READS) await run[r.name]();
  const started = Date.now();
  while (READS.some((r) => samples[r.name].length < reads) || Date.now() - started < minMs) {
    for (const r of READS) {
      const at = performance.now();
      size[r.name] = await run[r.name]();
      samples[r.name].push(performance.now() - at);
    }
  }
  const out = {} as Record<ReadName, ReadStats>;
  for (const r of READS) {
    const s = samples[r.name].sort((a, b) => a - b);
    out[r.name] = { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? Number.NaN, size: size[r.name] };
  }
  return out;
}

/**
 * Kept up: offered the asked rate, stored every update, no write failed, and a bounded backlog: in
 * every minute of the measurement it came back under one second of updates. (It rises once a
 * minute — the writer seals a minute between its inserts, and those wait — and must come down
 * again; a backlog that only grows fails this.) How high it rose is reported beside.
 */
function keptUpWith(i: ChildReport, rate: number): boolean {
  const minutes: number[][] = [];
  for (let k = 0; k + 60 <= i.backlog.length; k += 60) minutes.push(i.backlog.slice(k, k + 60));
  if (i.backlog.length % 60 >= 30 || minutes.length === 0) minutes.push(i.backlog.slice(-Math.min(60, i.backlog.length)));
  return i.offered >= 0.98 * rate * i.seconds && i.stored === i.offered && i.writeFailures === 0 && minutes.every((m) => m.length > 0 && Math.min(...m) <= rate);
}

// ————— the machine —————

interface Usage {
  seconds: number;
  /** CPU seconds per second, by process (a process tree for PostgreSQL). */
  cpu: Record<string, number | undefined>;
  /** All CPUs busy, CPU seconds per second, of `cpus`. */
  machine: number;
  cpus: number;
  load: [number, number];
}

const TICKS = 100;
const readProc = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
/** utime + stime + cutime + cstime of a process, and its parent, from /proc. */
function stat(pid: number): { ticks: number; ppid: number } | undefined {
  const text = readProc(`/proc/${pid}/stat`);
  if (!text) return undefined;
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), ppid: Number(f[1]) };
}
/** CPU ticks of a process and its live descendants (those that ended are in its cutime/cstime). */
function treeTicks(root: number): number | undefined {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((d) => [Number(d), stat(Number(d))] as const);
  const children = new Map<number, number[]>();
  for (const [pid, s] of all) if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const ticks = new Map(all.map(([pid, s]) => [pid, s?.ticks ?? 0]));
  if (!ticks.has(root)) return undefined;
  let sum = 0;
  for (const stack = [root]; stack.length > 0; ) {
    const pid = stack.pop()!;
    sum += ticks.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}
function machineTicks(): { busy: number; cpus: number } {
  const lines = (readProc('/proc/stat') ?? '').split('\n');
  const f = (lines[0] ?? '').split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: f.slice(0, 8).reduce((a, b) => a + b, 0) - idle, cpus: lines.filter((l) => /^cpu\d/.test(l)).length };
}
const loadavg = () => Number((readProc('/proc/loadavg') ?? 'NaN').split(' ')[0]);

/** Measures CPU use from now until `stop()`: of these processes, of this one, and of the machine. */
function cpuMeter(pids: Record<string, number | undefined>) {
  const at = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid === undefined ? undefined : treeTicks(pid)]));
  const self = process.cpuUsage();
  const m0 = machineTicks();
  const load0 = loadavg();
  return {
    stop(): Usage {
      const seconds = (performance.now() - at) / 1000;
      const cpu: Record<string, number | undefined> = {};
      for (const [k, pid] of Object.entries(pids)) {
        const b = before[k];
        const a = pid === undefined ? undefined : treeTicks(pid);
        cpu[k] = a === undefined || b === undefined ? undefined : (a - b) / TICKS / seconds;
      }
      const used = process.cpuUsage(self);
      cpu.reader = (used.user + used.system) / 1e6 / seconds;
      const m1 = machineTicks();
      return { seconds, cpu, machine: (m1.busy - m0.busy) / TICKS / seconds, cpus: m1.cpus, load: [load0, loadavg()] };
    },
  };
}

// ————— sizes —————

/**
 * Documents and collections per family, and the space PostgreSQL holds for them. Counted in
 * PostgreSQL (FerretDB keeps a database as a schema of the same name, each collection as a table
 * its metadata names): `countDocuments` through FerretDB streams every document (minutes at 2 M).
 */
async function sizes(db: Connection, pgUrl: string | undefined, dbName: string): Promise<string[]> {
  const started = performance.now();
  const names = (await db.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  const counts = new Map<string, number>();
  const lines: string[] = [];
  let how = 'countDocuments';
  const client = pgUrl ? new pg.Client({ connectionString: pgUrl }) : undefined;
  try {
    if (client) {
      await client.connect();
      const schema = pg.escapeIdentifier(dbName);
      const meta = await client.query<{ name: string; tbl: string }>(`SELECT _jsonb->>'_id' AS name, _jsonb->>'table' AS tbl FROM ${schema}._ferretdb_database_metadata`);
      for (const { name, tbl } of meta.rows) {
        const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.${pg.escapeIdentifier(tbl)}`);
        counts.set(name, Number(r.rows[0]!.n));
      }
      how = 'count(*) in PostgreSQL';
      const total = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
      const mine = await client.query<{ size: string | null }>(
        `SELECT sum(pg_total_relation_size(c.oid))::text AS size FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
        [dbName],
      );
      lines.push(`  PostgreSQL: this database's tables and their indexes ${fmt(Number(mine.rows[0]?.size ?? 0) / 2 ** 20)} MB (FerretDB's whole database ${fmt(Number(total.rows[0]!.size) / 2 ** 20)} MB)`);
    }
  } catch (e) {
    lines.push(`  PostgreSQL not read (${(e as Error).message.slice(0, 120)}): counted through FerretDB`);
  } finally {
    await client?.end().catch(() => undefined);
  }
  const families = new Map<string, { collections: number; docs: number }>();
  for (const name of names) {
    const family = name.replace(/_\d{8}$/, '_<day>');
    const f = families.get(family) ?? { collections: 0, docs: 0 };
    f.collections += 1;
    f.docs += counts.get(name) ?? (await db.db!.collection(name).countDocuments({}));
    families.set(family, f);
  }
  return [
    ...[...families].map(([name, f]) => `  ${name.padEnd(28)} ${String(f.collections).padStart(3)} collection${f.collections === 1 ? ' ' : 's'} ${fmt(f.docs).padStart(11)} documents`),
    ...lines,
    `  (counted with ${counts.size > 0 ? how : 'countDocuments'} in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  ];
}

// ————— the bench —————

interface Phase {
  label: string;
  reads: Record<ReadName, ReadStats>;
  ingest: ChildReport;
  keptUp: boolean;
  usage: Usage;
  sizes: string[];
}

export async function runStoreBench(services?: Pick<Supervisor, 'pid'>): Promise<void> {
  const scale = numberArg('scale', 1);
  const readsPerKind = numberArg('reads', 300);
  const rate = numberArg('rate', 1_000);
  const liveFeeds = Math.max(PRELOAD_FEEDS, numberArg('live-feeds', 400));
  const measureSec = numberArg('measure-seconds', scale >= 1 ? 90 : 30);
  if (!(scale > 0 && scale <= 1)) throw new Error('--scale is in (0, 1]');

  const day = Math.max(600, Math.round((DAY * scale) / 600) * 600);
  const first = Math.round(day / 10 / 60) * 60;
  const totalPushes = Math.round((FULL_PUSHES * scale) / PRELOAD_FEEDS) * PRELOAD_FEEDS;
  const pushEverySec = day / (totalPushes / PRELOAD_FEEDS);
  const markets = benchMarkets(liveFeeds);
  const feeds = markets.all.slice(0, PRELOAD_FEEDS);
  const dbName = `qd-bench-store-${Date.now().toString(36)}`;
  const u = new URL(TEST_ENV.QD_MONGODB_URI);
  u.pathname = `/${dbName}`;
  const uri = u.toString();

  // The virtual clock: fixed while preloading (push records take their time from it), else real + offset.
  let fixed: number | undefined;
  let offsetMs = 0;
  const vnow = () => fixed ?? Date.now() + offsetMs;
  const setClock = (t: number | undefined) => (fixed = t);
  const startSec = Math.floor(Date.now() / 1000);
  const expectedLive = measureSec + 60;
  const t0 = Math.floor((startSec - day - expectedLive) / 3_600) * 3_600;

  process.stdout.write(
    `store bench: preload ${fmt(PRELOAD_FEEDS * day)} updates (${PRELOAD_FEEDS} feeds × ${fmt(day)} s at 1/s) and ${fmt(totalPushes)} push records` +
      `${scale < 1 ? ` (scale ${scale})` : ''}; ingestion ${fmt(rate)} updates/s over ${liveFeeds} feeds during each measurement; ${readsPerKind} reads of each kind\n`,
  );
  const db = await openStore(uri);
  const store = createMongoStore(db, markets, vnow);
  const phases: Phase[] = [];
  const preloads: PreloadStats[] = [];
  let child: ChildProcess | undefined;
  try {
    setClock(t0 * 1000);
    await store.ensureIndexes();
    setClock(undefined);
    const walks = new Map(feeds.map((m, i) => [m.pythFeedId, walker(i + 1)] as const));
    const last = new Map<string, bigint>();
    let written = 0;
    let pushed = 0;
    let lastLog = Date.now();
    const progress = (base: number) => (done: number) => {
      if (Date.now() - lastLog < 30_000) return;
      lastLog = Date.now();
      process.stdout.write(`  … preloaded ${fmt(base + done)} of ${fmt(PRELOAD_FEEDS * day)} updates\n`);
    };

    const segments = [
      { label: '10 %', seconds: first },
      { label: '100 %', seconds: day - first },
    ];
    let virtualFrom = t0;
    let nextPush = t0 + pushEverySec / 2;
    for (const seg of segments) {
      const p = await preload(store, feeds, walks, last, virtualFrom, seg.seconds, pushEverySec, nextPush, totalPushes - pushed, setClock, progress(written));
      pushed += p.pushes;
      written += p.updates;
      nextPush = p.nextPush;
      preloads.push(p);
      const frontier = virtualFrom + seg.seconds;
      process.stdout.write(`  preloaded ${fmt(written)} updates up to ${seg.label} in ${(p.ms / 1000).toFixed(1)} s (${fmt(p.updates / (p.ms / 1000))} updates/s; append ${(p.appendMs / 1000).toFixed(1)} s, seal ${(p.sealMs / 1000).toFixed(1)} s), ${fmt(p.pushes)} push records\n`);

      // Measure with "now" at the frontier of the stored history, ingestion running.
      offsetMs = frontier * 1000 - Date.now();
      const ingestion = await startIngestion({ uri, liveFeeds, rate, offsetMs, pushEverySec, nextPush, pushFeeds: PRELOAD_FEEDS });
      child = ingestion.child;
      await new Promise((r) => setTimeout(r, WARMUP_SEC * 1000));
      const cpu = cpuMeter({ postgres: services?.pid('postgres'), ferretdb: services?.pid('ferretdb'), ingestion: child.pid });
      const reads = await measureReads(store, markets, vnow, readsPerKind, Math.max(0, measureSec - WARMUP_SEC) * 1000);
      const usage = cpu.stop();
      const ingest = await ingestion.stop();
      child = undefined;
      nextPush = ingest.nextPush;
      const keptUp = keptUpWith(ingest, rate);
      phases.push({ label: seg.label, reads, ingest, keptUp, usage, sizes: await sizes(db, TEST_ENV.QD_TEST_POSTGRES_URL, dbName) });
      // The preload resumes after what the live ingestion wrote.
      virtualFrom = minuteOf(Math.max(ingest.lastPublish, Math.floor(vnow() / 1000))) + 60;
      // Its push records go on from there too (the live ones in between are extra, counted apart).
      nextPush = Math.max(nextPush, virtualFrom);
    }
  } finally {
    child?.kill();
    if (!process.argv.includes('--keep')) await db.dropDatabase().catch(() => undefined);
    await db.close();
  }

  // ————— report —————
  const total = preloads.reduce((a, p) => ({ updates: a.updates + p.updates, pushes: a.pushes + p.pushes, ms: a.ms + p.ms, appendMs: a.appendMs + p.appendMs, sealMs: a.sealMs + p.sealMs }), { updates: 0, pushes: 0, ms: 0, appendMs: 0, sealMs: 0 });
  const out: string[] = [''];
  out.push(
    `preload: ${fmt(total.updates)} updates and ${fmt(total.pushes)} push records in ${(total.ms / 1000).toFixed(1)} s — ${fmt(total.updates / (total.ms / 1000))} updates/s ` +
      `(append + served prices ${(total.appendMs / 1000).toFixed(1)} s, sealing ${fmt(total.updates / PRELOAD_FEEDS / 60)} minutes × ${PRELOAD_FEEDS} feeds ${(total.sealMs / 1000).toFixed(1)} s)`,
  );
  out.push('');
  const [a, b] = phases as [Phase, Phase];
  out.push(`${'read (ms)'.padEnd(32)} | ${'10 %: p50'.padStart(9)} ${'p99'.padStart(6)} ${'max'.padStart(6)} ${'n'.padStart(5)} | ${'100 %: p50'.padStart(10)} ${'p99'.padStart(6)} ${'max'.padStart(6)} ${'n'.padStart(5)} | p99 ratio | returned (10 % / 100 %)`);
  out.push('-'.repeat(128));
  for (const r of READS) {
    const x = a.reads[r.name];
    const y = b.reads[r.name];
    out.push(
      `${r.label.padEnd(32)} | ${ms(x.p50).padStart(9)} ${ms(x.p99).padStart(6)} ${ms(x.max).padStart(6)} ${String(x.n).padStart(5)} | ${ms(y.p50).padStart(10)} ${ms(y.p99).padStart(6)} ${ms(y.max).padStart(6)} ${String(y.n).padStart(5)} | ${(y.p99 / x.p99).toFixed(2).padStart(8)}× | ${x.size} / ${y.size}`,
    );
  }
  out.push('');
  for (const p of phases) {
    const i = p.ingest;
    const sorted = [...i.backlog].sort((x, y) => x - y);
    const seals = [...i.sealMs].sort((x, y) => x - y);
    out.push(
      `ingestion during ${p.label}: asked ${fmt(rate)}/s for ${i.seconds.toFixed(0)} s, offered ${fmt(i.offered)} (${fmt(i.offered / i.seconds)}/s), stored ${fmt(i.stored)}; ` +
        `backlog (sampled each second) p50 ${fmt(percentile(sorted, 50))}, max ${fmt(sorted.at(-1) ?? 0)} (${((sorted.at(-1) ?? 0) / rate).toFixed(1)} s of updates), at stop ${fmt(i.backlogAtStop)}; ` +
        `minute seals (${liveFeeds} feeds each) ${i.sealMs.length}, p50 ${fmt(percentile(seals, 50))} ms, max ${fmt(seals.at(-1) ?? Number.NaN)} ms; drained at stop in ${fmt(i.drainMs)} ms; ` +
        `write failures ${i.writeFailures}; ${i.pushes} push records — ${p.keptUp ? 'kept up' : 'did NOT keep up'}`,
    );
  }
  out.push('');
  for (const p of phases) {
    const u = p.usage;
    const part = (k: string) => (u.cpu[k] === undefined ? `${k} n/a` : `${k} ${u.cpu[k]!.toFixed(2)}`);
    out.push(
      `CPU during ${p.label} (${u.seconds.toFixed(0)} s, CPU-seconds per second): ${['postgres', 'ferretdb', 'ingestion', 'reader'].map(part).join(', ')}; ` +
        `the whole machine ${u.machine.toFixed(2)} of ${u.cpus} CPUs; load average ${u.load[0].toFixed(1)} → ${u.load[1].toFixed(1)}`,
    );
  }
  for (const p of phases) out.push('', `sizes at ${p.label} (after its measurement):`, ...p.sizes);
  out.push('', 'goals:');
  const goal = (ok: boolean, text: string) => out.push(`  ${ok ? 'met    ' : 'NOT met'}  ${text}`);
  goal(b.reads.candles24h.p99 <= 200, `24 h candles p99 ≤ 200 ms at 100 %: ${ms(b.reads.candles24h.p99)} ms (at 10 %: ${ms(a.reads.candles24h.p99)} ms)`);
  recordGoal({ bench: 'store', figure: '24 h candles p99, full history', value: b.reads.candles24h.p99, unit: 'ms', goal: '≤ 200 ms', met: b.reads.candles24h.p99 <= 200 });
  for (const r of READS) {
    recordGoal({ bench: 'store', figure: `${r.label} p99, full history`, value: b.reads[r.name].p99, unit: 'ms', baseline: { label: 'at 10 % of it', value: a.reads[r.name].p99 }, goal: '≤ 1.5× at 10 %', met: b.reads[r.name].p99 <= 1.5 * a.reads[r.name].p99 });
  }
  for (const r of READS) goal(b.reads[r.name].p99 <= 1.5 * a.reads[r.name].p99, `${r.label}: p99 at 100 % ≤ 1.5 × p99 at 10 %: ${ms(b.reads[r.name].p99)} vs ${ms(a.reads[r.name].p99)} ms (${(b.reads[r.name].p99 / a.reads[r.name].p99).toFixed(2)}×)`);
  const peak = Math.max(...phases.flatMap((p) => p.ingest.backlog));
  recordGoal({ bench: 'store', figure: 'ingestion while reading', value: rate, unit: 'updates/s', goal: 'sustained in both phases', met: phases.every((p) => p.keptUp) });
  goal(
    phases.every((p) => p.keptUp),
    `ingestion of ${fmt(rate)} updates/s sustained during both measurements (every update stored, the backlog back under 1 s of updates every minute; its peak ${fmt(peak)} = ${(peak / rate).toFixed(1)} s of updates)`,
  );
  const meanLoad = (p: Phase) => (p.usage.load[0] + p.usage.load[1]) / 2;
  const [la, lb] = [meanLoad(a), meanLoad(b)];
  if (Math.max(la, lb) > 1.5 * Math.min(la, lb) && Math.max(la, lb) > b.usage.cpus) {
    out.push(
      '',
      `note: the machine's load average was ${la.toFixed(1)} during 10 % and ${lb.toFixed(1)} during 100 % (${b.usage.cpus} CPUs): the phases ran under different contention ` +
        `from other processes, so the p99 ratios measure that as much as the data size (the latest-prices read, whose size does not grow, shows how much).`,
    );
  }
  if (scale < 1) out.push('', `(scaled run: ${scale} of the day — the goals are for the full size)`);
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[2] === '--ingest-child') await ingestChild(JSON.parse(process.argv[3]!) as ChildConfig);
