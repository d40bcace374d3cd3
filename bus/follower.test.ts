import { describe, expect, it } from 'vitest';
import { gradePrice } from '../domain/validation.ts';
import { createLogger } from '../runtime/logger.ts';
import { createMemoryStore } from '../store/memory.ts';
import { testMarkets, waitFor } from '../tests/support.ts';
import { PriceFollower, type LivePrice } from './follower.ts';
import { createMemoryBus } from './memory.ts';
import type { GradedPrice } from './roles.ts';

const markets = testMarkets();
const SOL = markets.bySymbol('SOL-PERP')!;
const log = createLogger('follower-test', 'silent');

const price = (publishTime: number, mantissa: bigint, extra: Partial<GradedPrice> = {}): GradedPrice => {
  const p = { symbol: SOL.symbol, feedId: SOL.pythFeedId, source: 'pyth' as const, price: mantissa, conf: 0n, expo: -8, publishTime, hasConfidence: true, receivedAt: publishTime * 1000, ...extra };
  return { ...p, grades: gradePrice(p, publishTime, SOL.validation) };
};

function setup() {
  const store = createMemoryStore();
  const bus = createMemoryBus();
  const follower = new PriceFollower({ subscriber: bus.subscriber(), store: store.latest, markets, log, pollMs: 50, resyncDelayMs: 10 });
  const seen: { p: LivePrice; origin: string }[] = [];
  follower.onPrices((prices, origin) => seen.push(...prices.map((p) => ({ p, origin }))));
  return { store, bus, follower, seen };
}

describe('PriceFollower', () => {
  it('starts from the store, then follows the bus, handing on only newer prices', async () => {
    const { store, bus, follower, seen } = setup();
    await store.latest.writeLatest([price(100, 1n)], [price(100, 1n)]);
    await follower.start();
    expect(follower.get('SOL-PERP')).toMatchObject({ publishTime: 100, price: '1', grades: { display: 'ok' } });
    bus.publisher.publishPrices([price(99, 2n)]); // older than the store's: not handed on
    bus.publisher.publishPrices([price(101, 3n)]);
    bus.publisher.publishPrices([price(101, 4n, { slot: 7 })]); // same second, no slot before: not newer
    expect(seen.map((s) => [s.p.price, s.origin])).toEqual([['1', 'store'], ['3', 'bus']]);
    await follower.stop();
  });

  it('takes a same-second update with a later slot, and refuses CoinGecko once its group serves Pyth', async () => {
    const { bus, follower, seen } = setup();
    await follower.start();
    bus.publisher.publishPrices([price(200, 1n, { slot: 10 })]);
    bus.publisher.publishPrices([price(200, 2n, { slot: 12 })]);
    bus.publisher.publishStatus({ kind: 'ingest', scope: 'ingest:majors', symbols: ['SOL-PERP'], mode: 'pyth', stale: false, reason: 'Pyth is back' });
    bus.publisher.publishPrices([price(201, 3n, { source: 'coingecko', conf: 0n, hasConfidence: false })]);
    expect(seen.map((s) => s.p.price)).toEqual(['1', '2']);
    await follower.stop();
  });

  it('fills a gap in sequence numbers from the store', async () => {
    const { store, bus, follower } = setup();
    await follower.start();
    bus.publisher.publishPrices([price(300, 1n)]);
    bus.drop(2);
    bus.publisher.publishPrices([price(301, 2n)]);
    bus.publisher.publishPrices([price(302, 3n)]);
    // The lost newest price is in the store (the ingest worker wrote it); the next message reveals the gap.
    await store.latest.writeLatest([price(303, 4n)], [price(303, 4n)]);
    bus.publisher.publishPrices([price(303, 4n, { slot: undefined })]);
    expect(follower.counts.gaps).toBe(1);
    expect(follower.get('SOL-PERP')?.price).toBe('4');
    await follower.stop();
  });

  it('reads the store while the bus is down and resyncs when it returns', async () => {
    const { store, bus, follower, seen } = setup();
    await follower.start();
    bus.setState('down');
    await store.latest.writeLatest([price(400, 5n)], [price(400, 5n)]);
    await waitFor('the stored price', () => follower.get('SOL-PERP')?.publishTime === 400 || undefined, 2_000, 10);
    expect(seen.at(-1)?.origin).toBe('store');
    // A database that is down too: the follower keeps what it has and keeps trying.
    store.state.down = true;
    await new Promise((r) => setTimeout(r, 120));
    expect(follower.storeFailures).toBeGreaterThan(0);
    store.state.down = false;
    bus.setState('up');
    bus.publisher.publishPrices([price(401, 6n)]);
    expect(follower.get('SOL-PERP')?.price).toBe('6');
    await follower.stop();
  });
});
