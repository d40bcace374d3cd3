import { PriceFollower } from '../bus/follower.ts';
import { createAdapterClients, createRedisSubscriber } from '../bus/redis.ts';
import { busNames } from '../contracts/bus.ts';
import type { MarketIndex } from '../domain/markets.ts';
import { createLogger } from '../runtime/logger.ts';
import { createMetricsRegistry } from '../runtime/metrics.ts';
import { createGateway, OPEN_ACCESS, type Gateway, type GatewayAccess } from '../server/app.ts';
import type { MongoStore } from '../store/mongo/store.ts';
import { createMemoryBus } from '../bus/memory.ts';
import { createMemoryStore } from '../store/memory.ts';
import { testConfig, testMarkets } from './support.ts';

/** A gateway in the test's process on the test Redis (its own bus prefix) and a store, as server/main.ts composes one. */
export async function startTestGateway(o: { markets: MarketIndex; store: MongoStore; busPrefix: string }): Promise<{ gateway: Gateway; url: string; follower: PriceFollower; close(): Promise<void> }> {
  const log = createLogger('gateway-test', 'warn');
  const subscriber = createRedisSubscriber({ url: testConfig.redisUrl, prefix: o.busPrefix, log });
  const follower = new PriceFollower({ subscriber, store: o.store.latest, markets: o.markets, log });
  await follower.start();
  // The Socket.IO adapter: wallet alerts sent from other processes reach this gateway's sockets.
  const adapter = { ...createAdapterClients(testConfig.redisUrl), key: busNames(o.busPrefix).socketIo };
  const gateway = await createGateway({ markets: o.markets, follower, history: o.store.history, store: o.store.health, registry: createMetricsRegistry('gateway-test'), log, access: OPEN_ACCESS, adapter });
  const url = `http://127.0.0.1:${new URL(await gateway.listen(0)).port}`;
  return {
    gateway,
    url,
    follower,
    async close() {
      await gateway.close();
      await follower.stop();
      await subscriber.close();
      await Promise.all([adapter.pub.quit(), adapter.sub.quit()]);
    },
  };
}

/** A gateway on an in-memory store and bus, listening on a free port: for tests of what it accepts from clients. */
export async function startMemoryGateway(access: GatewayAccess): Promise<{ gateway: Gateway; url: string; close(): Promise<void> }> {
  const markets = testMarkets();
  const log = createLogger('memory-gateway', 'silent');
  const store = createMemoryStore();
  const follower = new PriceFollower({ subscriber: createMemoryBus().subscriber(), store: store.latest, markets, log, pollMs: 100 });
  await follower.start();
  const gateway = await createGateway({ markets, follower, history: store.history, store: store.health, registry: createMetricsRegistry('memory-gateway'), log, access });
  const url = `http://127.0.0.1:${new URL(await gateway.listen(0)).port}`;
  return {
    gateway,
    url,
    async close() {
      await gateway.close();
      await follower.stop();
    },
  };
}
