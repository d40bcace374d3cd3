// Worker for task queue `oracle-sync`: pushes the served prices on-chain with update_oracle_price.
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { Connection, PublicKey } from '@solana/web3.js';
import { PriceFollower } from '../../bus/follower.ts';
import { createRedisPublisher, createRedisSubscriber } from '../../bus/redis.ts';
import { reportStagesEvery } from '../../bus/stage-latency.ts';
import { SYNC_WORKFLOW_ID, TASK_QUEUES, syncProgressSignal } from '../../contracts/temporal.ts';
import { createSyncActivities } from '../../activities/sync/activities.ts';
import { createOracleChain } from '../../activities/sync/chain.ts';
import { syncMetrics } from '../../activities/sync/metrics.ts';
import { QUANTDESK_PERP_PROGRAM_ID } from '../../programs/client/quantdesk-perp.ts';
import { loadConfigOrExit } from '../../runtime/config.ts';
import { createLogger } from '../../runtime/logger.ts';
import { loadMarkets } from '../../runtime/markets.ts';
import { createMetricsRegistry } from '../../runtime/metrics.ts';
import { openStore } from '../../store/mongo/connection.ts';
import { createMongoStore } from '../../store/mongo/store.ts';
import { connectClient, connectWorker } from '../../temporal/connection.ts';
import { oracleSync } from '../../workflows/oracle-sync.ts';
import { installTemporalLogging, loadKeypairOrExit, runUntilStopped, serveMetrics } from '../process.ts';

const config = loadConfigOrExit();
const log = createLogger('worker-sync', config.logLevel);
installTemporalLogging(log);


const markets = loadMarkets(config.marketsFile);
const registry = createMetricsRegistry('worker-sync');
const authority = loadKeypairOrExit(config.solana.oracleAuthorityKeypair, 'oracle authority (QD_ORACLE_AUTHORITY_KEYPAIR)', log);
const programId = config.solana.programId ? new PublicKey(config.solana.programId) : QUANTDESK_PERP_PROGRAM_ID;
const connection = new Connection(config.solana.rpcUrl, {
  commitment: config.solana.commitment,
  ...(config.solana.wsUrl && { wsEndpoint: config.solana.wsUrl }),
  disableRetryOnRateLimit: true,
});

const db = await openStore(config.mongodbUri);
const store = createMongoStore(db, markets);
await store.pushes.ensureIndexes();
const client = await connectClient(config.temporal);
const bus = createRedisPublisher({ url: config.redisUrl, prefix: config.busPrefix, log });
// Woken by the bus; the store is where a (re)connecting sync starts from, and what it reads while the bus is down.
const subscriber = createRedisSubscriber({ url: config.redisUrl, prefix: config.busPrefix, log });
const prices = new PriceFollower({ subscriber, store: store.latest, markets, log: log.child({ module: 'follower' }) });
await prices.start();

const metrics = syncMetrics(registry);
// The ops page adds this worker's stages (pushed, confirmed) to the gateway's.
reportStagesEvery(metrics.stages, bus, `sync:${hostname()}:${process.pid}`);

const worker = await Worker.create({
  connection: await connectWorker(config.temporal),
  namespace: config.temporal.namespace,
  taskQueue: TASK_QUEUES.sync,
  workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
  activities: createSyncActivities({
    markets,
    prices,
    pushRequests: (h) => subscriber.onPushRequest(h),
    pushes: store.pushes,
    chain: createOracleChain({ connection, programId, authority, commitment: config.solana.commitment, priorityFeeMicroLamports: config.solana.priorityFeeMicroLamports }),
    programId,
    bus,
    reportProgress: (workflowId, progress) => client.workflow.getHandle(workflowId).signal(syncProgressSignal, progress),
    metrics,
    log: log.child({ module: 'sync' }),
    options: { maxMarketsPerTx: config.sync.maxMarketsPerTx },
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
  ['bus', () => Promise.all([prices.stop(), subscriber.close(), bus.close()])],
  ['temporal client', () => client.connection.close()],
  ['database', () => db.close()],
]);
