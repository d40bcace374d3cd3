import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import type { Connection as MongoConnection } from 'mongoose';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, LiquidationAlert, MarginWarning, ServerToClientEvents } from '../contracts/socket.ts';
import { decodeKeeper, decodePosition, keeperAddress } from '../programs/client/quantdesk-perp.ts';
import { createLogger } from '../runtime/logger.ts';
import { startEmbeddedChain, type EmbeddedChain } from '../sandbox/chain/chain.ts';
import { quantdeskBootstrapSteps } from '../sandbox/chain/quantdesk-bootstrap.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore, type MongoStore } from '../store/mongo/store.ts';
import { createTestNamespace, endSystemWorkflows, startProcess, testDatabaseUri, testMarkets, uniqueName, waitFor, type ChildHandle } from './support.ts';
import { startTestGateway } from './test-gateway.ts';

/**
 * Liquidations on the real path: simulator → ingest → bus → keeper's scanner → liquidationSaga on
 * the keeper worker → `liquidate` on the localnet (our program, the keeper network) → the record in
 * the store and the trader's alert through the wallet room of a gateway.
 */
const markets = testMarkets();
const dir = mkdtempSync(join(tmpdir(), 'qd-liq-'));
const busPrefix = uniqueName('qd-liq-test');

let sim: MarketSim;
let localnet: EmbeddedChain;
let db: MongoConnection;
let store: MongoStore;
let testGateway: Awaited<ReturnType<typeof startTestGateway>>;
let namespace: string;
let env: Record<string, string>;
const workers: ChildHandle[] = [];
const ownerOf = (trader: string) => manifest.traders.find((t) => t.name === trader)!.publicKey;

interface ManifestPosition {
  trader: string;
  symbol: string;
  position: string;
  side: 'long' | 'short';
  nearLiquidation: boolean;
}
let manifest: { traders: { name: string; publicKey: string }[]; accounts: Record<string, string>; quantdesk: { positions: ManifestPosition[]; keepers: { name: string; publicKey: string }[]; insuranceFund: string } };

beforeAll(async () => {
  sim = createMarketSim({ port: 0, seed: 21, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  localnet = await startEmbeddedChain({
    slotMs: 200,
    dataDir: join(dir, 'localnet'),
    logger: createLogger('localnet', 'warn'),
    bootstrap: quantdeskBootstrapSteps({ hermesUrl: sim.url }),
  });
  manifest = JSON.parse(readFileSync(join(dir, 'localnet', 'manifest.json'), 'utf8'));
  const dbName = uniqueName('qd-liq');
  db = await openStore(testDatabaseUri(dbName));
  store = createMongoStore(db, markets);
  await store.ensureIndexes();
  testGateway = await startTestGateway({ markets, store, busPrefix });
  namespace = uniqueName('liq');
  await createTestNamespace(namespace);
  env = {
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
    QD_LOG_LEVEL: 'info',
  };
  workers.push(startProcess('workers/ingest/main.ts', env), startProcess('workers/sync/main.ts', env), startProcess('workers/keeper/main.ts', env));
}, 240_000);

afterAll(async () => {
  await endSystemWorkflows(namespace, markets, manifest?.quantdesk.keepers);
  await Promise.all(workers.map((w) => w.kill()));
  await testGateway?.close();
  await localnet?.stop();
  await db?.close();
  await sim?.stop();
}, 60_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error(`keeper worker output (tail):\n${workers[2]!.output().split('\n').slice(-60).join('\n')}`);
});

describe('liquidations', () => {
  it('a price drop makes demo positions liquidatable: each is liquidated once, fees paid, the trader warned and told', async () => {
    const target = manifest.quantdesk.positions.find((p) => p.nearLiquidation && p.symbol === 'SOL-PERP' && p.side === 'long')!;
    expect(target).toBeDefined();
    const owner = ownerOf(target.trader);
    const connection = new Connection(localnet.rpcUrl, 'confirmed');
    const keeper = new PublicKey(manifest.quantdesk.keepers[0]!.publicKey);
    const keeperBefore = decodeKeeper((await connection.getAccountInfo(keeperAddress(keeper, new PublicKey(localnet.manifest.quantdesk!.programId))))!.data);
    const fundBefore = BigInt((await connection.getTokenAccountBalance(new PublicKey(manifest.quantdesk.insuranceFund))).value.amount);
    const before = decodePosition((await connection.getAccountInfo(new PublicKey(target.position)))!.data);

    const client: Socket<ServerToClientEvents, ClientToServerEvents> = io(testGateway.url, { transports: ['websocket'] });
    const warnings: MarginWarning[] = [];
    const alerts: LiquidationAlert[] = [];
    client.on('margin-warning', (w) => warnings.push(w));
    client.on('liquidation', (a) => alerts.push(a));
    expect(await client.timeout(5_000).emitWithAck('watch-wallet', owner)).toEqual({ ok: true });
    try {
      // Wait until the sync pushed and the keeper's scanner follows, then drop SOL by 6 %.
      await waitFor('the keeper scanning', () => workers[2]!.output().includes('worker_started') || undefined, 60_000);
      sim.control.bias('pyth', -600, ['SOL-PERP']);
      sim.control.bias('coingecko', -600, ['SOL-PERP']);
      const done = await waitFor('the saga done', async () => (await store.liquidations.byWallet(owner, 10)).find((l) => l.position === target.position && l.state === 'done'), 90_000, 500);
      expect(['liquidated', 'partially-liquidated']).toContain(done.result?.outcome);
      expect(done.result?.keeper).toBe(keeper.toBase58());
      expect(BigInt(done.result!.keeperFee!)).toBeGreaterThan(0n);
      expect(BigInt(done.result!.insuranceFee!)).toBeGreaterThan(0n);

      // On-chain: the position shrank (or closed) by what the saga recorded, the keeper's stats moved, the fund got its share.
      const after = decodePosition((await connection.getAccountInfo(new PublicKey(target.position)))!.data);
      expect(before.size - after.size).toBe(BigInt(done.result!.sizeLiquidated!));
      const keeperAfter = decodeKeeper((await connection.getAccountInfo(keeperAddress(keeper, new PublicKey(localnet.manifest.quantdesk!.programId))))!.data);
      expect(keeperAfter.liquidations).toBeGreaterThan(keeperBefore.liquidations);
      expect(keeperAfter.rewardsEarned).toBeGreaterThan(keeperBefore.rewardsEarned);
      const fundAfter = BigInt((await connection.getTokenAccountBalance(new PublicKey(manifest.quantdesk.insuranceFund))).value.amount);
      expect(fundAfter).toBeGreaterThan(fundBefore);

      // The trader was warned, then told, live; both are in their history.
      await waitFor('the liquidation alert', () => alerts.find((a) => a.position === target.position), 10_000);
      expect(warnings.some((w) => w.position === target.position)).toBe(true);
      const history = await store.alerts.byWallet(owner, 20);
      expect(history.map((h) => h.kind)).toEqual(expect.arrayContaining(['margin-warning', 'liquidation']));

      // Exactly once: one done saga per trade (and liquidation round), and as many as the keeper's count moved.
      const all = (await Promise.all(manifest.quantdesk.positions.map((p) => store.liquidations.byWallet(ownerOf(p.trader), 50)))).flat();
      const doneIds = [...new Set(all.filter((l) => l.state === 'done' && l.result?.keeper === keeper.toBase58()).map((l) => l._id))];
      const keeperNow = decodeKeeper((await connection.getAccountInfo(keeperAddress(keeper, new PublicKey(localnet.manifest.quantdesk!.programId))))!.data);
      expect(BigInt(doneIds.length)).toBe(keeperNow.liquidations - keeperBefore.liquidations);
    } finally {
      client.close();
      sim.control.reset();
    }
  }, 180_000);
});
