import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, PublicKey } from '@solana/web3.js';
import type { Connection as MongoConnection } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_WORKFLOW_ID, ingestWorkflowId, syncStatusQuery } from '../contracts/temporal.ts';
import { indexMarkets, marketRegistrySchema, type MarketRegistry } from '../domain/markets.ts';
import { decodeMarket, marketAddress } from '../programs/client/quantdesk-perp.ts';
import { createLogger } from '../runtime/logger.ts';
import { startEmbeddedChain, type EmbeddedChain } from '../sandbox/chain/chain.ts';
import { quantdeskBootstrapSteps } from '../sandbox/chain/quantdesk-bootstrap.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import type { Gateway } from '../server/app.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore, type MongoStore } from '../store/mongo/store.ts';
import type { PushDoc } from '../store/roles.ts';
import { connectClient } from '../temporal/connection.ts';
import { startRpcProxy } from './rpc-proxy.ts';
import { ROOT, createTestNamespace, startProcess, testConfig, testDatabaseUri, uniqueName, waitFor, type ChildHandle } from './support.ts';
import { startTestGateway } from './test-gateway.ts';

/**
 * The on-chain sync end to end: simulator → ingest worker → FerretDB → sync worker → localnet
 * (LiteSVM with our program), every part real and in its own process where it would be in production.
 */
const busPrefix = uniqueName('qd-sync-test');
const dir = mkdtempSync(join(tmpdir(), 'qd-sync-'));

// The shipped registry with test-sized push policies: SOL moves on small deviations (2 bps; the
// simulator's SOL moves ~1.5 bps a second), ETH only on a heartbeat, all with a 4 s heartbeat.
const registry: MarketRegistry = marketRegistrySchema.parse(JSON.parse(readFileSync(join(ROOT, 'config/markets.json'), 'utf8')));
for (const m of registry.markets) {
  m.push =
    m.symbol === 'ETH-PERP'
      ? { deviationBps: 10_000, confChangeBps: 10_000, heartbeatSec: 4 }
      : { ...m.push, heartbeatSec: 4, ...(m.symbol === 'SOL-PERP' && { deviationBps: 2 }) };
}
const marketsFile = join(dir, 'markets.json');
writeFileSync(marketsFile, JSON.stringify(registry));
const markets = indexMarkets(registry);
const SOL = markets.bySymbol('SOL-PERP')!;
const ETH = markets.bySymbol('ETH-PERP')!;

let sim: MarketSim;
let localnet: EmbeddedChain;
let gateway: Gateway;
let db: MongoConnection;
let store: MongoStore;
let testGateway: Awaited<ReturnType<typeof startTestGateway>>;
let ingest: ChildHandle;
let sync: ChildHandle;
let proxy: Awaited<ReturnType<typeof startRpcProxy>>;
let env: Record<string, string>;
let namespace: string;

const bootLocalnet = (rpcPort = 0, wsPort?: number) =>
  startEmbeddedChain({
    rpcPort,
    ...(wsPort !== undefined && { wsPort }),
    slotMs: 200,
    dataDir: join(dir, 'localnet'),
    logger: createLogger('localnet', 'warn'),
    bootstrap: quantdeskBootstrapSteps({ hermesUrl: sim.url, markets: marketsFile, traders: 1 }),
  });

async function onChain(symbol: string) {
  const info = await new Connection(localnet.rpcUrl, 'confirmed').getAccountInfo(marketAddress(symbol, new PublicKey(localnet.manifest.quantdesk!.programId)));
  return decodeMarket(info!.data);
}

async function syncStatus() {
  const client = await connectClient({ ...testConfig.temporal, namespace });
  try {
    return await client.workflow.getHandle(SYNC_WORKFLOW_ID).query(syncStatusQuery);
  } finally {
    await client.connection.close();
  }
}

const startSync = () => startProcess('workers/sync/main.ts', { ...env, QD_SOLANA_RPC_URL: proxy.url });

beforeAll(async () => {
  sim = createMarketSim({ port: 0, seed: 9, registry, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  localnet = await bootLocalnet();
  proxy = await startRpcProxy(localnet.rpcUrl);
  const dbName = uniqueName('qd-sync');
  db = await openStore(testDatabaseUri(dbName));
  store = createMongoStore(db, markets);
  await store.ensureIndexes();
  testGateway = await startTestGateway({ markets, store, busPrefix });
  gateway = testGateway.gateway;
  namespace = uniqueName('sync');
  await createTestNamespace(namespace);
  env = {
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: testDatabaseUri(dbName),
    QD_MARKETS_FILE: marketsFile,
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_BUS_PREFIX: busPrefix,
    QD_DATA_DIR: join(dir, 'data'),
    QD_ORACLE_AUTHORITY_KEYPAIR: join(dir, 'localnet', 'keys', 'oracle-authority.json'),
    QD_PROGRAM_ID: localnet.manifest.quantdesk!.programId,
    QD_SOLANA_COMMITMENT: 'confirmed',
    QD_LOG_LEVEL: 'info',
  };
  ingest = startProcess('workers/ingest/main.ts', env);
  sync = startSync();
}, 180_000);

afterAll(async () => {
  const client = await connectClient({ ...testConfig.temporal, namespace }).catch(() => undefined);
  for (const id of [SYNC_WORKFLOW_ID, ...[...markets.groups().keys()].map(ingestWorkflowId)]) await client?.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  await client?.connection.close();
  await Promise.all([sync?.kill(), ingest?.kill()]);
  await proxy?.close();
  await testGateway?.close();
  await localnet?.stop();
  await db?.close();
  await sim?.stop();
}, 60_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error(`sync worker output (tail):\n${sync.output().split('\n').slice(-40).join('\n')}`);
});

/** A market's push records, newest first. */
const pushesOf = (symbol: string) => store.pushes.recent(symbol, 1_000);
const allPushes = async () => (await Promise.all(markets.all.map((m) => pushesOf(m.symbol)))).flat();
const first = <T>(list: T[], p: (x: T) => boolean) => list.find(p);

describe('on-chain sync', () => {
  it('pushes on deviation, and the chain holds exactly a stored price', async () => {
    const record = await waitFor('a confirmed deviation push for SOL', () =>
      pushesOf('SOL-PERP').then((d) => first(d, (x) => x.outcome === 'confirmed' && x.triggers.includes('deviation'))),
      60_000,
      250,
    );
    expect(record.signature).toMatch(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/);
    expect(record.slot).toBeGreaterThan(0);
    expect(record.feeLamports).toBeGreaterThan(0);
    expect(record.latencyMs).toBeGreaterThan(0);

    // Whatever the chain holds now is, to the last digit, a price the ingestion stored.
    const m = await onChain('SOL-PERP');
    const stored = await waitFor('the stored update', async () =>
      (await store.history.updates(SOL.pythFeedId, Number(m.publishTime), Number(m.publishTime))).find((r) => r.source === 'pyth' && r.price === m.price.toString()),
    );
    expect(stored).toMatchObject({ source: 'pyth', price: m.price.toString(), conf: m.conf.toString(), expo: m.expo, publishTime: Number(m.publishTime) });
  }, 90_000);

  it('pushes a price only a heartbeat can move, once per heartbeat', async () => {
    await waitFor('two heartbeat pushes for ETH', () =>
      pushesOf('ETH-PERP').then((d) => d.filter((x) => x.outcome === 'confirmed').length >= 2 || undefined),
      30_000,
      250,
    );
    const eth = (await pushesOf('ETH-PERP')).filter((x) => x.outcome === 'confirmed');
    const bootPushed = eth.filter((d) => !d.triggers.includes('initial'));
    expect(bootPushed.length).toBeGreaterThanOrEqual(1);
    for (const d of bootPushed) expect(d.triggers).toEqual(['heartbeat']);
    const times = eth.map((d) => d.publishTime).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(ETH.push.heartbeatSec - 1);
    // Operators see it in the workflow's status (reported every few seconds).
    const status = await waitFor('the status to show it', async () => {
      const s = await syncStatus();
      return s.markets['ETH-PERP']?.lastTrigger === 'heartbeat' ? s : undefined;
    });
    expect(status.health).toBe('ok');
    expect(status.markets['ETH-PERP']?.lastOutcome).toBe('confirmed');
  }, 60_000);

  it('survives a crash mid-batch: the resent batch is refused as a replay and recorded so, nothing applied twice', async () => {
    proxy.setSwallow(true);
    await waitFor('a batch sent but never answered', () => (proxy.swallowed.length > 0 ? true : undefined), 30_000, 50);
    const [inflight] = await waitFor('its in-flight record', () => store.pushes.pendingInflight().then((d) => (d.length ? d : undefined)));
    await sync.kill('SIGKILL');
    proxy.setSwallow(false);
    // The batch did land: the chain holds its prices.
    for (const u of inflight!.updates) {
      const m = await onChain(u.symbol);
      expect(Number(m.publishTime)).toBeGreaterThanOrEqual(u.publishTime);
    }
    sync = startSync();
    const replay = await waitFor('the resent batch recorded', () =>
      allPushes().then((d) => {
        const found = d.filter((x: PushDoc) => x.batchId === inflight!._id && x.attempt === inflight!.attempt + 1);
        return found.length ? found : undefined;
      }),
      60_000,
      250,
    );
    for (const r of replay) {
      expect(r.outcome).toBe('replay_rejected');
      expect(r.triggers).toEqual(['recovery']);
      expect(r.error).toMatch(/PublishTime(Duplicate|Regressed)/);
    }
    await waitFor('the in-flight record cleared', async () => !(await store.pushes.pendingInflight()).some((d) => d._id === inflight!._id) || undefined);
    // Never two confirmations of one price.
    const confirmed = (await allPushes()).filter((d) => d.outcome === 'confirmed');
    const keys = confirmed.map((d) => `${d.symbol}:${d.publishTime}`);
    expect(new Set(keys).size).toBe(keys.length);
  }, 120_000);

  it('never pushes a stale price', async () => {
    sim.control.kill('pyth');
    sim.control.kill('coingecko');
    await waitFor('SOL served as stale', () => store.latest.latest([SOL.pythFeedId]).then(([d]) => d?.stale || undefined), 20_000);
    const heldAt = Number((await onChain('SOL-PERP')).publishTime);
    await waitFor('a skip recorded as stale', () => pushesOf('SOL-PERP').then((d) => first(d, (x) => x.outcome === 'skipped' && /stale/.test(x.error ?? ''))), 15_000);
    await sleep(3_000);
    expect(Number((await onChain('SOL-PERP')).publishTime)).toBe(heldAt);
    expect((await syncStatus()).markets['SOL-PERP']?.holding).toBe('stale');
    sim.control.reset();
    await waitFor('SOL pushed again after recovery', async () => Number((await onChain('SOL-PERP')).publishTime) > heldAt || undefined, 30_000, 250);
  }, 90_000);

  it('goes down visibly while the RPC is unreachable and resumes by itself when it returns', async () => {
    const { rpcPort, wsPort } = localnet.surfnet;
    await localnet.stop();
    const downAt = Date.now();
    await waitFor('sync reported down', async () => (await syncStatus()).health === 'down' || undefined, 30_000, 250);
    expect(gateway.hub.statusOf('SOL-PERP')?.chain?.health).toBe('down');
    // The same chain again (a fresh boot of it), on the same ports.
    localnet = await bootLocalnet(rpcPort, wsPort);
    await waitFor('pushes after the RPC returned', () =>
      pushesOf('SOL-PERP').then((d) => first(d, (x) => x.outcome === 'confirmed' && x.recordedAt.getTime() > downAt)),
      60_000,
      250,
    );
    await waitFor('sync healthy again', async () => (await syncStatus()).health === 'ok' || undefined, 30_000, 250);
    expect(gateway.hub.statusOf('SOL-PERP')?.chain?.health).toBe('ok');
  }, 150_000);
});
