import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.ts';
import { loadMarkets } from '../../runtime/markets.ts';
import { ROOT, testDatabaseUri, uniqueName } from '../../tests/support.ts';
import { openStore } from '../store/connection.ts';
import { createPriceStore, priceModels, type AcceptedPrice, type PriceStore } from '../store/prices.ts';
import { DEFAULT_WRITER_OPTIONS, PriceWriter } from './price-writer.ts';

const markets = loadMarkets(`${ROOT}/config/markets.json`);
const SOL = markets.bySymbol('SOL-PERP')!;
const price = (publishTime: number): AcceptedPrice => ({
  symbol: SOL.symbol,
  feedId: SOL.pythFeedId,
  source: 'pyth',
  price: BigInt(publishTime),
  conf: 1n,
  expo: -8,
  publishTime,
  hasConfidence: true,
  receivedAt: publishTime * 1000,
});

let db: Connection;
let store: PriceStore;
beforeAll(async () => {
  db = await openStore(testDatabaseUri(uniqueName('qd-writer')));
  store = createPriceStore(priceModels(db), markets);
  await store.ensureIndexes();
});
afterAll(async () => {
  await db?.dropDatabase();
  await db?.close();
});

describe('PriceWriter', () => {
  it('writes a minute cut short (an activity ending mid-minute) so that later updates of it still read back', async () => {
    const m = 1_800_000_000;
    let clock = (m - 30) * 1000; // the writer exists before the minute begins
    const writer = new PriceWriter(store, createLogger('writer-test', 'silent'), DEFAULT_WRITER_OPTIONS, () => clock);
    clock = (m + 10) * 1000;
    writer.addPrice(price(m + 5), true);
    await writer.close(); // the activity ends; the minute is not over
    clock = (m + 25) * 1000;
    writer.addPrice(price(m + 20), true);
    await writer.flush(); // the minute is still not due: only the update itself is written
    expect((await store.history(SOL.pythFeedId, m, m + 59)).map((r) => r.publishTime)).toEqual([m + 5, m + 20]);

    clock = (m + 70) * 1000; // past the minute and its grace: its document is written
    await writer.flush();
    expect((await store.history(SOL.pythFeedId, m, m + 59)).map((r) => r.publishTime)).toEqual([m + 5, m + 20]);
    expect(await store.latest([SOL.pythFeedId])).toMatchObject([{ publishTime: m + 20 }]);
  });
});
