// The gateway process: REST + Socket.IO on QD_GATEWAY_PORT. Run several behind one address: they
// share the bus and, through the Socket.IO Redis adapter, the wallet rooms.
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import { PriceFollower } from '../bus/follower.ts';
import { createAdapterClients, createRedisSubscriber } from '../bus/redis.ts';
import { STAGE_REPORT_TTL_MS } from '../contracts/latency.ts';
import { busNames } from '../contracts/bus.ts';
import { loadConfigOrExit } from '../runtime/config.ts';
import { createLogger } from '../runtime/logger.ts';
import { loadMarkets } from '../runtime/markets.ts';
import { createMetricsRegistry } from '../runtime/metrics.ts';
import { openStore } from '../store/mongo/connection.ts';
import { createMongoStore } from '../store/mongo/store.ts';
import { connectClient } from '../temporal/connection.ts';
import { ingestWorkflowId, statusQuery } from '../contracts/temporal.ts';
import { closeAll } from '../workers/process.ts';
import { createGateway } from './app.ts';
import { createRpcChainReader } from './chain-state.ts';

const config = loadConfigOrExit();
const log = createLogger('gateway', config.logLevel);
const markets = loadMarkets(config.marketsFile);
const db = await openStore(config.mongodbUri);
const store = createMongoStore(db, markets);
const temporal = await connectClient(config.temporal);
const subscriber = createRedisSubscriber({ url: config.redisUrl, prefix: config.busPrefix, log });
const follower = new PriceFollower({ subscriber, store: store.latest, markets, log: log.child({ module: 'follower' }) });
await follower.start();
const solana = new Connection(config.solana.rpcUrl, { commitment: config.solana.commitment, ...(config.solana.wsUrl && { wsEndpoint: config.solana.wsUrl }) });
const chain = createRpcChainReader(solana, { commitment: config.solana.commitment, ...(config.solana.programId && { programId: new PublicKey(config.solana.programId) }) });
const adapter = { ...createAdapterClients(config.redisUrl), key: busNames(config.busPrefix).socketIo };

const gateway = await createGateway({
  markets,
  follower,
  history: store.history,
  store: store.health,
  adapter,
  registry: createMetricsRegistry('gateway'),
  log,
  access: config.gateway,
  stageReports: () => subscriber.stageReports(STAGE_REPORT_TTL_MS),
  dashboard: {
    chain,
    rejections: store.rejections,
    pushes: store.pushes,
    liquidations: store.liquidations,
    alerts: store.alerts,
    temporalUi: { url: config.temporal.uiUrl, namespace: config.temporal.namespace },
    cluster: { rpcUrl: config.solana.rpcUrl, ...(config.solana.wsUrl && { wsUrl: config.solana.wsUrl }), commitment: config.solana.commitment, embedded: config.solana.localnet },
    // The test faucet exists only on the embedded localnet, whose keypairs are under the data folder.
    ...(config.solana.localnet && { faucet: { connection: solana, keysDir: join(config.dataDir, 'localnet', 'keys') } }),
  },
  // Operators see each ingestion workflow's mode next to the database's health.
  async health() {
    const ingestion: Record<string, unknown> = {};
    await Promise.all(
      [...markets.groups().keys()].map(async (group) => {
        // A workflow that cannot answer (no worker polling) must not hang the health check.
        ingestion[group] = await temporal.connection
          .withDeadline(Date.now() + 1_500, () => temporal.workflow.getHandle(ingestWorkflowId(group)).query(statusQuery))
          .catch((e: Error) => `unavailable: ${e.message}`);
      }),
    );
    return { temporal: 'up', ingestion };
  },
});
const address = await gateway.listen(config.gateway.port);
log.info({ address }, 'gateway_listening');

async function stop(signal: string) {
  log.info({ signal }, 'gateway_stopping');
  await closeAll(log, [
    ['gateway', () => gateway.close()],
    ['follower', () => follower.stop()],
    ['bus', () => subscriber.close()],
    ['adapter', () => Promise.all([adapter.pub.quit(), adapter.sub.quit()])],
    ['temporal', () => temporal.connection.close()],
    ['database', () => db.close()],
  ]);
  process.exit(0);
}
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
