import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ingestWorkflowId } from '../contracts/temporal.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import { ferretDb, gateway, postgres, postgresUrl, redisServer, worker } from '../scripts/services.ts';
import { Supervisor, describeExit, type ProcessSpec } from '../scripts/supervisor.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore } from '../store/mongo/store.ts';
import { connectClient } from '../temporal/connection.ts';
import { LiveClient, ROOT, compareWithHistory, createTestNamespace, freePort, outputSink, priceKey, testConfig, testMarkets, uniqueName, waitFor } from './support.ts';

/**
 * Issue: "no lost writes, crashed processes restarted". The whole write path under the Supervisor
 * (scripts/supervisor.ts) with restart policies — PostgreSQL, FerretDB and Redis of this test's own,
 * on free ports and temporary folders, the ingest worker and a gateway — with Temporal from the test
 * services and the market simulator in this process. A dashboard client records every price the
 * gateway sends it. Whatever dies (kill -9 of the worker, of FerretDB, of PostgreSQL) comes back by
 * itself and prices resume; a database that hangs (SIGSTOP) holds up neither live prices nor the
 * CoinGecko fallback nor the health check; and every price the client received — every accepted,
 * served price — ends up in history exactly once.
 */
const markets = testMarkets();
const SYMBOLS = markets.all.map((m) => m.symbol);
const dir = mkdtempSync(join(tmpdir(), 'qd-store-outage-'));
// PostgreSQL runs as its own user when we are root: it must reach its folder inside this one.
chmodSync(dir, 0o755);

let sim: MarketSim;
let namespace: string;
let supervisor: Supervisor;
const out = outputSink();
let mongodbUri: string;
let gatewayUrl: string;
let client: LiveClient;
/** Every exit the Supervisor saw, by process: a kill must take down only what was killed. */
const exits: { name: string; how: string; at: number }[] = [];

const FAST_RESTART = { initialDelayMs: 500, maxDelayMs: 2_000 };
// A database stays away a little longer: long enough for writes to fail and be retried.
const DATABASE_RESTART = { initialDelayMs: 2_000, maxDelayMs: 4_000 };
const restarted = (name: string, since: number) => waitFor(`${name} restarted by the supervisor`, () => readyAgain.find((r) => r.name === name && r.at > since), 120_000, 100);
const readyAgain: { name: string; at: number }[] = [];

beforeAll(async () => {
  sim = createMarketSim({ port: 0, seed: 55, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  namespace = uniqueName('store-outage');
  await createTestNamespace(namespace);
  const [pgPort, ferretPort, redisPort, gatewayPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  mongodbUri = `mongodb://127.0.0.1:${ferretPort}/quantdesk-store-outage`;
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const env = {
    QD_TEMPORAL_ADDRESS: testConfig.temporal.address,
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: mongodbUri,
    QD_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    QD_BUS_PREFIX: uniqueName('qd-store-outage'),
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_DATA_DIR: join(dir, 'data'),
    QD_GATEWAY_PORT: String(gatewayPort),
    QD_GATEWAY_URL: gatewayUrl,
    QD_LOG_LEVEL: 'warn',
  };
  const specs: ProcessSpec[] = [
    postgres({ port: pgPort, dataDir: join(dir, 'postgres') }),
    ferretDb({ port: ferretPort, stateDir: join(dir, 'ferretdb'), postgresUrl: postgresUrl(pgPort) }),
    redisServer({ port: redisPort, dataDir: join(dir, 'redis') }),
    { ...gateway(gatewayPort, env), cwd: ROOT },
    { ...worker('ingest', 'workers/ingest/main.ts', metricsPort, env), cwd: ROOT },
  ].map((s) => ({ ...s, restart: s.name === 'postgres' || s.name === 'ferretdb' ? DATABASE_RESTART : FAST_RESTART }));
  supervisor = new Supervisor(specs.map((s) => s.name), out.stream, false);
  supervisor.on('exited', (name, exit) => exits.push({ name, how: describeExit(exit), at: Date.now() }));
  supervisor.on('ready', (name, restarts) => restarts > 0 && readyAgain.push({ name, at: Date.now() }));
  for (const spec of specs) await supervisor.start(spec);
  client = new LiveClient(gatewayUrl);
  await client.subscribe(SYMBOLS);
}, 240_000);

afterAll(async () => {
  client?.close();
  const temporal = await connectClient({ ...testConfig.temporal, namespace }).catch(() => undefined);
  for (const group of markets.groups().keys()) await temporal?.workflow.getHandle(ingestWorkflowId(group)).terminate('test over').catch(() => undefined);
  await temporal?.connection.close();
  await supervisor?.stopAll();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 90_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error(`supervised processes (tail):\n${out.tail(80)}`);
});

/** Prices the client received after `since` (epoch ms), of every market, from `source`. */
const receivedSince = (since: number, source?: string) => client.prices.filter((p) => p.arrivedAt > since && (!source || p.source === source));
const pricesFlow = (what: string, since: number, source?: string, timeoutMs = 90_000) =>
  waitFor(what, () => SYMBOLS.every((s) => receivedSince(since, source).some((p) => p.symbol === s && p.receivedAt > since)) || undefined, timeoutMs, 100);

/**
 * Every price the client received is in history, exactly once, with the values it was served
 * with; history holds no update twice. The writer stores in batches and retries what failed, so
 * this waits (bounded) for the last ones to land.
 */
async function expectAllReceivedStoredOnce(): Promise<void> {
  const db = await openStore(mongodbUri);
  try {
    const store = createMongoStore(db, markets);
    const received = new Map(client.prices.map((p) => [priceKey(p), p]));
    const check = () => compareWithHistory(store.history, received.values());
    let last: Awaited<ReturnType<typeof check>> | undefined;
    await waitFor('every received price in history', async () => {
      last = await check();
      return last.missing.length === 0 || last.duplicates.length > 0 || last.different.length > 0 || undefined;
    }, 60_000, 500).catch(() => undefined);
    expect(last, 'history could not be read').toBeDefined();
    // Exactly once: no update is stored twice, however often it was written (retries, an adopted journal)…
    expect(last!.duplicates).toEqual([]);
    // …with the values it was served with…
    expect(last!.different).toEqual([]);
    // …and none missing.
    expect(last!.missing.slice(0, 20), `${last!.missing.length} of ${received.size} received prices not in history`).toEqual([]);
  } finally {
    await db.close();
  }
}

describe('store outages under the supervisor: no lost writes, crashed processes restarted', () => {
  it('runs: prices reach the client and history', async () => {
    await pricesFlow('prices of every market at the client', 0);
    await expectAllReceivedStoredOnce();
  }, 120_000);

  it('kill -9 of the ingest worker: restarted, prices resume, the dead worker\'s journal is written', async () => {
    const killedAt = Date.now();
    process.kill(supervisor.pid('ingest')!, 'SIGKILL');
    await restarted('ingest', killedAt);
    await pricesFlow('prices from the restarted worker', killedAt);
    // The new worker took over what the dead one had journaled and not yet written…
    expect(out.lines.some((l) => l.startsWith('ingest') && l.includes('"journal_adopted"'))).toBe(true);
    // …so every price served before the kill is stored, and none twice.
    await expectAllReceivedStoredOnce();
    expect(exits.filter((e) => e.at >= killedAt).map((e) => `${e.name}: ${e.how}`)).toEqual(['ingest: killed by SIGKILL']);
  }, 150_000);

  for (const name of ['ferretdb', 'postgres'] as const) {
    it(`kill -9 of ${name === 'ferretdb' ? 'FerretDB' : 'PostgreSQL'}: restarted, live prices never stop, writes land once it is back`, async () => {
      const killedAt = Date.now();
      process.kill(supervisor.pid(name)!, 'SIGKILL');
      const back = await restarted(name, killedAt);
      // Live prices do not wait for the database: they reached the client while it was away.
      await pricesFlow('prices after the restart', back.at);
      expect(receivedSince(killedAt).some((p) => p.arrivedAt < back.at)).toBe(true);
      await expectAllReceivedStoredOnce();
      // Only the database went down; its clients reconnected by themselves.
      expect(exits.filter((e) => e.at >= killedAt).map((e) => `${e.name}: ${e.how}`)).toEqual([`${name}: killed by SIGKILL`]);
    }, 180_000);
  }

  it('a database that hangs for 30 s (SIGSTOP PostgreSQL): live prices, the CoinGecko fallback and health go on; nothing is lost', async () => {
    const HANG_MS = 30_000;
    // The whole cluster stops answering, its connections stay open: the postmaster and its children
    // (each of which PostgreSQL makes a process group of its own, so a group signal would miss them).
    const postmaster = supervisor.pid('postgres')!;
    const cluster = [postmaster, ...execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).trim().split('\n').map(Number)];
    for (const pid of cluster) process.kill(pid, 'SIGSTOP');
    const hungAt = Date.now();
    let resumed = false;
    try {
      const health = async () => {
        const started = Date.now();
        const res = await fetch(`${gatewayUrl}/api/health`, { signal: AbortSignal.timeout(10_000) });
        return { status: res.status, ms: Date.now() - started, body: (await res.json()) as { status: string; checks: { mongodb: string } } };
      };
      const h = await waitFor('health to see the database down', async () => {
        const r = await health();
        return r.body.checks.mongodb.startsWith('down') ? r : undefined;
      }, 8_000, 200);
      expect(h.ms).toBeLessThan(3_000);
      expect(h.status).toBe(503);
      expect(h.body.status).toBe('degraded');
      // Live prices keep flowing from Pyth…
      await pricesFlow('live Pyth prices while the database hangs', hungAt + 2_000, 'pyth', 10_000);
      // …and when Pyth dies, from CoinGecko: the fallback needs no database either.
      sim.control.kill('pyth');
      const pythKilledAt = Date.now();
      await pricesFlow('CoinGecko prices while the database hangs', pythKilledAt, 'coingecko', 15_000);
      const again = await health();
      expect(again.ms).toBeLessThan(3_000);
      expect(again.body.checks.mongodb).toMatch(/^down/);
      expect(Date.now() - hungAt).toBeLessThan(HANG_MS);
      await sleep(HANG_MS - (Date.now() - hungAt));
    } finally {
      for (const pid of cluster) process.kill(pid, 'SIGCONT');
      resumed = true;
    }
    expect(resumed).toBe(true);
    const contAt = Date.now();
    sim.control.restore('pyth');
    await pricesFlow('Pyth prices again', contAt, 'pyth');
    await waitFor('health ok again', async () => {
      const res = await fetch(`${gatewayUrl}/api/health`);
      return res.status === 200 || undefined;
    }, 30_000, 250);
    // Nothing accepted during the hang is lost; nothing was written twice; nobody had to be restarted.
    const during = client.prices.filter((p) => p.arrivedAt >= hungAt && p.arrivedAt <= contAt);
    expect(during.some((p) => p.source === 'coingecko')).toBe(true);
    await expectAllReceivedStoredOnce();
    expect(exits.filter((e) => e.at >= hungAt)).toEqual([]);
  }, 180_000);
});
