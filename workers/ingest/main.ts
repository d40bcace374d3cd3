// Worker for task queue `oracle-ingest`: Pyth stream, CoinGecko fallback, storage, the price bus.
import { join } from 'node:path';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { Counter } from 'prom-client';
import { createIngestActivities } from '../../activities/ingest/activities.ts';
import { createCoinGeckoSource } from '../../activities/ingest/coingecko.ts';
import { createHermesClient } from '../../activities/ingest/hermes.ts';
import { ingestMetrics } from '../../activities/ingest/metrics.ts';
import { createRedisPublisher, createRedisSubscriber } from '../../bus/redis.ts';
import { reportStagesEvery } from '../../bus/stage-latency.ts';
import { TASK_QUEUES, progressSignal } from '../../contracts/temporal.ts';
import { loadConfigOrExit } from '../../runtime/config.ts';
import { createLogger } from '../../runtime/logger.ts';
import { loadMarkets } from '../../runtime/markets.ts';
import { createMetricsRegistry } from '../../runtime/metrics.ts';
import { openStore } from '../../store/mongo/connection.ts';
import { createMongoStore } from '../../store/mongo/store.ts';
import { connectClient, connectWorker } from '../../temporal/connection.ts';
import { ensureRetentionSchedule } from '../../temporal/schedules.ts';
import { installTemporalLogging, runUntilStopped, serveMetrics } from '../process.ts';
import { ensureIngestionWorkflows } from './ensure-workflows.ts';

const config = loadConfigOrExit();
const log = createLogger('worker-ingest', config.logLevel);
installTemporalLogging(log);
const markets = loadMarkets(config.marketsFile);
const registry = createMetricsRegistry('worker-ingest');
const metrics = ingestMetrics(registry);
const dropped = new Counter({ name: 'qd_bus_prices_dropped_total', help: 'Accepted prices not published because the bus was down', registers: [registry] });

const db = await openStore(config.mongodbUri);
const store = createMongoStore(db, markets);
await store.ensureIndexes();
const client = await connectClient(config.temporal);
const bus = createRedisPublisher({ url: config.redisUrl, prefix: config.busPrefix, log, onDropped: (n) => dropped.inc(n) });

const ingest = createIngestActivities({
  markets,
  store,
  bus,
  hermes: createHermesClient(config.hermes),
  coingecko: createCoinGeckoSource(config.coingecko),
  reportProgress: (workflowId, progress) => client.workflow.getHandle(workflowId).signal(progressSignal, progress),
  metrics,
  log: log.child({ module: 'ingest' }),
  writer: { journalDir: join(config.dataDir, 'ingest-journal') },
  options: {
    silenceMs: config.ingest.silenceMs,
    pollPrimaryMs: config.ingest.pollPrimaryMs,
    pollCrosscheckMs: config.ingest.pollCrosscheckMs,
    fallbackDownMs: config.ingest.silenceMs,
    backfill: { maxGapSec: config.ingest.backfillMaxGapSec, requestsPerSec: config.ingest.backfillRequestsPerSec },
  },
});
// A mode switch decided on another ingest process (its publishIngestStatus) reaches this one too.
const statuses = createRedisSubscriber({ url: config.redisUrl, prefix: config.busPrefix, log, channels: ['status'] });
statuses.onStatus((r) => {
  if (r.kind === 'ingest') ingest.takeIngestMode(r.scope.replace(/^ingest:/, ''), r.mode);
});

const worker = await Worker.create({
  connection: await connectWorker(config.temporal),
  namespace: config.temporal.namespace,
  taskQueue: TASK_QUEUES.ingest,
  workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
  activities: ingest.activities,
});
const metricsServer = await serveMetrics(registry, config.metricsPort, log);
// The ops page adds this worker's stages (validated, stored) to the gateway's.
reportStagesEvery(metrics.stages, bus, `ingest:${hostname()}:${process.pid}`);

const started = await ensureIngestionWorkflows(client, markets);
await ensureRetentionSchedule(client, { historyDays: config.ingest.historyRetentionDays, rejectionDays: config.ingest.rejectionRetentionDays });
log.info({ taskQueue: TASK_QUEUES.ingest, workflows: started }, 'worker_started');

await runUntilStopped(worker, log, [
  ['metrics', () => metricsServer && new Promise((r) => metricsServer.close(r))],
  // No more gap filling; what it fetched is with the writer.
  ['backfill', () => ingest.backfill.stop()],
  // Everything accepted goes to the database, or stays in the journal for the next worker here.
  ['writer', () => ingest.writer.close()],
  ['bus', () => Promise.all([bus.close(), statuses.close()])],
  ['temporal client', () => client.connection.close()],
  ['database', () => db.close()],
]);
