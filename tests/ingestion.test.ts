import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection as MongoConnection } from 'mongoose';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, PriceMessage, ServerToClientEvents, StatusMessage, SubscribeAck } from '../contracts/socket.ts';
import { RETENTION_SCHEDULE_ID, ingestWorkflowId, statusQuery } from '../contracts/temporal.ts';
import { REJECTION_REASONS } from '../domain/validation.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import type { Gateway } from '../server/app.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore, type MongoStore } from '../store/mongo/store.ts';
import type { RejectionDoc } from '../store/roles.ts';
import { connectClient } from '../temporal/connection.ts';
import { createTestNamespace, startProcess, testConfig, testDatabaseUri, testMarkets, uniqueName, waitFor, type ChildHandle } from './support.ts';
import { startTestGateway } from './test-gateway.ts';

/**
 * The ingestion path end to end, with the real parts: the market simulator (Hermes + CoinGecko),
 * the ingest worker as its own process on the Temporal dev server, FerretDB, and the gateway.
 */
const markets = testMarkets();
const SOL = markets.bySymbol('SOL-PERP')!;
const WORKER_METRICS_PORT = 19464 + Number(process.env.QD_TEST_PORT_OFFSET ?? 0);
const busPrefix = uniqueName('qd-ingest-test');

let sim: MarketSim;
let gateway: Gateway;
let gatewayUrl: string;
let db: MongoConnection;
let store: MongoStore;
let testGateway: Awaited<ReturnType<typeof startTestGateway>>;
let worker: ChildHandle;
let workerEnv: Record<string, string>;
let temporalNamespace: string;
const received: PriceMessage[] = [];
const statuses: StatusMessage[] = [];
let client: Socket<ServerToClientEvents, ClientToServerEvents>;

const startWorker = () => startProcess('workers/ingest/main.ts', workerEnv);
const latestReceived = (symbol: string) => received.filter((p) => p.symbol === symbol).at(-1);

beforeAll(async () => {
  sim = createMarketSim({ port: 0, seed: 42, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  const dbName = uniqueName('qd-ingest');
  db = await openStore(testDatabaseUri(dbName));
  store = createMongoStore(db, markets);
  await store.ensureIndexes();
  testGateway = await startTestGateway({ markets, store, busPrefix });
  gateway = testGateway.gateway;
  gatewayUrl = testGateway.url;

  temporalNamespace = uniqueName('ingest');
  await createTestNamespace(temporalNamespace);
  workerEnv = {
    QD_TEMPORAL_NAMESPACE: temporalNamespace,
    QD_MONGODB_URI: testDatabaseUri(dbName),
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_BUS_PREFIX: busPrefix,
    QD_DATA_DIR: mkdtempSync(join(tmpdir(), 'qd-ingest-test-')),
    QD_METRICS_PORT: String(WORKER_METRICS_PORT),
    QD_COINGECKO_POLL_MS: '500',
    QD_COINGECKO_CROSSCHECK_MS: '1000',
    QD_LOG_LEVEL: 'info',
  };
  worker = startWorker();

  client = io(gatewayUrl, { transports: ['websocket'] });
  client.on('prices', (batch) => received.push(...batch));
  client.on('status', (s) => statuses.push(s));
  const ack = await client.timeout(5_000).emitWithAck('subscribe', ['SOL-PERP', 'BTC-PERP', 'BONK-PERP']) as SubscribeAck;
  expect(ack.ok).toBe(true);
}, 120_000);

afterAll(async () => {
  client?.close();
  const temporal = await connectClient({ ...testConfig.temporal, namespace: temporalNamespace }).catch(() => undefined);
  for (const group of markets.groups().keys()) await temporal?.workflow.getHandle(ingestWorkflowId(group)).terminate('test over').catch(() => undefined);
  await temporal?.connection.close();
  await worker?.kill();
  await testGateway?.close();
  await db?.close();
  await sim?.stop();
}, 60_000);

async function workflowStatus(group = SOL.feedGroup) {
  const temporal = await connectClient({ ...testConfig.temporal, namespace: temporalNamespace });
  try {
    return await temporal.workflow.getHandle(ingestWorkflowId(group)).query(statusQuery);
  } finally {
    await temporal.connection.close();
  }
}

describe('price ingestion', () => {
  afterEach((ctx) => {
    // A failure is explained by the worker's own log lines.
    if (ctx.task.result?.state === 'fail') console.error(`ingest worker output (tail):\n${worker.output().split('\n').slice(-60).join('\n')}`);
  });

  it('flows from the simulator to the store, REST and Socket.IO, values exactly as published', async () => {
    const first = await waitFor('a Pyth price over Socket.IO', () => received.find((p) => p.symbol === 'SOL-PERP' && p.source === 'pyth'), 60_000);
    // Exactly as published: the simulator knows this very update (feed, publish time, mantissa).
    expect(sim.publishedAt(SOL.pythFeedId, first.publishTime, first.price)).toBeTypeOf('number');
    const simEntry = (await (await fetch(`${sim.url}/control/published?feed=${SOL.pythFeedId}&publish_time=${first.publishTime}&price=${first.price}`)).json()) as { publishedAtMs?: number };
    expect(simEntry.publishedAtMs).toBeTypeOf('number');
    expect(first.expo).toBe(-8);
    expect(first.stale).toBe(false);
    expect(first.usableFor).toContain('display');

    const bonk = await waitFor('a BONK price', () => received.find((p) => p.symbol === 'BONK-PERP'));
    expect(bonk.expo).toBe(-10);
    expect(sim.publishedAt(bonk.feedId, bonk.publishTime, bonk.price)).toBeTypeOf('number');

    // Stored: the same update is in history (batched writes land within a moment).
    const row = await waitFor('the history row', () =>
      store.history.updates(SOL.pythFeedId, first.publishTime, first.publishTime).then((rows) => rows.find((r) => r.source === 'pyth' && r.slot === first.slot)),
    );
    expect(row).toEqual({ source: 'pyth', price: first.price, conf: first.conf, expo: -8, publishTime: first.publishTime, slot: first.slot });

    // REST serves the latest, with a readable decimal beside the exact mantissa.
    const rest = (await (await fetch(`${gatewayUrl}/api/prices/SOL-PERP`)).json()) as { price: PriceMessage & { value: string } };
    expect(sim.publishedAt(SOL.pythFeedId, rest.price.publishTime, rest.price.price)).toBeTypeOf('number');
    expect(rest.price.value).toBe(`${rest.price.price.slice(0, -8)}.${rest.price.price.slice(-8)}`);

    // Candles from history.
    const hist = (await (await fetch(`${gatewayUrl}/api/prices/SOL-PERP/history?interval=1`)).json()) as { candles: { count: number }[] };
    expect(hist.candles.length).toBeGreaterThan(0);
  }, 90_000);

  it('rejects every bad payload class with its reason, counts it, never broadcasts it, and keeps streaming', async () => {
    const kinds = ['nan-price', 'negative-price', 'zero-price', 'expo-high', 'expo-low', 'stale-time', 'future-time', 'unknown-id', 'malformed-json', 'oversized'] as const;
    const expected: Record<(typeof kinds)[number], RejectionDoc['reason']> = {
      'nan-price': 'non_finite_price',
      'negative-price': 'non_positive_price',
      'zero-price': 'non_positive_price',
      'expo-high': 'exponent_out_of_range',
      'expo-low': 'exponent_out_of_range',
      'stale-time': 'stale',
      'future-time': 'future_publish_time',
      'unknown-id': 'unknown_feed',
      'malformed-json': 'malformed',
      oversized: 'oversized',
    };
    const since = new Date();
    const broadcastBefore = received.length;
    for (const kind of kinds) {
      sim.control.inject('pyth', kind, { count: 1, feeds: ['SOL-PERP'] });
      await waitFor(`a ${expected[kind]} rejection for ${kind}`, () =>
        store.rejections.recent(since, { source: 'pyth', reason: expected[kind] }).then((d) => d[0]),
      );
    }
    // Counted in the worker's metrics, by reason.
    const metrics = await (await fetch(`http://127.0.0.1:${WORKER_METRICS_PORT}/metrics`)).text();
    for (const reason of new Set(Object.values(expected))) {
      expect(metrics).toMatch(new RegExp(`qd_price_rejections_total\\{[^}]*reason="${reason}"[^}]*\\} [1-9]`));
    }
    // Never broadcast as good: everything sent since is exactly a clean published update.
    for (const p of received.slice(broadcastBefore)) {
      expect(BigInt(p.price) > 0n && p.expo >= -18 && p.expo <= 0).toBe(true);
      expect(sim.publishedAt(p.feedId, p.publishTime, p.price)).toBeTypeOf('number');
    }
    // The stream survived: fresh Pyth prices keep coming, and the workflow never left Pyth.
    const after = received.length;
    await waitFor('more Pyth prices', () => received.slice(after).some((p) => p.symbol === 'SOL-PERP' && p.source === 'pyth'));
    expect((await workflowStatus()).mode).toBe('pyth');
    expect(REJECTION_REASONS).toContain('unknown_feed');
  }, 90_000);

  it('falls back to CoinGecko within 5 s when Pyth dies, and returns to Pyth within 10 s of its recovery', async () => {
    sim.control.kill('pyth');
    const killedAt = Date.now();
    const fallback = await waitFor('a CoinGecko price over Socket.IO', () => received.find((p) => p.symbol === 'SOL-PERP' && p.source === 'coingecko' && p.receivedAt >= killedAt), 5_000, 50);
    expect(fallback.stale).toBe(false);
    await waitFor('CoinGecko rows in history', () =>
      store.history.updates(SOL.pythFeedId, fallback.publishTime, fallback.publishTime).then((rows) => rows.find((r) => r.source === 'coingecko' && r.price !== '')),
    );
    await waitFor('latest stored price from CoinGecko', () => store.latest.latest([SOL.pythFeedId]).then(([d]) => (d?.source === 'coingecko' ? d : undefined)));
    expect((await workflowStatus()).mode).toBe('coingecko');

    sim.control.restore('pyth');
    const restoredAt = Date.now();
    await waitFor('Pyth prices again', () => received.find((p) => p.symbol === 'SOL-PERP' && p.source === 'pyth' && p.receivedAt >= restoredAt), 10_000, 50);
    expect((await workflowStatus()).mode).toBe('pyth');
    // Once the mode is back to Pyth, no CoinGecko price is served or broadcast again (the fallback
    // poller may still run until its cancellation arrives: it is only a cross-check by then).
    const backAt = (await waitFor('the pyth status', () => statuses.find((s) => s.symbol === 'SOL-PERP' && s.mode === 'pyth' && s.at >= restoredAt))).at;
    const index = received.length;
    await sleep(3_000);
    expect(received.slice(index).filter((p) => p.source === 'coingecko')).toEqual([]);
    expect(received.filter((p) => p.source === 'coingecko' && p.receivedAt > backAt)).toEqual([]);
    const rest = (await (await fetch(`${gatewayUrl}/api/prices/SOL-PERP`)).json()) as { price: PriceMessage };
    expect(rest.price.source).toBe('pyth');
  }, 60_000);

  it('serves the last good price marked stale, with its age, when both sources fail — and invents nothing', async () => {
    await waitFor('Pyth flowing', () => latestReceived('SOL-PERP')?.source === 'pyth' || undefined, 15_000);
    sim.control.kill('pyth');
    sim.control.kill('coingecko');
    const killedAt = Date.now();
    const staleStatus = await waitFor('a stale status over Socket.IO', () => statuses.find((s) => s.symbol === 'SOL-PERP' && s.stale && s.at >= killedAt), 15_000);
    expect(staleStatus.ageSec).toBeTypeOf('number');
    const rest = (await (await fetch(`${gatewayUrl}/api/prices/SOL-PERP`)).json()) as { price: PriceMessage; status: StatusMessage };
    expect(rest.price.stale).toBe(true);
    expect(rest.price.usableFor).toEqual([]);
    expect(rest.status.mode).toBe('stale');
    expect(rest.price.ageSec).toBeGreaterThanOrEqual(0);
    // Nothing invented: what is served is an update one of the sources really published.
    const known = sim.publishedAt(SOL.pythFeedId, rest.price.publishTime, rest.price.price);
    const cgKnown = rest.price.source === 'coingecko';
    expect(known !== undefined || cgKnown).toBe(true);
    const countAtStale = received.length;
    await sleep(2_000);
    expect(received.slice(countAtStale).filter((p) => p.receivedAt >= killedAt + 1_000)).toEqual([]);
    const [stored] = await store.latest.latest([SOL.pythFeedId]);
    expect(stored?.stale).toBe(true);
    expect((await workflowStatus()).mode).toBe('stale');

    sim.control.reset();
    await waitFor('Pyth prices after both recovered', () => received.slice(countAtStale).find((p) => p.symbol === 'SOL-PERP' && p.source === 'pyth'), 20_000);
    const fresh = (await (await fetch(`${gatewayUrl}/api/prices/SOL-PERP`)).json()) as { price: PriceMessage };
    expect(fresh.price.stale).toBe(false);
  }, 60_000);

  it('raises the divergence alarm while CoinGecko and Pyth disagree beyond the bound, and clears it', async () => {
    await waitFor('Pyth flowing', () => latestReceived('SOL-PERP')?.source === 'pyth' || undefined, 15_000);
    const since = Date.now();
    sim.control.bias('coingecko', 300, ['SOL-PERP']); // SOL-PERP's bound is 100 bps
    const alarm = await waitFor('a divergence status', () => statuses.find((s) => s.symbol === 'SOL-PERP' && s.divergence && s.at >= since), 20_000);
    expect(Number(alarm.divergence!.bps)).toBeGreaterThan(SOL.validation.divergenceBps);
    expect(alarm.divergence!.boundBps).toBe(SOL.validation.divergenceBps);
    const metrics = await (await fetch(`http://127.0.0.1:${WORKER_METRICS_PORT}/metrics`)).text();
    expect(metrics).toMatch(/qd_source_divergence_total\{[^}]*symbol="SOL-PERP"[^}]*\} [1-9]/);
    // Only the alarm: Pyth is still what is served.
    expect(latestReceived('SOL-PERP')?.source).toBe('pyth');

    sim.control.bias('coingecko', 0, ['SOL-PERP']);
    await waitFor('the alarm cleared', () => statuses.find((s) => s.symbol === 'SOL-PERP' && !s.divergence && s.at > alarm.at), 20_000);
  }, 60_000);

  it('keeps history retention on a Temporal schedule that runs the retention workflow', async () => {
    const client = await connectClient({ ...testConfig.temporal, namespace: temporalNamespace });
    try {
      const schedule = client.schedule.getHandle(RETENTION_SCHEDULE_ID);
      const description = await schedule.describe();
      expect(description.spec.intervals?.[0]?.every).toBe(3_600_000);
      await schedule.trigger();
      const run = await waitFor('a retention run', async () => (await schedule.describe()).info.recentActions.at(-1)?.action.workflow.workflowId);
      // Everything here is minutes old: nothing is past its retention, nothing is deleted.
      expect(await client.workflow.getHandle(run).result()).toEqual({ historyDays: [], pushDays: [], rejectionDays: [] });
    } finally {
      await client.connection.close();
    }
  }, 60_000);

  it('resumes after the worker is killed mid-stream, without duplicate history rows', async () => {
    await waitFor('Pyth flowing', () => latestReceived('SOL-PERP')?.source === 'pyth' || undefined, 15_000);
    await worker.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(1_000);
    worker = startWorker();
    const resumed = await waitFor('Pyth prices from the restarted worker', () => received.find((p) => p.symbol === 'SOL-PERP' && p.source === 'pyth' && p.receivedAt > killedAt + 1_000), 60_000);
    await waitFor('its history row', () =>
      store.history.updates(SOL.pythFeedId, resumed.publishTime, resumed.publishTime).then((rows) => rows.find((r) => r.source === 'pyth')),
    );
    // History holds each (feed, source, publish time) once, however often it was written: the
    // restarted worker resumed after the last stored update (no duplicate rows, and no second
    // "accepted" for what was stored before the kill).
    const rows = await store.history.updates(SOL.pythFeedId, resumed.publishTime - 120, resumed.publishTime);
    const keys = rows.map((r) => `${r.source}:${r.publishTime}:${r.slot}`);
    expect(new Set(keys).size).toBe(keys.length);
    const pyth = rows.filter((r) => r.source === 'pyth').map((r) => r.publishTime);
    // Stored on both sides of the restart.
    expect(pyth.some((t) => t * 1000 < killedAt)).toBe(true);
    expect(pyth.some((t) => t * 1000 > killedAt + 1_000)).toBe(true);
  }, 120_000);
});
