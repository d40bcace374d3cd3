import type { Connection } from 'mongoose';
import type { MarketIndex } from '../../domain/markets.ts';
import { mongoHealth } from './connection.ts';
import { createMongoHistory } from './history.ts';
import { createMongoLatest } from './latest.ts';
import { createMongoLiquidations, createMongoWalletAlerts } from './liquidations.ts';
import { dayKey } from './partitions.ts';
import { createMongoPushLog } from './pushes.ts';
import { createMongoRejections } from './rejections.ts';

/** Every role of the store on one mongoose connection (FerretDB embedded, or a real MongoDB). */
export function createMongoStore(c: Connection, markets: MarketIndex, now: () => number = Date.now) {
  const latest = createMongoLatest(c, markets);
  const history = createMongoHistory(c, latest, now);
  const pushes = createMongoPushLog(c, now);
  const liquidations = createMongoLiquidations(c, now);
  return {
    latest,
    history,
    rejections: createMongoRejections(c),
    pushes,
    liquidations,
    alerts: createMongoWalletAlerts(c, now),
    health: mongoHealth(c),
    /** Indexes of the fixed collections, and today's and tomorrow's partitions (so their first writes are indexed). */
    async ensureIndexes(): Promise<void> {
      const today = Math.floor(now() / 1000);
      await Promise.all([latest.ensureIndexes(), pushes.ensureIndexes(), liquidations.ensureIndexes(), history.partitions.ensure(dayKey(today)), history.partitions.ensure(dayKey(today + 86_400))]);
    },
  };
}
export type MongoStore = ReturnType<typeof createMongoStore>;
