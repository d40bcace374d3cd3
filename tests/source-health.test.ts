import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection as MongoConnection } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ingestWorkflowId } from '../contracts/temporal.ts';
import { marketRegistrySchema, type MarketRegistry } from '../domain/markets.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import type { Gateway } from '../server/app.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore } from '../store/mongo/store.ts';
import { connectClient } from '../temporal/connection.ts';
import { ROOT, createTestNamespace, startProcess, testConfig, testDatabaseUri, testMarkets, uniqueName, waitFor, type ChildHandle } from './support.ts';
import { startTestGateway } from './test-gateway.ts';

/**
 * Health per market and per source against an upstream that lacks one of our markets and wants an
 * API key: a market it does not carry, and a wrong key, each show up as `degraded` with the reason,
 * and a repeated error is logged with a count, not once per attempt.
 */
const markets = testMarkets();
const full: MarketRegistry = marketRegistrySchema.parse(JSON.parse(readFileSync(join(ROOT, 'config/markets.json'), 'utf8')));
const MISSING = 'JUP-PERP';
const upstream: MarketRegistry = { markets: full.markets.filter((m) => m.symbol !== MISSING) };
const KEY = 'hermes-key-0123456789';
const busPrefix = uniqueName('qd-health-test');

let sim: MarketSim;
let db: MongoConnection;
let testGateway: Awaited<ReturnType<typeof startTestGateway>>;
let gateway: Gateway;
let gatewayUrl: string;
let worker: ChildHandle;
let env: Record<string, string>;
let namespace: string;

interface Health {
  ok: boolean;
  status: string;
  degraded: { symbol: string; sources?: { source: string; reason: string; detail: string }[] }[];
}
const health = async () => (await (await fetch(`${gatewayUrl}/api/health`)).json()) as Health;
const problems = (h: Health, symbol: string) => h.degraded.find((d) => d.symbol === symbol)?.sources?.map((s) => `${s.source}:${s.reason}`).sort();

beforeAll(async () => {
  sim = createMarketSim({ port: 0, seed: 3, registry: upstream, pythApiKey: KEY, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  const dbName = uniqueName('qd-health');
  db = await openStore(testDatabaseUri(dbName));
  const store = createMongoStore(db, markets);
  await store.ensureIndexes();
  testGateway = await startTestGateway({ markets, store, busPrefix });
  gateway = testGateway.gateway;
  gatewayUrl = testGateway.url;
  namespace = uniqueName('health');
  await createTestNamespace(namespace);
  env = {
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: testDatabaseUri(dbName),
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_HERMES_API_KEY: KEY,
    QD_BUS_PREFIX: busPrefix,
    QD_DATA_DIR: mkdtempSync(join(tmpdir(), 'qd-health-')),
    QD_COINGECKO_POLL_MS: '500',
    QD_COINGECKO_CROSSCHECK_MS: '1000',
    QD_LOG_LEVEL: 'info',
  };
  worker = startProcess('workers/ingest/main.ts', env);
}, 120_000);

afterAll(async () => {
  const temporal = await connectClient({ ...testConfig.temporal, namespace }).catch(() => undefined);
  for (const group of markets.groups().keys()) await temporal?.workflow.getHandle(ingestWorkflowId(group)).terminate('test over').catch(() => undefined);
  await temporal?.connection.close();
  await worker?.kill();
  await testGateway?.close();
  await db?.close();
  await sim?.stop();
}, 60_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error(`ingest worker output (tail):\n${worker.output().split('\n').slice(-40).join('\n')}`);
});

describe('source health', () => {
  it('says degraded for a market the upstream does not carry, per source, while the others are fine', async () => {
    const h = await waitFor('JUP reported missing by both sources', async () => {
      const x = await health();
      return problems(x, MISSING)?.length === 2 ? x : undefined;
    }, 60_000, 500);
    expect(h.ok).toBe(false);
    expect(h.status).toBe('degraded');
    expect(problems(h, MISSING)).toEqual(['coingecko:unknown_feed', 'pyth:unknown_feed']);
    expect(problems(h, 'SOL-PERP')).toBeUndefined();
    // The missing CoinGecko id, polled twice a second, is logged once (then with a count once a minute).
    await sleep(5_000);
    const lines = worker.output().split('\n').filter((l) => l.includes('coingecko_ids_missing'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(2);
  }, 90_000);

  it('says unauthorized, per market, when the Hermes API key is wrong — and the fallback serves meanwhile', async () => {
    await worker.kill();
    worker = startProcess('workers/ingest/main.ts', { ...env, QD_HERMES_API_KEY: 'a-wrong-key-0123456789' });
    const h = await waitFor('Pyth unauthorized', async () => {
      const x = await health();
      return problems(x, 'SOL-PERP')?.includes('pyth:unauthorized') ? x : undefined;
    }, 60_000, 500);
    const detail = h.degraded.find((d) => d.symbol === 'SOL-PERP')!.sources!.find((s) => s.source === 'pyth')!.detail;
    expect(detail).toMatch(/401/);
    expect(detail).not.toContain('a-wrong-key');
    await waitFor('CoinGecko served', async () => {
      const r = (await (await fetch(`${gatewayUrl}/api/prices/SOL-PERP`)).json()) as { price?: { source: string; stale: boolean } };
      return r.price?.source === 'coingecko' && !r.price.stale ? true : undefined;
    }, 30_000, 500);
  }, 120_000);
});
