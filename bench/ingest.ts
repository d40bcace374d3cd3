// `npm run bench -- ingest`: the price ingestion path, measured.
//  1. Latency from the simulator's publish to a Socket.IO client's receipt, p50/p99, at 20 and 200
//     feeds × 2.5 updates/s, through the real path (Hermes SSE → ingest worker on Temporal →
//     validation → gateway → client) and, in the same run, through a bare relay (SSE → Socket.IO,
//     no validation, no storage) as the baseline. RSS of the gateway and the worker.
//  2. The highest sustained rate of validated, stored updates: the ingest pipeline fed as fast as it
//     takes, with batched writes to FerretDB, until everything is written.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';
import { Registry } from 'prom-client';
import { ingestMetrics } from '../activities/ingest/metrics.ts';
import { IngestPipeline } from '../activities/ingest/pipeline.ts';
import { PriceBook } from '../activities/ingest/price-book.ts';
import { DEFAULT_WRITER_OPTIONS, PriceWriter } from '../activities/ingest/price-writer.ts';
import { openStore } from '../activities/store/connection.ts';
import { createPriceStore, priceModels } from '../activities/store/prices.ts';
import { indexMarkets } from '../domain/markets.ts';
import { createLogger } from '../runtime/logger.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import type { PriceMessage } from '../server/events.ts';
import { connectClient } from '../temporal/connection.ts';
import { ensureNamespace, registerSearchAttributes } from '../temporal/admin.ts';
import { startProcess, type ChildHandle } from '../tests/support.ts';
import { TEST_ENV } from '../scripts/test-services.ts';
import { freePort, percentile, registryOf, rssMb } from './support.ts';

const TOKEN = 'bench-internal-token-0123456789';
let MEASURE_MS = 20_000;
const WARMUP_MS = 5_000;

interface LatencyStats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  perSecond: number;
  /** Full path only: simulator → worker receipt, and worker receipt → client, p50/p99. */
  split?: { toWorker: [number, number]; toClient: [number, number] };
}

/** Subscribes to every symbol and records publish → receipt latency for MEASURE_MS after a warm-up. */
async function measure(url: string, symbols: string[], sim: MarketSim): Promise<LatencyStats> {
  const client = io(url, { transports: ['websocket'] });
  const latencies: number[] = [];
  const toWorker: number[] = [];
  const toClient: number[] = [];
  let measuring = false;
  let unknown = 0;
  const onPrice = (p: Pick<PriceMessage, 'feedId' | 'publishTime' | 'price'> & { receivedAt?: number }, now: number) => {
    if (!measuring) return;
    const at = sim.publishedAt(p.feedId, p.publishTime, p.price);
    if (at === undefined) unknown += 1;
    else latencies.push(now - at);
    if (at !== undefined && p.receivedAt !== undefined) {
      toWorker.push(p.receivedAt - at);
      toClient.push(now - p.receivedAt);
    }
  };
  client.on('prices', (batch: Parameters<typeof onPrice>[0][]) => {
    const now = Date.now();
    for (const p of batch) onPrice(p, now);
  });
  await new Promise<void>((r) => client.once('connect', () => r()));
  for (let i = 0; i < symbols.length; i += 50) {
    const ack = (await client.timeout(10_000).emitWithAck('subscribe', symbols.slice(i, i + 50))) as { ok: boolean; error?: string };
    if (!ack.ok) throw new Error(`subscribe failed: ${ack.error}`);
  }
  await sleep(WARMUP_MS);
  measuring = true;
  await sleep(MEASURE_MS);
  measuring = false;
  client.close();
  if (unknown > 0) throw new Error(`${unknown} received prices were never published by the simulator`);
  for (const a of [latencies, toWorker, toClient]) a.sort((x, y) => x - y);
  const pair = (a: number[]): [number, number] => [percentile(a, 50), percentile(a, 99)];
  return {
    n: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    perSecond: Math.round(latencies.length / (MEASURE_MS / 1000)),
    ...(toWorker.length > 0 && { split: { toWorker: pair(toWorker), toClient: pair(toClient) } }),
  };
}

async function latencyRun(feeds: number) {
  const registry = registryOf(feeds);
  const dir = mkdtempSync(join(tmpdir(), 'qd-bench-'));
  const marketsFile = join(dir, 'markets.json');
  writeFileSync(marketsFile, JSON.stringify(registry));
  const sim = createMarketSim({ port: 0, seed: 7, registry, logLevel: 'warn' });
  await sim.start();
  const symbols = registry.markets.map((m) => m.symbol);
  const namespace = `bench-${Date.now().toString(36)}`;
  await ensureNamespace(TEST_ENV.QD_TEMPORAL_ADDRESS, namespace);
  const temporal = await connectClient({ address: TEST_ENV.QD_TEMPORAL_ADDRESS, namespace, uiUrl: '' });
  await registerSearchAttributes(temporal, namespace);

  const gatewayPort = await freePort();
  const env = {
    ...TEST_ENV,
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: TEST_ENV.QD_MONGODB_URI.replace(/[^/]+$/, namespace),
    QD_MARKETS_FILE: marketsFile,
    QD_INTERNAL_TOKEN: TOKEN,
    QD_GATEWAY_PORT: String(gatewayPort),
    QD_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_LOG_LEVEL: 'warn',
  };
  const children: ChildHandle[] = [];
  try {
    const gateway = startProcess('server/main.ts', env);
    children.push(gateway);
    await waitHttp(`${env.QD_GATEWAY_URL}/api/health`, gateway);
    const worker = startProcess('workers/ingest/main.ts', env);
    children.push(worker);
    const full = await measure(env.QD_GATEWAY_URL, symbols, sim);
    const rss = { gateway: rssMb(gateway.child.pid), worker: rssMb(worker.child.pid) };
    await temporal.workflow.getHandle('ingest-bench').terminate('benchmark over').catch(() => undefined);
    await worker.kill();
    await gateway.kill();

    const relayPort = await freePort();
    const bare = startProcess('bench/bare-relay.ts', {}, [sim.url, String(relayPort), registry.markets.map((m) => m.pythFeedId).join(',')]);
    children.push(bare);
    await waitOutput(bare, 'ready');
    const baseline = await measure(`http://127.0.0.1:${relayPort}`, symbols, sim);
    const relayRss = rssMb(bare.child.pid);
    return { feeds, full, baseline, rss: { ...rss, relay: relayRss } };
  } finally {
    for (const c of children) await c.kill();
    await temporal.connection.close();
    await sim.stop();
  }
}

async function waitHttp(url: string, child: ChildHandle, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    if (child.child.exitCode !== null) throw new Error(`process exited:\n${child.output()}`);
    await sleep(200);
  }
  throw new Error(`${url} not ready:\n${child.output()}`);
}

async function waitOutput(child: ChildHandle, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!child.output().includes(text)) {
    if (Date.now() > deadline || child.child.exitCode !== null) throw new Error(`no "${text}":\n${child.output()}`);
    await sleep(100);
  }
}

/**
 * Sustained ingestion: `feeds` feeds each publishing once a second (wall-clock publish times, as
 * validation requires), through validation and the batched writer into FerretDB, for `seconds`.
 * Sustained means the store keeps up: the backlog stays bounded and drains within a flush or two.
 */
async function throughputRun(feeds: number, seconds: number) {
  const registry = registryOf(feeds);
  const markets = indexMarkets(registry);
  const db = await openStore(TEST_ENV.QD_MONGODB_URI.replace(/[^/]+$/, `bench-tp-${Date.now().toString(36)}`));
  const store = createPriceStore(priceModels(db), markets);
  await store.ensureIndexes();
  const log = createLogger('bench', 'warn');
  let published = 0;
  const writer = new PriceWriter(store, log, { ...DEFAULT_WRITER_OPTIONS, maxBacklog: 10_000_000 });
  const pipeline = new IngestPipeline({
    markets,
    book: new PriceBook(),
    writer,
    publisher: { prices: (b) => void (published += b.length), status: () => undefined, close: async () => undefined },
    metrics: ingestMetrics(new Registry()),
    log,
    now: Date.now,
  });
  let validated = 0;
  let maxBacklog = 0;
  let validateMs = 0;
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
    maxBacklog = Math.max(maxBacklog, writer.backlog);
  }
  const drainStart = performance.now();
  await writer.close();
  const drainMs = performance.now() - drainStart;
  const stored = await store.models.history.estimatedDocumentCount();
  await db.dropDatabase();
  await db.close();
  const total = feeds * seconds;
  if (validated !== total || stored !== total || published !== total) throw new Error(`validated ${validated}, stored ${stored}, published ${published} of ${total}`);
  return { feeds, offeredPerSecond: feeds, validatedPerSecondCpu: Math.round(total / (validateMs / 1000)), maxBacklog, drainMs: Math.round(drainMs), sustained: maxBacklog <= 2 * feeds && drainMs < 5_000 };
}

export async function runIngestBench(measureSeconds = 20, part: 'latency' | 'throughput' | 'all' = 'all'): Promise<void> {
  MEASURE_MS = measureSeconds * 1000;
  if (part !== 'throughput') await latencyBench();
  if (part !== 'latency') await throughputBench();
}

async function latencyBench(): Promise<void> {
  const results = [];
  for (const feeds of [20, 200]) {
    process.stdout.write(`latency: ${feeds} feeds × 2.5 updates/s, ${MEASURE_MS / 1000} s measured after ${WARMUP_MS / 1000} s warm-up...\n`);
    results.push(await latencyRun(feeds));
  }
  process.stdout.write('\nlatency, simulator publish → Socket.IO client (ms)\n');
  process.stdout.write('feeds  path         received/s   p50   p99   max   RSS MB\n');
  for (const r of results) {
    const row = (name: string, s: LatencyStats, rss: string) =>
      `${String(r.feeds).padStart(5)}  ${name.padEnd(11)}  ${String(s.perSecond).padStart(10)}  ${String(s.p50).padStart(4)}  ${String(s.p99).padStart(4)}  ${String(s.max).padStart(4)}   ${rss}\n`;
    process.stdout.write(row('full', r.full, `gateway ${r.rss.gateway}, worker ${r.rss.worker}`));
    process.stdout.write(row('bare relay', r.baseline, `relay ${r.rss.relay}`));
  }
  for (const r of results) {
    const sp = r.full.split;
    if (sp) process.stdout.write(`${String(r.feeds).padStart(5)}  full path split: simulator → worker p50/p99 ${sp.toWorker.join('/')} ms, worker → client ${sp.toClient.join('/')} ms\n`);
  }
  const at200 = results.find((r) => r.feeds === 200)!;
  process.stdout.write(`\ngoal p99 ≤ 50 ms at 200 feeds: ${at200.full.p99 <= 50 ? 'met' : 'NOT met'} (${at200.full.p99} ms)\n`);
  process.stdout.write(`goal p99 ≤ 2× bare relay: ${at200.full.p99 <= 2 * Math.max(at200.baseline.p99, 1) ? 'met' : 'NOT met'} (${at200.full.p99} vs ${at200.baseline.p99} ms)\n`);

}

async function throughputBench(): Promise<void> {
  process.stdout.write('\nsustained ingestion: N feeds × 1 update/s through validation and batched FerretDB writes, 20 s each\n');
  process.stdout.write('updates/s offered   validation CPU (updates/s)   max backlog   final drain ms   sustained\n');
  let best = 0;
  for (const feeds of [1_000, 2_500, 5_000, 7_500]) {
    const r = await throughputRun(feeds, 20);
    process.stdout.write(`${String(r.offeredPerSecond).padStart(17)}   ${String(r.validatedPerSecondCpu).padStart(26)}   ${String(r.maxBacklog).padStart(11)}   ${String(r.drainMs).padStart(14)}   ${r.sustained ? 'yes' : 'no'}\n`);
    if (!r.sustained) break;
    best = feeds;
  }
  process.stdout.write(`highest sustained rate of validated, stored updates: ${best}/s\n`);
  process.stdout.write(`goal ≥ 5,000 stored updates/s: ${best >= 5_000 ? 'met' : 'NOT met'}\n`);
}
