import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection as MongoConnection } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PriceMessage, StatusMessage } from '../contracts/socket.ts';
import { SYNC_WORKFLOW_ID, ingestWorkflowId, syncStatusQuery } from '../contracts/temporal.ts';
import { indexMarkets, marketRegistrySchema, type MarketRegistry } from '../domain/markets.ts';
import { createLogger } from '../runtime/logger.ts';
import { startEmbeddedChain, type EmbeddedChain } from '../sandbox/chain/chain.ts';
import { quantdeskBootstrapSteps } from '../sandbox/chain/quantdesk-bootstrap.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import { redisServer } from '../scripts/services.ts';
import { Supervisor } from '../scripts/supervisor.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore, type MongoStore } from '../store/mongo/store.ts';
import { connectClient } from '../temporal/connection.ts';
import {
  LiveClient,
  ROOT,
  createTestNamespace,
  freePort,
  metricValue,
  outputSink,
  priceKey,
  recordBus,
  startProcess,
  testConfig,
  testDatabaseUri,
  uniqueName,
  waitFor,
  waitForHttp,
  type ChildHandle,
} from './support.ts';

/**
 * The live-price bus goes away and comes back. Everything runs — the ingest worker on the
 * simulator, the sync worker on a localnet, a gateway — on a Redis of this test's own, under a
 * Supervisor. Redis is killed (SIGKILL): the gateway and the sync say the bus is down, the gateway
 * serves the last prices marked by their age and the newer ones the ingest worker keeps storing,
 * the sync keeps pushing from the store. The Supervisor starts Redis again (held back until the
 * test has seen the outage): everyone resumes by themselves, prices flow over the bus again, and
 * the gateway is not left behind the store.
 */
const dir = mkdtempSync(join(tmpdir(), 'qd-bus-outage-'));
// The shipped registry with a 4 s heartbeat, so the sync pushes within the outage.
const registry: MarketRegistry = marketRegistrySchema.parse(JSON.parse(readFileSync(join(ROOT, 'config/markets.json'), 'utf8')));
for (const m of registry.markets) m.push = { ...m.push, heartbeatSec: 4 };
const marketsFile = join(dir, 'markets.json');
writeFileSync(marketsFile, JSON.stringify(registry));
const markets = indexMarkets(registry);
const SOL = markets.bySymbol('SOL-PERP')!;
const SYMBOLS = markets.all.map((m) => m.symbol);
const busPrefix = uniqueName('qd-bus-outage');

let sim: MarketSim;
let localnet: EmbeddedChain;
let db: MongoConnection;
let store: MongoStore;
let namespace: string;
let supervisor: Supervisor;
const supervisorOut = outputSink();
let redisUrl: string;
/** Redis is started only once this resolves: the test decides how long the outage lasts. */
let redisGate: Promise<void> = Promise.resolve();
let ingest: ChildHandle;
let sync: ChildHandle;
let gateway: ChildHandle;
let gatewayUrl: string;
let ingestMetricsUrl: string;
let bus: ReturnType<typeof recordBus>;
let client: LiveClient;
let downAt = 0;

async function syncStatus() {
  const temporal = await connectClient({ ...testConfig.temporal, namespace });
  try {
    return await temporal.workflow.getHandle(SYNC_WORKFLOW_ID).query(syncStatusQuery);
  } finally {
    await temporal.connection.close();
  }
}
const health = async () => {
  const started = Date.now();
  const res = await fetch(`${gatewayUrl}/api/health`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, ms: Date.now() - started, body: (await res.json()) as { status: string; checks: Record<string, unknown> } };
};
const served = async (symbol: string) => (await (await fetch(`${gatewayUrl}/api/prices/${symbol}`)).json()) as { price: PriceMessage; status: StatusMessage };
const storedLatest = async () => (await store.latest.latest([SOL.pythFeedId]))[0];

beforeAll(async () => {
  sim = createMarketSim({ port: 0, seed: 33, registry, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  localnet = await startEmbeddedChain({
    slotMs: 200,
    dataDir: join(dir, 'localnet'),
    logger: createLogger('localnet', 'warn'),
    bootstrap: quantdeskBootstrapSteps({ hermesUrl: sim.url, markets: marketsFile, traders: 1 }),
  });

  const redisPort = await freePort();
  redisUrl = `redis://127.0.0.1:${redisPort}`;
  const spec = redisServer({ port: redisPort, dataDir: join(dir, 'redis') });
  supervisor = new Supervisor(['redis'], supervisorOut.stream, false);
  await supervisor.start({
    ...spec,
    prepare: async () => {
      await redisGate;
      await spec.prepare?.();
    },
    restart: { initialDelayMs: 200, maxDelayMs: 1_000 },
  });

  const dbName = uniqueName('qd-bus-outage');
  db = await openStore(testDatabaseUri(dbName));
  store = createMongoStore(db, markets);
  namespace = uniqueName('bus-outage');
  await createTestNamespace(namespace);
  const ingestMetricsPort = await freePort();
  ingestMetricsUrl = `http://127.0.0.1:${ingestMetricsPort}/metrics`;
  const gatewayPort = await freePort();
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const env = {
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: testDatabaseUri(dbName),
    QD_REDIS_URL: redisUrl,
    QD_BUS_PREFIX: busPrefix,
    QD_MARKETS_FILE: marketsFile,
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_SOLANA_RPC_URL: localnet.rpcUrl,
    QD_PROGRAM_ID: localnet.manifest.quantdesk!.programId,
    QD_SOLANA_WS_URL: localnet.wsUrl,
    QD_SOLANA_COMMITMENT: 'confirmed',
    QD_ORACLE_AUTHORITY_KEYPAIR: join(dir, 'localnet', 'keys', 'oracle-authority.json'),
    QD_DATA_DIR: join(dir, 'data'),
    QD_LOG_LEVEL: 'info',
  };
  bus = recordBus(redisUrl, busPrefix);
  ingest = startProcess('workers/ingest/main.ts', { ...env, QD_METRICS_PORT: String(ingestMetricsPort) });
  sync = startProcess('workers/sync/main.ts', env);
  gateway = startProcess('server/main.ts', { ...env, QD_GATEWAY_PORT: String(gatewayPort), QD_GATEWAY_URL: gatewayUrl });
  await waitForHttp(`${gatewayUrl}/api/live`, gateway);
  client = new LiveClient(gatewayUrl);
  await client.subscribe(SYMBOLS);
}, 180_000);

afterAll(async () => {
  client?.close();
  const temporal = await connectClient({ ...testConfig.temporal, namespace }).catch(() => undefined);
  for (const id of [SYNC_WORKFLOW_ID, ...[...markets.groups().keys()].map(ingestWorkflowId)]) await temporal?.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  await temporal?.connection.close();
  await Promise.all([ingest?.kill(), sync?.kill(), gateway?.kill()]);
  await bus?.close();
  await supervisor?.stopAll();
  await localnet?.stop();
  await db?.close();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  console.error(`supervisor (tail):\n${supervisorOut.tail(20)}`);
  for (const [name, p] of [['gateway', gateway], ['ingest', ingest], ['sync', sync]] as const) console.error(`${name} output (tail):\n${p.output().split('\n').slice(-30).join('\n')}`);
});

describe('a bus outage (Redis killed, then back)', () => {
  it('starts with everything on the bus: prices over Socket.IO, the sync pushing, health ok', async () => {
    await waitFor('bus prices of every market at the client', () => SYMBOLS.every((s) => client.of(s).some((p) => bus.prices.some((q) => priceKey(q) === priceKey(p)))) || undefined, 90_000, 250);
    await waitFor('a confirmed push', () => store.pushes.recent('SOL-PERP', 50).then((d) => d.find((x) => x.outcome === 'confirmed')), 90_000, 250);
    await waitFor('the sync on the bus', async () => (await syncStatus()).bus === 'up' || undefined, 30_000, 250);
    const h = await waitFor('health ok', async () => {
      const r = await health();
      return r.status === 200 ? r : undefined;
    }, 30_000, 250);
    expect(h.body.checks.bus).toBe('up');
    expect(await metricValue(`${gatewayUrl}/metrics`, 'qd_bus_up')).toBe(1);
  }, 180_000);

  it('kill -9 of Redis: the gateway and the sync report the bus down; last prices are served by age, newer ones from the store', async () => {
    let open!: () => void;
    redisGate = new Promise((r) => (open = r));
    const pid = supervisor.pid('redis')!;
    const seenBefore = client.prices.length;
    process.kill(pid, 'SIGKILL');
    downAt = Date.now();
    try {
      // The gateway: health, status event, metric, within a few seconds.
      const h = await waitFor('health to say the bus is down', async () => {
        const r = await health();
        return r.body.checks.bus === 'down' ? r : undefined;
      }, 5_000, 100);
      expect(h.status).toBe(503);
      expect(h.body.status).toBe('degraded');
      const down = await waitFor('a status event with the bus down', () => client.statuses.find((s) => s.bus === 'down' && s.arrivedAt >= downAt), 5_000, 50);
      expect(SYMBOLS).toContain(down.symbol);
      expect(await metricValue(`${gatewayUrl}/metrics`, 'qd_bus_up')).toBe(0);
      // The sync: its workflow's status says so.
      await waitFor('the sync to report the bus down', async () => (await syncStatus()).bus === 'down' || undefined, 10_000, 250);

      // The ingest worker keeps storing; the gateway serves those newer prices from the store, to REST
      // and to Socket.IO, each with its age.
      const fromStore = await waitFor('a newer price from the store at the client', () =>
        client.prices.slice(seenBefore).find((p) => p.symbol === 'SOL-PERP' && p.publishTime * 1000 >= downAt + 1_000),
        10_000,
        100,
      );
      expect(bus.prices.some((q) => priceKey(q) === priceKey(fromStore))).toBe(false); // never on a bus
      expect(fromStore.ageSec).toBeGreaterThanOrEqual(0);
      const rest = await served('SOL-PERP');
      expect(rest.status.bus).toBe('down');
      expect(rest.price.ageSec).toBeTypeOf('number');
      expect(rest.price.publishTime).toBeGreaterThanOrEqual(fromStore.publishTime);
      const rows = await store.history.updates(SOL.pythFeedId, Math.floor(downAt / 1000), Math.floor(Date.now() / 1000));
      expect(rows.some((r) => r.source === 'pyth' && r.publishTime === fromStore.publishTime)).toBe(true);
      // The sync reads the store meanwhile: a push lands during the outage.
      await waitFor('a push confirmed during the outage', () => store.pushes.recent('SOL-PERP', 50).then((d) => d.find((x) => x.outcome === 'confirmed' && x.decidedAt.getTime() > downAt)), 15_000, 250);
      // The ingest worker counted the prices it could not publish.
      expect(await metricValue(ingestMetricsUrl, 'qd_bus_prices_dropped_total')).toBeGreaterThan(0);
      // Still down: everything above was seen during the outage.
      expect(supervisor.pid('redis')).toBeUndefined();
    } finally {
      open();
    }
  }, 90_000);

  it('Redis restarted by the Supervisor: everyone resumes by themselves, prices over the bus again, no gap left', async () => {
    await waitFor('Redis ready again', () => supervisorOut.lines.some((l) => /redis: ready again/.test(l)) || undefined, 30_000, 100);
    const upAt = Date.now();
    const up = await waitFor('health to say the bus is up', async () => {
      const r = await health();
      return r.body.checks.bus === 'up' ? r : undefined;
    }, 15_000, 100);
    expect(up.status).toBe(200);
    // The gateway may reconnect before the Supervisor's own readiness probe reports, so the event
    // is looked for after the outage's first "down" event, not after upAt.
    const wentDown = client.statuses.find((s) => s.bus === 'down' && s.arrivedAt >= downAt)!;
    await waitFor('a status event with the bus up', () => client.statuses.find((s) => s.bus === 'up' && s.arrivedAt > wentDown.arrivedAt), 5_000, 50);
    expect(await metricValue(`${gatewayUrl}/metrics`, 'qd_bus_up')).toBe(1);
    await waitFor('the sync back on the bus', async () => (await syncStatus()).bus === 'up' || undefined, 15_000, 250);
    // Prices flow over the bus again: what the client gets now is what the bus carries.
    const busFrom = bus.prices.length;
    await waitFor('bus prices again at the client', () => {
      const fresh = new Set(bus.prices.slice(busFrom).map(priceKey));
      return SYMBOLS.every((s) => client.of(s).some((p) => p.arrivedAt > upAt && fresh.has(priceKey(p)))) || undefined;
    }, 30_000, 100);
    // No gap left: with SOL held still at the source, the gateway serves exactly the store's newest
    // served price, which is the bus's last one.
    sim.control.stall('pyth', ['SOL-PERP']);
    try {
      await waitFor('the gateway at the store\'s newest price', async () => {
        const [stored, rest] = [await storedLatest(), await served('SOL-PERP')];
        const lastOnBus = bus.prices.filter((p) => p.symbol === 'SOL-PERP').at(-1);
        return stored && lastOnBus && priceKey(rest.price) === priceKey(stored) && priceKey(stored) === priceKey(lastOnBus) && !rest.price.stale ? true : undefined;
      }, 15_000, 100);
    } finally {
      sim.control.unstall('pyth', ['SOL-PERP']);
    }
    const after = client.of('SOL-PERP').filter((p) => p.arrivedAt > upAt);
    for (let i = 1; i < after.length; i++) expect(after[i]!.seq).toBeGreaterThan(after[i - 1]!.seq);
    // Statuses the workers reported are back on the bus (republished on reconnect).
    await waitFor('the ingest status on the bus again', async () => (await bus.subscriber.statusSnapshot()).some((r) => r.kind === 'ingest') || undefined, 15_000, 250);
    await waitFor('pushes land after the outage', () => store.pushes.recent('SOL-PERP', 50).then((d) => d.find((x) => x.outcome === 'confirmed' && x.decidedAt.getTime() > upAt)), 20_000, 250);
  }, 90_000);
});
