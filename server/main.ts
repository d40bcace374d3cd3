// The gateway process: REST + Socket.IO on QD_GATEWAY_PORT.
import { openStore } from '../activities/store/connection.ts';
import { createPriceStore, priceModels } from '../activities/store/prices.ts';
import { loadConfigOrExit } from '../runtime/config.ts';
import { createLogger } from '../runtime/logger.ts';
import { loadMarkets } from '../runtime/markets.ts';
import { createMetricsRegistry } from '../runtime/metrics.ts';
import { connectClient } from '../temporal/connection.ts';
import { ingestWorkflowId } from '../temporal/contracts.ts';
import { statusQuery } from '../workflows/price-ingestion.ts';
import { closeAll } from '../workers/process.ts';
import { createGateway } from './app.ts';

const config = loadConfigOrExit();
const log = createLogger('gateway', config.logLevel);
if (!config.gateway.internalToken) {
  log.fatal('QD_INTERNAL_TOKEN is required: workers authenticate to the internal namespace with it');
  process.exit(78);
}
const markets = loadMarkets(config.marketsFile);
const db = await openStore(config.mongodbUri);
const store = createPriceStore(priceModels(db), markets);
await store.ensureIndexes();
const temporal = await connectClient(config.temporal);

const gateway = await createGateway({
  markets,
  store,
  internalToken: config.gateway.internalToken,
  registry: createMetricsRegistry('gateway'),
  log,
  // Operators see each ingestion workflow's mode next to the database's health.
  async health() {
    const ingestion: Record<string, unknown> = {};
    for (const group of markets.groups().keys()) {
      // A workflow that cannot answer (no worker polling) must not hang the health check.
      ingestion[group] = await temporal.connection
        .withDeadline(Date.now() + 2_000, () => temporal.workflow.getHandle(ingestWorkflowId(group)).query(statusQuery))
        .catch((e: Error) => `unavailable: ${e.message}`);
    }
    return { temporal: 'up', ingestion };
  },
});
const address = await gateway.listen(config.gateway.port);
log.info({ address }, 'gateway_listening');

async function stop(signal: string) {
  log.info({ signal }, 'gateway_stopping');
  await closeAll(log, [
    ['gateway', () => gateway.close()],
    ['temporal', () => temporal.connection.close()],
    ['database', () => db.close()],
  ]);
  process.exit(0);
}
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
