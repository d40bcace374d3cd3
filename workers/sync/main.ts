// Worker for task queue `oracle-sync`: pushes the served prices on-chain with update_oracle_price.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { Connection, Keypair, PublicKey } from '@solana/web3.js';
import { createGatewayPublisher } from '../../activities/ingest/publisher.ts';
import { openStore } from '../../activities/store/connection.ts';
import { createPriceStore, priceModels } from '../../activities/store/prices.ts';
import { createPushStore } from '../../activities/store/pushes.ts';
import { createSyncActivities } from '../../activities/sync/activities.ts';
import { createOracleChain } from '../../activities/sync/chain.ts';
import { syncMetrics } from '../../activities/sync/metrics.ts';
import { QUANTDESK_PERP_PROGRAM_ID } from '../../programs/client/quantdesk-perp.ts';
import { loadConfigOrExit } from '../../runtime/config.ts';
import { createLogger } from '../../runtime/logger.ts';
import { loadMarkets } from '../../runtime/markets.ts';
import { createMetricsRegistry } from '../../runtime/metrics.ts';
import { connectClient, connectWorker } from '../../temporal/connection.ts';
import { SYNC_WORKFLOW_ID, TASK_QUEUES } from '../../temporal/contracts.ts';
import { oracleSync, syncProgressSignal } from '../../workflows/oracle-sync.ts';
import { installTemporalLogging, requireInternalToken, runUntilStopped, serveMetrics } from '../process.ts';

const config = loadConfigOrExit();
const log = createLogger('worker-sync', config.logLevel);
installTemporalLogging(log);
const internalToken = requireInternalToken(config.gateway.internalToken, log);

function loadKeypair(path: string): Keypair {
  try {
    const bytes: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!Array.isArray(bytes) || bytes.length !== 64) throw new Error('expected a JSON array of 64 bytes');
    return Keypair.fromSecretKey(Uint8Array.from(bytes as number[]));
  } catch (e) {
    log.fatal({ path, err: (e as Error).message }, 'oracle authority keypair unreadable (QD_ORACLE_AUTHORITY_KEYPAIR)');
    process.exit(78);
  }
}

const markets = loadMarkets(config.marketsFile);
const registry = createMetricsRegistry('worker-sync');
const authority = loadKeypair(config.solana.oracleAuthorityKeypair);
const programId = config.solana.programId ? new PublicKey(config.solana.programId) : QUANTDESK_PERP_PROGRAM_ID;
const connection = new Connection(config.solana.rpcUrl, {
  commitment: config.solana.commitment,
  ...(config.solana.wsUrl && { wsEndpoint: config.solana.wsUrl }),
  disableRetryOnRateLimit: true,
});

const db = await openStore(config.mongodbUri);
const prices = createPriceStore(priceModels(db), markets);
const pushes = createPushStore(db);
await pushes.ensureIndexes();
const client = await connectClient(config.temporal);
const publisher = createGatewayPublisher(config.gateway.url, internalToken, log.child({ module: 'publisher' }));

const worker = await Worker.create({
  connection: await connectWorker(config.temporal),
  namespace: config.temporal.namespace,
  taskQueue: TASK_QUEUES.sync,
  workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
  activities: createSyncActivities({
    markets,
    prices,
    pushes,
    chain: createOracleChain({ connection, programId, authority, commitment: config.solana.commitment, priorityFeeMicroLamports: config.solana.priorityFeeMicroLamports }),
    programId,
    publisher,
    reportProgress: (workflowId, progress) => client.workflow.getHandle(workflowId).signal(syncProgressSignal, progress),
    metrics: syncMetrics(registry),
    log: log.child({ module: 'sync' }),
    options: { pollMs: config.sync.pollMs, maxMarketsPerTx: config.sync.maxMarketsPerTx },
  }),
});
const metricsServer = await serveMetrics(registry, config.metricsPort, log);

await client.workflow.start(oracleSync, {
  workflowId: SYNC_WORKFLOW_ID,
  taskQueue: TASK_QUEUES.sync,
  args: [{}],
  workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
});
log.info({ taskQueue: TASK_QUEUES.sync, programId: programId.toBase58(), authority: authority.publicKey.toBase58(), rpc: config.solana.rpcUrl }, 'worker_started');

await runUntilStopped(worker, log, [
  ['metrics', () => metricsServer && new Promise((r) => metricsServer.close(r))],
  ['publisher', () => publisher.close()],
  ['temporal client', () => client.connection.close()],
  ['database', () => db.close()],
]);
