import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import type { Connection as MongoConnection } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_WORKFLOW_ID, ingestWorkflowId, scannerWorkflowId } from '../contracts/temporal.ts';
import { decodeKeeper, keeperAddress } from '../programs/client/quantdesk-perp.ts';
import { createLogger } from '../runtime/logger.ts';
import { startLocalnet, type Localnet } from '../sandbox/localnet/localnet.ts';
import { quantdeskBootstrapSteps } from '../sandbox/localnet/quantdesk-bootstrap.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore, type MongoStore } from '../store/mongo/store.ts';
import type { LiquidationDoc } from '../store/roles.ts';
import { connectClient } from '../temporal/connection.ts';
import { startRpcProxy } from './rpc-proxy.ts';
import { createTestNamespace, startProcess, testConfig, testDatabaseUri, testMarkets, uniqueName, waitFor, type ChildHandle } from './support.ts';

/**
 * Keepers that scale by adding workers, and sagas that hold up under faults, on the real path
 * (simulator, ingest and sync workers, the localnet with the keeper network, keeper workers):
 *  - two keeper workers with two scanners race over 50 underwater positions, one of them killed
 *    mid-way: every position is liquidated, each trade once;
 *  - the price recovers before the transaction lands: the program refuses, compensation runs,
 *    the outcome is `healthy-again`;
 *  - the RPC fails on the send step: retries, then compensation; the claim is released, a later
 *    scan liquidates.
 */
const markets = testMarkets();
const CROWD = 50;

interface Manifest {
  traders: { name: string; publicKey: string }[];
  quantdesk: { positions: { trader: string; symbol: string; position: string; side: string; nearLiquidation: boolean }[]; keepers: { name: string; publicKey: string; keypair: string }[] };
}

async function system(o: { crowd?: number; keepers: number; proxied?: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'qd-keepers-'));
  const busPrefix = uniqueName('qd-keepers');
  const sim = createMarketSim({ port: 0, seed: 5, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  const localnet = await startLocalnet({
    httpPort: 0,
    wsPort: 0,
    slotMs: 200,
    dataDir: join(dir, 'localnet'),
    logger: createLogger('localnet', 'warn'),
    bootstrap: quantdeskBootstrapSteps({ hermesUrl: sim.url, keepers: o.keepers, traders: 3 + (o.crowd ?? 0), ...(o.crowd && { crowd: { symbol: 'SOL-PERP', count: o.crowd } }) }),
  });
  const manifest = JSON.parse(readFileSync(join(dir, 'localnet', 'manifest.json'), 'utf8')) as Manifest;
  const proxy = o.proxied ? await startRpcProxy(localnet.rpcUrl) : undefined;
  const dbName = uniqueName('qd-keepers');
  const db: MongoConnection = await openStore(testDatabaseUri(dbName));
  const store: MongoStore = createMongoStore(db, markets);
  await store.ensureIndexes();
  const namespace = uniqueName('keepers');
  await createTestNamespace(namespace);
  const env = {
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: testDatabaseUri(dbName),
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_SOLANA_RPC_URL: localnet.rpcUrl,
    QD_SOLANA_WS_URL: localnet.wsUrl,
    QD_SOLANA_COMMITMENT: 'confirmed',
    QD_BUS_PREFIX: busPrefix,
    QD_DATA_DIR: dir,
    QD_LOG_LEVEL: 'info',
  };
  const keeperEnv = (i: number) => ({ ...env, QD_KEEPER_KEYPAIR: manifest.quantdesk.keepers[i]!.keypair, ...(proxy && { QD_SOLANA_RPC_URL: proxy.url }) });
  const processes: ChildHandle[] = [startProcess('workers/ingest/main.ts', env), startProcess('workers/sync/main.ts', env)];
  const keepers = Array.from({ length: o.keepers }, (_, i) => startProcess('workers/keeper/main.ts', keeperEnv(i)));
  const ownerOf = (trader: string) => manifest.traders.find((t) => t.name === trader)!.publicKey;
  const docsOf = async (positions: Manifest['quantdesk']['positions']): Promise<LiquidationDoc[]> =>
    (await Promise.all([...new Set(positions.map((p) => ownerOf(p.trader)))].map((w) => store.liquidations.byWallet(w, 200)))).flat();
  return {
    sim,
    localnet,
    proxy,
    store,
    manifest,
    keepers,
    ownerOf,
    docsOf,
    restartKeeper: (i: number) => (keepers[i] = startProcess('workers/keeper/main.ts', keeperEnv(i))),
    async stop() {
      const client = await connectClient({ ...testConfig.temporal, namespace }).catch(() => undefined);
      const ids = [SYNC_WORKFLOW_ID, ...[...markets.groups().keys()].map(ingestWorkflowId), ...manifest.quantdesk.keepers.map((k) => scannerWorkflowId(k.publicKey))];
      for (const id of ids) await client?.workflow.getHandle(id).terminate('test over').catch(() => undefined);
      await client?.schedule.getHandle('liquidation-scan').delete().catch(() => undefined);
      await client?.connection.close();
      await Promise.all([...processes, ...keepers].map((p) => p.kill()));
      await proxy?.close();
      await localnet.stop();
      await db.close();
      await sim.stop();
    },
  };
}

describe('keepers racing', () => {
  let s: Awaited<ReturnType<typeof system>>;
  beforeAll(async () => {
    s = await system({ crowd: CROWD, keepers: 2 });
  }, 300_000);
  afterAll(() => s?.stop(), 60_000);
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') for (const k of s.keepers) console.error(`keeper output (tail):\n${k.output().split('\n').slice(-30).join('\n')}`);
  });

  it('two keepers and two scanners over 50 underwater positions: every one liquidated, each trade once, even with a keeper killed mid-way', async () => {
    const crowd = s.manifest.quantdesk.positions.filter((p) => p.symbol === 'SOL-PERP' && Number(p.trader.slice('trader-'.length)) > 3);
    expect(crowd).toHaveLength(CROWD);
    const connection = new Connection(s.localnet.rpcUrl, 'confirmed');
    const stats = async () =>
      Promise.all(s.manifest.quantdesk.keepers.map(async (k) => decodeKeeper((await connection.getAccountInfo(keeperAddress(new PublicKey(k.publicKey))))!.data).liquidations));
    const before = await stats();
    for (const k of s.keepers) await waitFor('keepers started', () => k.output().includes('worker_started') || undefined, 90_000);
    s.sim.control.bias('pyth', -600, ['SOL-PERP']);
    s.sim.control.bias('coingecko', -600, ['SOL-PERP']);
    const done = (docs: LiquidationDoc[]) => docs.filter((d) => d.state === 'done' && crowd.some((p) => p.position === d.position));
    // Kill the second keeper mid-way; its sagas in flight are taken over by the first (and by it once restarted).
    await waitFor('a few done', async () => done(await s.docsOf(crowd)).length >= 5 || undefined, 120_000, 500);
    await s.keepers[1]!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 3_000));
    s.restartKeeper(1);
    const all = await waitFor('every crowd position liquidated', async () => {
      const d = done(await s.docsOf(crowd));
      return new Set(d.map((x) => x.position)).size === CROWD ? d : undefined;
    }, 240_000, 1_000).catch(async (e: Error) => {
      // Say which were not, and what their sagas said.
      const docs = await s.docsOf(crowd);
      const missing = crowd.filter((p) => !docs.some((d) => d.position === p.position && d.state === 'done'));
      const summary = missing.map((p) => `${p.position}: ${docs.filter((d) => d.position === p.position).map((d) => `${d._id} ${d.state} ${d.result?.outcome ?? ''} ${d.attempts.map((a) => a.reason).join('|')}`).join('; ') || 'no saga'}`);
      throw new Error(`${e.message}; ${missing.length} not liquidated:\n${summary.slice(0, 10).join('\n')}`);
    });
    // Each trade (and liquidation round) once: as many done sagas as liquidations the keepers counted.
    const ids = all.map((d) => d._id);
    expect(new Set(ids).size).toBe(ids.length);
    // Demo positions in SOL go too (a trader's other near one): count every done saga.
    const everyDone = (await s.docsOf(s.manifest.quantdesk.positions)).filter((d) => d.state === 'done');
    const after = await stats();
    const counted = after.reduce((n, x, i) => n + (x - before[i]!), 0n);
    expect(counted).toBe(BigInt(new Set(everyDone.map((d) => d._id)).size));
    // Both keepers liquidated: the queue is shared.
    expect(after.every((x, i) => x > before[i]!)).toBe(true);
  }, 420_000);
});

describe('sagas under faults', () => {
  let s: Awaited<ReturnType<typeof system>>;
  beforeAll(async () => {
    s = await system({ keepers: 1, proxied: true });
    await waitFor('keeper started', () => s.keepers[0]!.output().includes('worker_started') || undefined, 90_000);
  }, 300_000);
  afterAll(() => s?.stop(), 60_000);
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(`keeper output (tail):\n${s.keepers[0]!.output().split('\n').slice(-40).join('\n')}`);
  });

  const near = (symbol: string) => s.manifest.quantdesk.positions.find((p) => p.symbol === symbol && p.side === 'long' && p.nearLiquidation)!;

  it('the price recovers before the transaction lands: the program refuses, compensation runs, outcome healthy-again', async () => {
    const target = near('ETH-PERP');
    const owner = s.ownerOf(target.trader);
    // The keeper's transaction waits at the RPC while the price comes back.
    s.proxy!.setHold('simulateTransaction', 6_000);
    s.sim.control.bias('pyth', -600, ['ETH-PERP']);
    s.sim.control.bias('coingecko', -600, ['ETH-PERP']);
    await waitFor('the claim', async () => (await s.store.liquidations.byWallet(owner, 20)).find((d) => d.position === target.position && d.state === 'claimed'), 60_000, 200);
    s.sim.control.bias('pyth', 0, ['ETH-PERP']);
    s.sim.control.bias('coingecko', 0, ['ETH-PERP']);
    const doc = await waitFor('healthy again', async () => (await s.store.liquidations.byWallet(owner, 20)).find((d) => d.position === target.position && d.result?.outcome === 'healthy-again'), 60_000, 500);
    expect(doc.state).toBe('released');
    expect(doc.attempts.at(-1)?.reason).toBe('PositionHealthy');
    s.proxy!.setHold('simulateTransaction', 0);
  }, 150_000);

  it('the RPC fails on the send step: retries, compensation releases the claim, a later scan liquidates', async () => {
    const target = near('BTC-PERP');
    const owner = s.ownerOf(target.trader);
    s.proxy!.setFailing(['sendTransaction']);
    s.sim.control.bias('pyth', -600, ['BTC-PERP']);
    s.sim.control.bias('coingecko', -600, ['BTC-PERP']);
    const failed = await waitFor('a failed attempt, compensated', async () => (await s.store.liquidations.byWallet(owner, 20)).find((d) => d.position === target.position && d.attempts.length > 0), 90_000, 500);
    expect(failed.attempts[0]!.reason).toMatch(/503|overloaded|unreachable/i);
    s.proxy!.setFailing([]);
    const done = await waitFor('liquidated by a later saga', async () => (await s.store.liquidations.byWallet(owner, 20)).find((d) => d.position === target.position && d.state === 'done'), 90_000, 500);
    expect(['liquidated', 'partially-liquidated']).toContain(done.result?.outcome);
    expect(done.attempts.length).toBeGreaterThan(0);
  }, 200_000);
});
