import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUri, uniqueName } from '../../tests/support.ts';
import { openStore } from './connection.ts';
import { createPriceStore, priceModels, type AcceptedPrice, type PriceStore } from './prices.ts';

const FEED = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
const price = (publishTime: number, mantissa: bigint, source: AcceptedPrice['source'] = 'pyth'): AcceptedPrice => ({
  symbol: 'SOL-PERP',
  feedId: FEED,
  source,
  price: mantissa,
  conf: 1_500_000n,
  expo: -8,
  publishTime,
  hasConfidence: source === 'pyth',
  receivedAt: publishTime * 1000 + 42,
});

let db: Connection;
let store: PriceStore;
beforeAll(async () => {
  db = await openStore(testDatabaseUri(uniqueName('qd-store')));
  store = createPriceStore(priceModels(db));
  await store.ensureIndexes();
});
afterAll(async () => {
  await db?.dropDatabase();
  await db?.close();
});

describe('price store (FerretDB)', () => {
  it('keeps each update once however often it is written, across minute buckets', async () => {
    const t = 1_800_000_040;
    const batch = [price(t, 15_000_000_000n), price(t + 10, 15_010_000_000n), price(t + 30, 15_020_000_000n), price(t + 25, 15_100_000_000n, 'coingecko')];
    await store.writeAccepted(batch, batch.slice(0, 3));
    await store.writeAccepted(batch, []); // a retry after a crash
    const rows = await store.history(FEED, t, t + 60);
    expect(rows).toEqual([
      { source: 'pyth', price: '15000000000', conf: '1500000', expo: -8, publishTime: t },
      { source: 'pyth', price: '15010000000', conf: '1500000', expo: -8, publishTime: t + 10 },
      { source: 'coingecko', price: '15100000000', conf: '1500000', expo: -8, publishTime: t + 25 },
      { source: 'pyth', price: '15020000000', conf: '1500000', expo: -8, publishTime: t + 30 },
    ]);
    expect(await store.models.history.countDocuments()).toBe(3); // two pyth minutes, one coingecko minute
    expect(await store.history(FEED, t + 11, t + 29)).toHaveLength(1);
  });

  it('serves the newest served price and remembers each source’s last publish time', async () => {
    const t = 1_800_001_000;
    await store.writeAccepted([price(t, 1n), price(t + 1, 2n)], [price(t, 1n), price(t + 1, 2n)]);
    await store.writeAccepted([price(t + 5, 3n, 'coingecko')], []);
    const [latest] = await store.latest([FEED]);
    expect(latest).toMatchObject({ _id: FEED, price: '2', publishTime: t + 1, source: 'pyth', stale: false });
    expect(await store.lastPublishTimes([FEED])).toEqual(new Map([[`${FEED}:pyth`, t + 1], [`${FEED}:coingecko`, t + 5]]));

    await store.markStale([FEED], true, new Date(0));
    expect((await store.latest([FEED]))[0]).toMatchObject({ stale: true, price: '2' });
    await store.markStale([FEED], false, new Date(0));
    expect((await store.latest([FEED]))[0]?.stale).toBe(false);
  });

  it('prunes buckets and rejections past their age, and refuses windows too long to read', async () => {
    const pruned = await store.prune(1_800_000_120, new Date(0));
    expect(pruned.buckets).toBe(3);
    expect(await store.history(FEED, 1_800_000_000, 1_800_000_200)).toHaveLength(0);
    await expect(store.history(FEED, 0, 1_800_000_000)).rejects.toThrow(/at most/);
  });
});
