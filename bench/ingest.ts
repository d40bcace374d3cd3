// `npm run bench -- ingest`: the price ingestion path, measured.
//  1. Latency from the simulator's publish to a Socket.IO client's receipt, p50/p99, at 200 and
//     2,000 feeds × 2.5 updates/s, through the real path (Hermes SSE → ingest worker on Temporal →
//     validation → Redis price bus → gateway → client) and, in the same run, through a bare relay
//     (SSE → Socket.IO, no validation, no bus, no storage) as the baseline. RSS of the gateway, the
//     worker and the relay.
//  2. The highest sustained rate of validated, stored updates: the ingest pipeline (validation, an
//     in-memory price bus that counts what it is given, the real PriceWriter with its journal) fed
//     N feeds × 1 update/s, with batched writes to FerretDB, until everything is written.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection as MongoConnection } from 'mongoose';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { io } from 'socket.io-client';
import { ingestMetrics } from '../activities/ingest/metrics.ts';
import { IngestPipeline } from '../activities/ingest/pipeline.ts';
import { PriceBook } from '../activities/ingest/price-book.ts';
import { PriceWriter } from '../activities/ingest/price-writer.ts';
import { createMemoryBus } from '../bus/memory.ts';
import { busNames, type PriceBatch } from '../contracts/bus.ts';
import type { PriceMessage } from '../contracts/socket.ts';
import { ingestWorkflowId } from '../contracts/temporal.ts';
import { indexMarkets } from '../domain/markets.ts';
import { createLogger } from '../runtime/logger.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore } from '../store/mongo/store.ts';
import { connectClient } from '../temporal/connection.ts';
import { createTestNamespace, startProcess, testConfig, testDatabaseUri, uniqueName, waitForHttp, type ChildHandle } from '../tests/support.ts';
import { freePort, percentile, registryOf, rssMb } from './support.ts';
import { goal as recordGoal } from './goals.ts';

let MEASURE_MS = 20_000;
const WARMUP_MS = 5_000;
const LATENCY_FEEDS = [200, 2_000];
/** The feed count the latency goals are set at. */
const GOAL_FEEDS = 2_000;
/** The gateway takes at most 50 symbols per `subscribe` (server/app.ts). */
const SUBSCRIBE_CHUNK = 50;
const UPDATES_PER_SECOND = 2.5;

interface LatencyStats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  perSecond: number;
  /** The machine's 1-minute load average when the window opened and when it closed (other work shares it). */
  load: [number, number];
  /** Full path only: prices the gateway conflated away for this client (per-symbol seq jumps). */
  skipped?: number;
  /**
   * Full path only, p50/p99 from the simulator's publish: to the worker's receipt, to the worker
   * sending the batch on the bus, to a bus subscriber's receipt; and worker receipt → client.
   */
  split?: { toWorker: [number, number]; toClient: [number, number]; toSent?: [number, number]; toBus?: [number, number] };
}

type Received = Pick<PriceMessage, 'feedId' | 'publishTime' | 'price'> & Partial<Pick<PriceMessage, 'symbol' | 'seq' | 'receivedAt'>>;

/** A Prometheus counter on a /metrics page, summed per values of some labels. */
async function counterBy(url: string, name: string, ...labels: string[]): Promise<Map<string, number>> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(30_000) })).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const key = labels.map((l) => new RegExp(`${l}="([^"]*)"`).exec(line)?.[1] ?? '').join(' ');
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

const diff = (after: Map<string, number>, before: Map<string, number>) =>
  [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0);

/** Subscribes to every symbol (in chunks) and records publish → receipt latency for MEASURE_MS after a warm-up. */
async function measure(url: string, symbols: string[], sim: MarketSim, window?: { start(): Promise<void>; end(): Promise<void> }): Promise<LatencyStats> {
  const client = io(url, { transports: ['websocket'] });
  const latencies: number[] = [];
  const toWorker: number[] = [];
  const toClient: number[] = [];
  const lastSeq = new Map<string, number>();
  let measuring = false;
  let unknown = 0;
  let skipped = 0;
  let received = 0;
  const load: [number, number] = [Number.NaN, Number.NaN];
  const onPrice = (p: Received, now: number) => {
    received += 1;
    if (p.symbol !== undefined && p.seq !== undefined) {
      const last = lastSeq.get(p.symbol);
      if (measuring && last !== undefined && p.seq > last + 1) skipped += p.seq - last - 1;
      lastSeq.set(p.symbol, p.seq);
    }
    if (!measuring) return;
    const at = sim.publishedAt(p.feedId, p.publishTime, p.price);
    if (at === undefined) {
      unknown += 1;
      return;
    }
    latencies.push(now - at);
    if (p.receivedAt !== undefined) {
      toWorker.push(p.receivedAt - at);
      toClient.push(now - p.receivedAt);
    }
  };
  client.on('prices', (batch: Received[]) => {
    const now = Date.now();
    for (const p of batch) onPrice(p, now);
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('connect_error', (e) => reject(e));
  });
  try {
    for (let i = 0; i < symbols.length; i += SUBSCRIBE_CHUNK) {
      const ack = (await client.timeout(10_000).emitWithAck('subscribe', symbols.slice(i, i + SUBSCRIBE_CHUNK))) as { ok: boolean; error?: string };
      if (!ack.ok) throw new Error(`subscribe failed: ${ack.error}`);
    }
    // The warm-up starts once prices flow (a worker still starting is not part of the measurement).
    const deadline = Date.now() + 120_000;
    while (received === 0) {
      if (Date.now() > deadline) throw new Error(`no price from ${url} within 120 s`);
      await sleep(100);
    }
    // The counters are read a second before the window opens: that read costs the processes some time.
    await sleep(WARMUP_MS - 1_000);
    await window?.start();
    await sleep(1_000);
    load[0] = loadavg()[0]!;
    measuring = true;
    await sleep(MEASURE_MS);
    measuring = false;
    load[1] = loadavg()[0]!;
    await window?.end();
  } finally {
    client.close();
  }
  if (latencies.length === 0) throw new Error(`no price received from ${url} in ${MEASURE_MS} ms`);
  if (unknown > 0) throw new Error(`${unknown} received prices were never published by the simulator`);
  for (const a of [latencies, toWorker, toClient]) a.sort((x, y) => x - y);
  const pair = (a: number[]): [number, number] => [percentile(a, 50), percentile(a, 99)];
  return {
    n: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    perSecond: Math.round(latencies.length / (MEASURE_MS / 1000)),
    load,
    ...(lastSeq.size > 0 && { skipped }),
    ...(toWorker.length > 0 && { split: { toWorker: pair(toWorker), toClient: pair(toClient) } }),
  };
}

async function latencyRun(feeds: number) {
  const registry = registryOf(feeds);
  const dir = mkdtempSync(join(tmpdir(), 'qd-bench-ingest-'));
  const marketsFile = join(dir, 'markets.json');
  writeFileSync(marketsFile, JSON.stringify(registry));
  const sim = createMarketSim({ port: 0, seed: 7, registry, updatesPerSecond: UPDATES_PER_SECOND, logLevel: 'warn' });
  await sim.start();
  const symbols = registry.markets.map((m) => m.symbol);
  const namespace = uniqueName('bench-ingest');
  const temporalConfig = await createTestNamespace(namespace);
  const dbName = uniqueName('bench-ingest');
  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const env = {
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: testDatabaseUri(dbName),
    QD_REDIS_URL: testConfig.redisUrl,
    // A bus of this run's own on the shared test Redis.
    QD_BUS_PREFIX: uniqueName('qd-bench-ingest'),
    QD_MARKETS_FILE: marketsFile,
    QD_DATA_DIR: join(dir, 'data'),
    QD_GATEWAY_PORT: String(gatewayPort),
    QD_GATEWAY_URL: gatewayUrl,
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    // The gateway reads the chain only for dashboard routes, which this benchmark does not call.
    QD_SOLANA_RPC_URL: 'http://127.0.0.1:9',
    QD_LOG_LEVEL: 'warn',
  };
  const children: ChildHandle[] = [];
  let tap: Redis | undefined;
  try {
    const gateway = startProcess('server/main.ts', env);
    children.push(gateway);
    await waitForHttp(`${gatewayUrl}/api/live`, gateway);
    const workerMetrics = `http://127.0.0.1:${await freePort()}/metrics`;
    const worker = startProcess('workers/ingest/main.ts', { ...env, QD_METRICS_PORT: new URL(workerMetrics).port });
    children.push(worker);
    // What the worker and the gateway did with the prices during the measured window.
    const snapshot = () =>
      Promise.all([
        counterBy(workerMetrics, 'qd_price_updates_total', 'outcome', 'source'),
        counterBy(workerMetrics, 'qd_price_rejections_total', 'reason'),
        counterBy(`${gatewayUrl}/metrics`, 'qd_gateway_prices_total', 'origin'),
      ]);
    // A tap on the bus (plain JSON.parse, no schema, to cost the benchmark's process little): when the
    // worker sent each batch (its `at`) and when a subscriber had it, against the simulator's publish.
    tap = new Redis(testConfig.redisUrl, { lazyConnect: true });
    await tap.connect();
    await tap.subscribe(busNames(env.QD_BUS_PREFIX).prices);
    let tapping = false;
    const toSent: number[] = [];
    const toBus: number[] = [];
    tap.on('message', (_channel: string, message: string) => {
      if (!tapping) return;
      const now = Date.now();
      const batch = JSON.parse(message) as PriceBatch;
      for (const p of batch.prices) {
        const at = sim.publishedAt(p.feedId, p.publishTime, p.price);
        if (at === undefined) continue;
        toSent.push(batch.at - at);
        toBus.push(now - at);
      }
    });
    let before: Awaited<ReturnType<typeof snapshot>> | undefined;
    let counts: { updates: (readonly [string, number])[]; rejections: (readonly [string, number])[]; gateway: (readonly [string, number])[] } | undefined;
    const window = {
      start: async () => {
        before = await snapshot().catch(() => undefined);
        tapping = true;
      },
      end: async () => {
        tapping = false;
        const after = await snapshot().catch(() => undefined);
        if (before && after) counts = { updates: diff(after[0], before[0]), rejections: diff(after[1], before[1]), gateway: diff(after[2], before[2]) };
      },
    };
    let full: LatencyStats;
    try {
      full = await measure(gatewayUrl, symbols, sim, window);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- ingest worker ---\n${worker.output().slice(-3_000)}\n--- gateway ---\n${gateway.output().slice(-3_000)}`);
    }
    tap.disconnect();
    tap = undefined;
    for (const a of [toSent, toBus]) a.sort((x, y) => x - y);
    full.split = { ...full.split!, toSent: [percentile(toSent, 50), percentile(toSent, 99)], toBus: [percentile(toBus, 50), percentile(toBus, 99)] };
    const rss = { gateway: rssMb(gateway.child.pid), worker: rssMb(worker.child.pid) };
    const temporal = await connectClient(temporalConfig);
    await temporal.workflow.getHandle(ingestWorkflowId('bench')).terminate('benchmark over').catch(() => undefined);
    await temporal.connection.close();
    await worker.kill();
    await gateway.kill();

    const relayPort = await freePort();
    const bare = startProcess('bench/bare-relay.ts', {}, [sim.url, String(relayPort), registry.markets.map((m) => m.pythFeedId).join(',')]);
    children.push(bare);
    await waitOutput(bare, 'ready');
    const baseline = await measure(`http://127.0.0.1:${relayPort}`, symbols, sim);
    const relayRss = rssMb(bare.child.pid);
    return { feeds, full, baseline, counts, rss: { ...rss, relay: relayRss } };
  } finally {
    tap?.disconnect();
    for (const c of children) await c.kill();
    await sim.stop();
    const db = await openStore(testDatabaseUri(dbName)).catch(() => undefined);
    await db?.dropDatabase().catch(() => undefined);
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitOutput(child: ChildHandle, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!child.output().includes(text)) {
    if (Date.now() > deadline || child.child.exitCode !== null) throw new Error(`no "${text}":\n${child.output()}`);
    await sleep(100);
  }
}

/** Documents in every day partition of the update history (`oracle_price_ticks_<day>`). */
async function storedUpdates(db: MongoConnection): Promise<number> {
  const collections = await db.db!.listCollections({}, { nameOnly: true }).toArray();
  let n = 0;
  for (const c of collections) if (c.name.startsWith('oracle_price_ticks_')) n += await db.db!.collection(c.name).countDocuments({});
  return n;
}

/**
 * Sustained ingestion: `feeds` feeds each publishing once a second (wall-clock publish times, as
 * validation requires), through validation, the bus and the batched writer into FerretDB, for
 * `seconds`. Sustained means the store keeps up: the backlog stays bounded and drains within a
 * flush or two.
 */
async function throughputRun(feeds: number, seconds: number) {
  const registry = registryOf(feeds);
  const markets = indexMarkets(registry);
  const dir = mkdtempSync(join(tmpdir(), 'qd-bench-tp-'));
  const db = await openStore(testDatabaseUri(uniqueName('bench-tp')));
  const store = createMongoStore(db, markets);
  await store.ensureIndexes();
  const log = createLogger('bench', 'warn');
  const metrics = ingestMetrics(new Registry());
  const bus = createMemoryBus();
  let published = 0;
  bus.subscriber().onPrices((b) => void (published += b.prices.length));
  const writer = new PriceWriter(store, markets, log, metrics, { journalDir: join(dir, 'journal') });
  const pipeline = new IngestPipeline({ markets, book: new PriceBook(), writer, bus: bus.publisher, metrics, log, serving: () => 'pyth', now: Date.now });
  let validated = 0;
  let maxBacklog = 0;
  let validateMs = 0;
  try {
    const start = Math.ceil(Date.now() / 1000);
    for (let r = 0; r < seconds; r++) {
      const publishTime = start + r;
      await sleep(Math.max(0, publishTime * 1000 - Date.now()));
      const observations = registry.markets.map((m, i) => ({
        source: 'pyth' as const,
        feedId: m.pythFeedId,
        price: String(15_000_000_000 + ((r * 7 + i) % 100) * 1_000_000),
        conf: '3000000',
        expo: -8,
        publishTime,
      }));
      const t = performance.now();
      validated += pipeline.handle('pyth', { ok: true, observations }, '', 'primary').accepted.length;
      validateMs += performance.now() - t;
      // The memory bus keeps every batch for unit tests; the count is all this needs.
      bus.published.length = 0;
      maxBacklog = Math.max(maxBacklog, writer.backlog);
    }
    // Drained: everything accepted is in the database (the backlog counts memory, in flight and journal).
    const drainStart = performance.now();
    while (writer.backlog > 0 && performance.now() - drainStart < 120_000) await sleep(10);
    const drainMs = performance.now() - drainStart;
    // A clean stop also seals the minutes not yet due (their candles): timed apart.
    const closeStart = performance.now();
    await writer.close(120_000);
    const closeMs = performance.now() - closeStart;
    const stored = await storedUpdates(db);
    const total = feeds * seconds;
    if (validated !== total || stored !== total || published !== total) throw new Error(`${feeds} feeds: validated ${validated}, stored ${stored}, published ${published} of ${total}`);
    return { feeds, offeredPerSecond: feeds, validatedPerSecondCpu: Math.round(total / (validateMs / 1000)), maxBacklog, drainMs: Math.round(drainMs), closeMs: Math.round(closeMs), load: loadavg()[0]!, sustained: maxBacklog <= 2 * feeds && drainMs < 5_000 };
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runIngestBench(measureSeconds = 20, part: 'latency' | 'throughput' | 'all' = 'all'): Promise<void> {
  MEASURE_MS = measureSeconds * 1000;
  if (part !== 'throughput') await latencyBench();
  if (part !== 'latency') await throughputBench(measureSeconds);
}

async function latencyBench(): Promise<void> {
  const results = [];
  // `--feeds 200,2000` measures other feed counts (while developing); the goals are at 2,000.
  const f = process.argv.indexOf('--feeds');
  const feedCounts = f > 0 ? process.argv[f + 1]!.split(',').map(Number) : LATENCY_FEEDS;
  for (const feeds of feedCounts) {
    process.stdout.write(`latency: ${feeds} feeds × ${UPDATES_PER_SECOND} updates/s, ${MEASURE_MS / 1000} s measured after ${WARMUP_MS / 1000} s warm-up, full path then bare relay...\n`);
    results.push(await latencyRun(feeds));
  }
  process.stdout.write(`\nlatency, simulator publish → Socket.IO client (ms); ${availableParallelism()} CPUs\n`);
  process.stdout.write('feeds  path         offered/s  received/s     p50     p99     max   load (1 min)   RSS MB\n');
  for (const r of results) {
    const row = (name: string, s: LatencyStats, rss: string) =>
      `${String(r.feeds).padStart(5)}  ${name.padEnd(11)}  ${String(r.feeds * UPDATES_PER_SECOND).padStart(9)}  ${String(s.perSecond).padStart(10)}  ${String(s.p50).padStart(6)}  ${String(s.p99).padStart(6)}  ${String(s.max).padStart(6)}   ${s.load.map((l) => l.toFixed(1)).join(' → ').padEnd(12)}   ${rss}\n`;
    process.stdout.write(row('full', r.full, `gateway ${r.rss.gateway}, worker ${r.rss.worker}`));
    process.stdout.write(row('bare relay', r.baseline, `relay ${r.rss.relay}`));
  }
  for (const r of results) {
    const sp = r.full.split;
    if (sp)
      process.stdout.write(
        `${String(r.feeds).padStart(5)}  full path, from the simulator's publish, p50/p99 ms: worker received ${sp.toWorker.join('/')}, worker sent on the bus ${sp.toSent?.join('/')}, ` +
          `a bus subscriber (in this process) received ${sp.toBus?.join('/')}, client received ${r.full.p50}/${r.full.p99}; worker receipt → client ${sp.toClient.join('/')}; prices conflated away by the gateway ${r.full.skipped ?? 0}\n`,
      );
    const c = r.counts;
    const fmt = (l: (readonly [string, number])[] | undefined) => (l && l.length > 0 ? l.map(([k, v]) => `${k} ${v}`).join(', ') : 'none');
    process.stdout.write(`${' '.repeat(7)}measured window (+1 s before): ${c ? `worker updates ${fmt(c.updates)}; rejections ${fmt(c.rejections)}; gateway prices by origin ${fmt(c.gateway)}` : 'counters not readable'}\n`);
  }
  const at = results.find((r) => r.feeds === GOAL_FEEDS);
  const goal = GOAL_FEEDS.toLocaleString('en-US');
  if (!at) {
    process.stdout.write(`\ngoals (at ${goal} feeds): not measured in this run\n`);
    return;
  }
  process.stdout.write(`\ngoal p99 ≤ 50 ms at ${goal} feeds: ${at.full.p99 <= 50 ? 'met' : 'NOT met'} (${at.full.p99} ms)\n`);
  process.stdout.write(`goal p99 ≤ 2× bare relay at ${goal} feeds: ${at.full.p99 <= 2 * at.baseline.p99 ? 'met' : 'NOT met'} (${at.full.p99} vs ${at.baseline.p99} ms)\n`);
  const figure = `publish → browser p99, ${goal} feeds`;
  recordGoal({ bench: 'ingest', figure, value: at.full.p99, unit: 'ms', baseline: { label: 'bare relay p99', value: at.baseline.p99 }, goal: '≤ 50 ms', met: at.full.p99 <= 50 });
  recordGoal({ bench: 'ingest', figure, value: at.full.p99, unit: 'ms', baseline: { label: 'bare relay p99', value: at.baseline.p99 }, goal: '≤ 2× the relay', met: at.full.p99 <= 2 * at.baseline.p99 });
}

async function throughputBench(seconds: number): Promise<void> {
  process.stdout.write(`\nsustained ingestion: N feeds × 1 update/s through validation, the bus and batched FerretDB writes, ${seconds} s each\n`);
  process.stdout.write('updates/s offered   validation CPU (updates/s)   max backlog   final drain ms   sustained   close ms (seals open minutes)   load (1 min)\n');
  let best = 0;
  for (const feeds of [1_000, 2_500, 5_000, 7_500]) {
    const r = await throughputRun(feeds, seconds);
    process.stdout.write(`${String(r.offeredPerSecond).padStart(17)}   ${String(r.validatedPerSecondCpu).padStart(26)}   ${String(r.maxBacklog).padStart(11)}   ${String(r.drainMs).padStart(14)}   ${(r.sustained ? 'yes' : 'no').padEnd(9)}   ${String(r.closeMs).padStart(24)}   ${r.load.toFixed(1)}\n`);
    if (!r.sustained) break;
    best = feeds;
  }
  process.stdout.write(`highest sustained rate of validated, stored updates: ${best}/s\n`);
  process.stdout.write(`goal ≥ 5,000 stored updates/s: ${best >= 5_000 ? 'met' : 'NOT met'}\n`);
  recordGoal({ bench: 'ingest', figure: 'sustained validated, stored updates', value: best, unit: '/s', goal: '≥ 5,000/s', met: best >= 5_000 });
}
