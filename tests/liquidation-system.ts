import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection as MongoConnection } from 'mongoose';
import { createLogger } from '../runtime/logger.ts';
import { startEmbeddedChain } from '../sandbox/chain/chain.ts';
import { quantdeskBootstrapSteps } from '../sandbox/chain/quantdesk-bootstrap.ts';
import { createMarketSim } from '../sandbox/market-sim/market-sim.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore, type MongoStore } from '../store/mongo/store.ts';
import type { LiquidationDoc } from '../store/roles.ts';
import { startRpcProxy } from './rpc-proxy.ts';
import { createTestNamespace, endSystemWorkflows, startProcess, testDatabaseUri, testMarkets, uniqueName, type ChildHandle } from './support.ts';

/**
 * The liquidation system on the real path, for tests and the benchmark: the simulator, a localnet
 * with the keeper network (and a crowd of near-liquidation longs in SOL-PERP when asked), the
 * ingest and sync workers, and N keeper workers — optionally behind an RPC proxy (faults, latency).
 */
const markets = testMarkets();

export interface LiquidationManifest {
  traders: { name: string; publicKey: string }[];
  quantdesk: { programId: string; positions: { trader: string; symbol: string; position: string; side: string; nearLiquidation: boolean }[]; keepers: { name: string; publicKey: string; keypair: string }[] };
}

/** `slotMs`: the chain's slot time (200 ms by default, to keep tests short; the benchmark uses mainnet's 400). */
export async function liquidationSystem(o: { crowd?: number; keepers: number; proxied?: boolean; rpcLatencyMs?: number; keeperConcurrency?: number; slotMs?: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'qd-keepers-'));
  const busPrefix = uniqueName('qd-keepers');
  const sim = createMarketSim({ port: 0, seed: 5, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  const localnet = await startEmbeddedChain({
    slotMs: o.slotMs ?? 200,
    dataDir: join(dir, 'localnet'),
    logger: createLogger('localnet', 'warn'),
    bootstrap: quantdeskBootstrapSteps({ hermesUrl: sim.url, keepers: o.keepers, traders: 3 + (o.crowd ?? 0), ...(o.crowd && { crowd: { symbol: 'SOL-PERP', count: o.crowd } }) }),
  });
  const manifest = JSON.parse(readFileSync(join(dir, 'localnet', 'manifest.json'), 'utf8')) as LiquidationManifest;
  const proxy = o.proxied || o.rpcLatencyMs ? await startRpcProxy(localnet.rpcUrl, { ...(o.rpcLatencyMs && { latencyMs: o.rpcLatencyMs }) }) : undefined;
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
    QD_PROGRAM_ID: localnet.manifest.quantdesk!.programId,
    QD_SOLANA_WS_URL: localnet.wsUrl,
    QD_SOLANA_COMMITMENT: 'confirmed',
    QD_BUS_PREFIX: busPrefix,
    QD_DATA_DIR: dir,
    QD_LOG_LEVEL: process.env.QD_TEST_WORKER_LOG_LEVEL ?? 'info',
  };
  const keeperEnv = (i: number) => ({
    ...env,
    QD_KEEPER_KEYPAIR: manifest.quantdesk.keepers[i]!.keypair,
    ...(proxy && { QD_SOLANA_RPC_URL: proxy.url }),
    ...(o.keeperConcurrency && { QD_KEEPER_CONCURRENCY: String(o.keeperConcurrency) }),
  });
  const processes: ChildHandle[] = [startProcess('workers/ingest/main.ts', env), startProcess('workers/sync/main.ts', env)];
  const keepers = Array.from({ length: o.keepers }, (_, i) => startProcess('workers/keeper/main.ts', keeperEnv(i)));
  const ownerOf = (trader: string) => manifest.traders.find((t) => t.name === trader)!.publicKey;
  const docsOf = async (positions: LiquidationManifest['quantdesk']['positions']): Promise<LiquidationDoc[]> =>
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
      await endSystemWorkflows(namespace, markets, manifest.quantdesk.keepers);
      await Promise.all([...processes, ...keepers].map((p) => p.kill()));
      await proxy?.close();
      await localnet.stop();
      await db.close();
      await sim.stop();
    },
  };
}

