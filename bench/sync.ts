// `npm run bench -- sync`: how fast a price the simulator publishes is on-chain.
// 20 markets, deviation 0.1 % and heartbeat 10 s (the issue's setting), through the real path:
// simulator → ingest worker → FerretDB → sync worker → localnet (LiteSVM with our program).
// Measured at the chain: each market account change is decoded and matched to the simulator's
// publish of that exact price. Also: transactions and compute units per market update.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@solana/web3.js';
import { openStore } from '../activities/store/connection.ts';
import { createPushStore } from '../activities/store/pushes.ts';
import { decodeMarket, marketAddress } from '../programs/client/quantdesk-perp.ts';
import { createLogger } from '../runtime/logger.ts';
import { startLocalnet } from '../sandbox/localnet/localnet.ts';
import { quantdeskBootstrapSteps } from '../sandbox/localnet/quantdesk-bootstrap.ts';
import { createMarketSim } from '../sandbox/market-sim/market-sim.ts';
import { TEST_ENV } from '../scripts/test-services.ts';
import { connectClient } from '../temporal/connection.ts';
import { ensureNamespace, registerSearchAttributes } from '../temporal/admin.ts';
import { startProcess, type ChildHandle } from '../tests/support.ts';
import { percentile, registryOf, rssMb } from './support.ts';

export async function runSyncBench(measureSeconds = 30): Promise<void> {
  const FEEDS = 20;
  const registry = registryOf(FEEDS, { deviationBps: 10, heartbeatSec: 10, confChangeBps: 2_000 });
  const dir = mkdtempSync(join(tmpdir(), 'qd-bench-sync-'));
  const marketsFile = join(dir, 'markets.json');
  writeFileSync(marketsFile, JSON.stringify(registry));
  const sim = createMarketSim({ port: 0, seed: 11, registry, logLevel: 'warn' });
  await sim.start();
  const localnet = await startLocalnet({
    httpPort: 0,
    dataDir: join(dir, 'localnet'),
    logger: createLogger('localnet', 'warn'),
    bootstrap: quantdeskBootstrapSteps({ hermesUrl: sim.url, markets: marketsFile, traders: 0 }),
  });
  const namespace = `bench-sync-${Date.now().toString(36)}`;
  await ensureNamespace(TEST_ENV.QD_TEMPORAL_ADDRESS, namespace);
  const temporal = await connectClient({ address: TEST_ENV.QD_TEMPORAL_ADDRESS, namespace, uiUrl: '' });
  await registerSearchAttributes(temporal, namespace);
  const mongoUri = TEST_ENV.QD_MONGODB_URI.replace(/[^/]+$/, namespace);
  const env = {
    ...TEST_ENV,
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: mongoUri,
    QD_MARKETS_FILE: marketsFile,
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_SOLANA_RPC_URL: localnet.rpcUrl,
    QD_SOLANA_WS_URL: localnet.wsUrl,
    QD_ORACLE_AUTHORITY_KEYPAIR: join(dir, 'localnet', 'keys', 'oracle-authority.json'),
    QD_INTERNAL_TOKEN: 'bench-internal-token-0123456789',
    QD_GATEWAY_URL: 'http://127.0.0.1:9',
    QD_LOG_LEVEL: 'warn',
  };
  const children: ChildHandle[] = [startProcess('workers/ingest/main.ts', env), startProcess('workers/sync/main.ts', env)];
  const connection = new Connection(localnet.rpcUrl, { commitment: 'confirmed', wsEndpoint: localnet.wsUrl });
  const latencies: number[] = [];
  let unknown = 0;
  let measuring = false;
  const started = Date.now();
  const subscriptions = registry.markets.map((m) =>
    connection.onAccountChange(marketAddress(m.symbol), (info) => {
      if (!measuring) return;
      const a = decodeMarket(info.data);
      const at = sim.publishedAt(m.pythFeedId, Number(a.publishTime), a.price.toString());
      if (at === undefined) unknown += 1;
      else latencies.push(Date.now() - at);
    }),
  );
  try {
    process.stdout.write(`sync: ${FEEDS} markets, deviation 10 bps, heartbeat 10 s; warming up...\n`);
    await sleep(20_000);
    measuring = true;
    const from = new Date();
    await sleep(measureSeconds * 1000);
    measuring = false;
    const db = await openStore(mongoUri);
    const pushes = createPushStore(db);
    const confirmed = await pushes.pushes.find({ outcome: 'confirmed', recordedAt: { $gte: from } }).lean();
    const outcomes = await pushes.pushes.aggregate<{ _id: string; n: number }>([{ $match: { recordedAt: { $gte: from } } }, { $group: { _id: '$outcome', n: { $sum: 1 } } }]);
    await db.close();
    const signatures = new Map<string, { markets: number; cu: number; fee: number }>();
    for (const d of confirmed) signatures.set(d.signature!, { markets: (signatures.get(d.signature!)?.markets ?? 0) + 1, cu: d.computeUnits ?? 0, fee: d.feeLamports ?? 0 });
    const txs = [...signatures.values()];
    const marketUpdates = txs.reduce((n, t) => n + t.markets, 0);
    const cu = txs.reduce((n, t) => n + t.cu, 0);
    latencies.sort((a, b) => a - b);
    const rss = children.map((c) => rssMb(c.child.pid));
    process.stdout.write(`\nsimulator publish → market account updated on the localnet (ms), ${measureSeconds} s measured\n`);
    process.stdout.write(`  updates ${latencies.length}  p50 ${percentile(latencies, 50)}  p99 ${percentile(latencies, 99)}  max ${latencies.at(-1)}  (unmatched ${unknown})\n`);
    process.stdout.write(`  transactions ${txs.length}, market updates ${marketUpdates} → ${(marketUpdates / Math.max(1, txs.length)).toFixed(2)} markets per transaction\n`);
    process.stdout.write(`  compute units per market update ${Math.round(cu / Math.max(1, marketUpdates))} (per transaction ${Math.round(cu / Math.max(1, txs.length))}); fee per transaction ${Math.round(txs.reduce((n, t) => n + t.fee, 0) / Math.max(1, txs.length))} lamports\n`);
    process.stdout.write(`  outcomes ${outcomes.map((o) => `${o._id} ${o.n}`).join(', ')}\n`);
    process.stdout.write(`  RSS MB: ingest worker ${rss[0]}, sync worker ${rss[1]}\n`);
    process.stdout.write(`goal p99 ≤ 1,500 ms: ${percentile(latencies, 99) <= 1_500 ? 'met' : 'NOT met'}\n`);
    if (unknown > 0) throw new Error(`${unknown} on-chain prices were never published by the simulator`);
  } finally {
    for (const id of subscriptions) await connection.removeAccountChangeListener(id).catch(() => undefined);
    await temporal.workflow.getHandle('oracle-sync').terminate('benchmark over').catch(() => undefined);
    await temporal.workflow.getHandle('ingest-bench').terminate('benchmark over').catch(() => undefined);
    await temporal.connection.close();
    for (const c of children) await c.kill();
    await localnet.stop();
    await sim.stop();
    process.stdout.write(`(total ${Math.round((Date.now() - started) / 1000)} s)\n`);
  }
}
