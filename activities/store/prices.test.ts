import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMarkets } from '../../runtime/markets.ts';
import { ROOT, testDatabaseUri, uniqueName } from '../../tests/support.ts';
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
  store = createPriceStore(priceModels(db), loadMarkets(`${ROOT}/config/markets.json`));
  await store.ensureIndexes();
});
afterAll(async () => {
  await db?.dropDatabase();
  await db?.close();
});

describe('price store (FerretDB)', () => {
  it('keeps each update once however often it is written, and reads it back across minutes', async () => {
    const t = 1_800_000_040;
    const batch = [price(t, 15_000_000_000n), price(t + 10, 15_010_000_000n), price(t + 30, 15_020_000_000n), price(t + 25, 15_100_000_000n, 'coingecko')];
    await store.writeTicks(batch);
    await store.writeTicks(batch); // a retry after a crash: refused as duplicates, nothing added
    expect(await store.models.history.countDocuments()).toBe(4);
    const rows = await store.history(FEED, t, t + 60);
    expect(rows).toEqual([
      { source: 'pyth', price: '15000000000', conf: '1500000', expo: -8, publishTime: t },
      { source: 'pyth', price: '15010000000', conf: '1500000', expo: -8, publishTime: t + 10 },
      { source: 'coingecko', price: '15100000000', conf: '1500000', expo: -8, publishTime: t + 25 },
      { source: 'pyth', price: '15020000000', conf: '1500000', expo: -8, publishTime: t + 30 },
    ]);
    expect(await store.history(FEED, t + 11, t + 29)).toHaveLength(1);
  });

  it('reads complete minutes from their minute document, and fills incomplete ones from the updates', async () => {
    const m = 1_800_000_600;
    const tick = (pt: number, v: bigint) => ({ p: v.toString(), c: '1', e: -8, r: 0 });
    // A complete minute document is trusted on its own (this update exists nowhere else).
    await store.writeMinutes([{ feedId: FEED, symbol: 'SOL-PERP', source: 'pyth', minute: m, ticks: { [`t${m + 5}`]: tick(m + 5, 7n) }, complete: true }]);
    // An incomplete one is merged with the updates stored for its seconds.
    await store.writeTicks([price(m + 70, 9n)]);
    await store.writeMinutes([{ feedId: FEED, symbol: 'SOL-PERP', source: 'pyth', minute: m + 60, ticks: { [`t${m + 80}`]: tick(m + 80, 8n) }, complete: false }]);
    // A later complete write of the same minute does not make it complete: a writer missed part of it.
    await store.writeMinutes([{ feedId: FEED, symbol: 'SOL-PERP', source: 'pyth', minute: m + 60, ticks: { [`t${m + 90}`]: tick(m + 90, 10n) }, complete: true }]);
    const rows = await store.history(FEED, m, m + 119);
    expect(rows.map((r) => [r.publishTime - m, r.price])).toEqual([[5, '7'], [70, '9'], [80, '8'], [90, '10']]);
    expect((await store.models.minutes.findOne({ _id: `${FEED}:pyth:${m + 60}` }).lean())?.complete).toBe(false);
  });

  it('serves the newest served price and remembers each source’s last publish time', async () => {
    const t = 1_800_001_000;
    await store.writeLatest([price(t, 1n), price(t + 1, 2n)], [price(t, 1n), price(t + 1, 2n)]);
    await store.writeLatest([price(t + 5, 3n, 'coingecko')], []);
    const [latest] = await store.latest([FEED]);
    expect(latest).toMatchObject({ feedId: FEED, symbol: 'SOL-PERP', price: '2', publishTime: t + 1, source: 'pyth', stale: false });
    expect(await store.latest()).toHaveLength(1);
    expect(await store.lastPublishTimes([FEED])).toEqual(new Map([[`${FEED}:pyth`, t + 1], [`${FEED}:coingecko`, t + 5]]));

    await store.markStale([FEED], true, new Date(0));
    expect((await store.latest([FEED]))[0]).toMatchObject({ stale: true, price: '2' });
    await store.markStale([FEED], false, new Date(0));
    expect((await store.latest([FEED]))[0]?.stale).toBe(false);
  });

  it('prunes updates, minutes and rejections past their age, and refuses windows too long to read', async () => {
    const pruned = await store.prune(1_800_000_600, new Date(0));
    expect(pruned).toEqual({ updates: 4, minutes: 0, rejections: 0 });
    expect(await store.history(FEED, 1_800_000_000, 1_800_000_200)).toHaveLength(0);
    await expect(store.history(FEED, 0, 1_800_000_000)).rejects.toThrow(/at most/);
  });
});
