// Worker for task queue `oracle-ingest`: Pyth stream, CoinGecko fallback, storage, broadcast.
import { fileURLToPath } from 'node:url';
import { HermesClient } from '@pythnetwork/hermes-client';
import { Worker } from '@temporalio/worker';
import { createIngestActivities } from '../../activities/ingest/activities.ts';
import { createCoinGeckoSource } from '../../activities/ingest/coingecko.ts';
import { ingestMetrics } from '../../activities/ingest/metrics.ts';
import { createGatewayPublisher } from '../../activities/ingest/publisher.ts';
import { openStore } from '../../activities/store/connection.ts';
import { createPriceStore, priceModels } from '../../activities/store/prices.ts';
import { loadConfigOrExit } from '../../runtime/config.ts';
import { createLogger } from '../../runtime/logger.ts';
import { loadMarkets } from '../../runtime/markets.ts';
import { createMetricsRegistry } from '../../runtime/metrics.ts';
import { connectClient, connectWorker } from '../../temporal/connection.ts';
import { TASK_QUEUES } from '../../temporal/contracts.ts';
import { ensureRetentionSchedule } from '../../temporal/schedules.ts';
import { progressSignal } from '../../workflows/price-ingestion.ts';
import { installTemporalLogging, requireInternalToken, runUntilStopped, serveMetrics } from '../process.ts';
import { ensureIngestionWorkflows } from './ensure-workflows.ts';

const config = loadConfigOrExit();
const log = createLogger('worker-ingest', config.logLevel);
installTemporalLogging(log);
const internalToken = requireInternalToken(config.gateway.internalToken, log);
const markets = loadMarkets(config.marketsFile);
const registry = createMetricsRegistry('worker-ingest');

const db = await openStore(config.mongodbUri);
const store = createPriceStore(priceModels(db), markets);
await store.ensureIndexes();
const client = await connectClient(config.temporal);
const publisher = createGatewayPublisher(config.gateway.url, internalToken, log.child({ module: 'publisher' }));

const activities = createIngestActivities({
  markets,
  store,
  publisher,
  hermes: new HermesClient(config.hermes.url, { ...(config.hermes.apiKey && { accessToken: config.hermes.apiKey }), timeout: 5_000, httpRetries: 0 }),
  coingecko: createCoinGeckoSource(config.coingecko),
  reportProgress: (workflowId, progress) => client.workflow.getHandle(workflowId).signal(progressSignal, progress),
  metrics: ingestMetrics(registry),
  log: log.child({ module: 'ingest' }),
  options: {
    silenceMs: config.ingest.silenceMs,
    pollPrimaryMs: config.ingest.pollPrimaryMs,
    pollCrosscheckMs: config.ingest.pollCrosscheckMs,
    fallbackDownMs: config.ingest.silenceMs,
  },
});

const worker = await Worker.create({
  connection: await connectWorker(config.temporal),
  namespace: config.temporal.namespace,
  taskQueue: TASK_QUEUES.ingest,
  workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
  activities,
});
const metricsServer = await serveMetrics(registry, config.metricsPort, log);

const started = await ensureIngestionWorkflows(client, markets);
await ensureRetentionSchedule(client, { historyDays: config.ingest.historyRetentionDays, rejectionDays: config.ingest.rejectionRetentionDays });
log.info({ taskQueue: TASK_QUEUES.ingest, workflows: started }, 'worker_started');

await runUntilStopped(worker, log, [
  ['metrics', () => metricsServer && new Promise((r) => metricsServer.close(r))],
  ['publisher', () => publisher.close()],
  ['temporal client', () => client.connection.close()],
  ['database', () => db.close()],
]);
