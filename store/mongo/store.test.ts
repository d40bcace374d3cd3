import fc from 'fast-check';
import type { Connection } from 'mongoose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Source } from '../../domain/price.ts';
import { testDatabaseUri, testMarkets, uniqueName } from '../../tests/support.ts';
import { createMemoryStore } from '../memory.ts';
import type { AcceptedPrice, PriceHistory } from '../roles.ts';
import { openStore } from './connection.ts';
import { createMongoHistory } from './history.ts';
import { dayKey } from './partitions.ts';
import { createMongoPushLog } from './pushes.ts';
import { createMongoStore, type MongoStore } from './store.ts';

/** The store's roles on the embedded database (FerretDB on PostgreSQL), against the in-memory ones. */
const markets = testMarkets();
const SOL = markets.bySymbol('SOL-PERP')!;
const BTC = markets.bySymbol('BTC-PERP')!;
const FEED = SOL.pythFeedId;
const price = (publishTime: number, mantissa: bigint, source: Source = 'pyth', slot?: number, feedId = FEED): AcceptedPrice => ({
  symbol: markets.byFeedId(feedId)!.symbol,
  feedId,
  source,
  price: mantissa,
  conf: source === 'pyth' ? 1_500_000n : 0n,
  expo: -8,
  publishTime,
  ...(slot !== undefined && { slot }),
  hasConfidence: source === 'pyth',
  receivedAt: publishTime * 1000 + 42,
});

let db: Connection;
let store: MongoStore;
/** History on a clock past every hour the fixtures write (in 2027): those hours are over. */
let history: PriceHistory;
let dbName: string;
beforeAll(async () => {
  dbName = uniqueName('qd-store');
  db = await openStore(testDatabaseUri(dbName));
  store = createMongoStore(db, markets);
  history = createMongoHistory(db, store.latest, () => 1_900_000_000_000);
  await store.ensureIndexes();
});
afterAll(async () => {
  await db?.dropDatabase();
  await db?.close();
});

describe('price history (embedded database)', () => {
  it('keeps each update once however often it is written, same-second updates of later slots included', async () => {
    const t = 1_800_000_040;
    const batch = [price(t, 15_000_000_000n, 'pyth', 100), price(t, 15_000_500_000n, 'pyth', 101), price(t + 10, 15_010_000_000n, 'pyth', 125), price(t + 25, 15_100_000_000n, 'coingecko')];
    expect(await store.history.append(batch)).toBe(4);
    expect(await store.history.append(batch)).toBe(0); // a retry after a crash: refused as duplicates
    expect(await store.history.updates(FEED, t, t + 60)).toEqual([
      { source: 'pyth', price: '15000000000', conf: '1500000', expo: -8, publishTime: t, slot: 100 },
      { source: 'pyth', price: '15000500000', conf: '1500000', expo: -8, publishTime: t, slot: 101 },
      { source: 'pyth', price: '15010000000', conf: '1500000', expo: -8, publishTime: t + 10, slot: 125 },
      { source: 'coingecko', price: '15100000000', conf: '0', expo: -8, publishTime: t + 25 },
    ]);
  });

  /**
   * A random walk from `start`, Pyth every 1–3 s with a quiet spell every ten minutes, CoinGecko now
   * and then, appended to the store and to an in-memory one; returns the latter and the last publish time.
   */
  async function walk(start: number, updates: number, seed: number) {
    const memory = createMemoryStore();
    const steps = fc.sample(fc.record({ dt: fc.integer({ min: 1, max: 3 }), move: fc.integer({ min: -50, max: 50 }), cg: fc.boolean() }), { numRuns: updates, seed });
    let t = start;
    let v = 15_000_000_000n;
    const prices: AcceptedPrice[] = [];
    for (const s of steps) {
      t += s.dt;
      v += BigInt(s.move) * 100_000n;
      if (t % 600 < 30) continue;
      prices.push(s.cg ? price(t, v + 7_000_000n, 'coingecko') : price(t, v, 'pyth', t * 3));
    }
    for (let i = 0; i < prices.length; i += 500) {
      await history.append(prices.slice(i, i + 500));
      await memory.history.append(prices.slice(i, i + 500));
    }
    return { memory, end: t };
  }

  it('gives the same candles as the in-memory store, before and after minutes and hours are sealed', async () => {
    const start = 1_800_003_600; // an hour boundary
    // Two hours and a bit.
    const { memory, end } = await walk(start, 3_000, 7);
    const windows: [number, number, number][] = [
      [start, end, 300],
      [start + 17, end - 23, 60],
      [start + 120, start + 1_000, 1],
      [start + 3_590, start + 3_700, 15],
      [start, end, 3_600],
    ];
    const read = () => Promise.all(windows.map(([a, b, i]) => history.candles(FEED, a, b, i)));
    const expected = await Promise.all(windows.map(([a, b, i]) => memory.history.candles(FEED, a, b, i)));
    expect(await read()).toEqual(expected); // nothing sealed: every minute from its updates
    for (let m = start; m + 60 <= end; m += 60) await history.seal([FEED, BTC.pythFeedId], m);
    expect(await store.latest.sealedThrough(FEED)).toBe(Math.floor((end - 60) / 60) * 60);
    expect(await read()).toEqual(expected); // sealed: from minute and hour documents
    // A late update of a sealed minute: sealing it again takes it in.
    const late = price(start + 3_000 + 1, 1n, 'pyth', 1);
    await history.append([late]);
    await memory.history.append([late]);
    await history.seal([FEED], start + 3_000);
    expect(await history.candles(FEED, start + 3_000, start + 3_059, 60)).toEqual(await memory.history.candles(FEED, start + 3_000, start + 3_059, 60));
  });

  it('reads whole 5-minute spans from day documents, across midnight, and takes in a late update of an hour already rolled up', async () => {
    const midnight = 1_800_057_600;
    const start = midnight - 7_200;
    // Three hours and a bit: two before midnight, one after.
    const { memory, end } = await walk(start, 6_000, 11);
    for (let m = start; m + 60 <= end; m += 60) await history.seal([FEED], m);
    const hoursRolled = async (day: number) => (await db.collection<{ _id: string; hrs: number[] }>(`oracle_price_days_${dayKey(day)}`).findOne({ _id: `${FEED}:${day}` }))?.hrs;
    expect(await hoursRolled(midnight - 86_400)).toEqual(expect.arrayContaining([start, start + 3_600]));
    expect(await hoursRolled(midnight)).toEqual([midnight]);
    const windows: [number, number, number][] = [
      [start + 170, end - 50, 300],
      [start, end, 1_800],
      [start + 5_400, end, 900],
      [start + 61, end - 1, 3_600],
      [start, end, 60],
    ];
    const read = () => Promise.all(windows.map(([a, b, i]) => history.candles(FEED, a, b, i)));
    const expected = () => Promise.all(windows.map(([a, b, i]) => memory.history.candles(FEED, a, b, i)));
    expect(await read()).toEqual(await expected());
    // A late update of a minute in the middle of a rolled-up hour, sealed again by a writer that did
    // not know it had been sealed (one that restarted): the hour and the day take it in.
    const late = price(start + 1_201, 30_000_000_000n, 'pyth', 1);
    await history.append([late]);
    await memory.history.append([late]);
    await history.seal([FEED], start + 1_200);
    const after = await read();
    expect(after).toEqual(await expected());
    expect(after[1]!.candles[0]!.high).toBe(30_000_000_000n);
  });

  it('serves its reads from indexes: the statement FerretDB sends for a bucket read uses the GIN companion', async () => {
    const client = new pg.Client({ connectionString: process.env.QD_TEST_POSTGRES_URL });
    await client.connect();
    try {
      const meta = await client.query(`SELECT _jsonb->>'table' AS t FROM ${pg.escapeIdentifier(dbName)}._ferretdb_database_metadata WHERE _jsonb->>'_id' = $1`, [
        `oracle_price_ticks_${dayKey(1_800_003_600)}`,
      ]);
      const table = `${pg.escapeIdentifier(dbName)}.${pg.escapeIdentifier(meta.rows[0].t as string)}`;
      // FerretDB 1.24 pushes `{ m: '<bucket>' }` down as this prepared statement (the key a parameter).
      await client.query(`PREPARE bucket(text, jsonb) AS SELECT _jsonb FROM ${table} WHERE _jsonb->$1 @> $2`);
      const args = `('m', '${JSON.stringify(`${FEED}:1800003660`)}')`;
      // Past the fifth execution PostgreSQL would switch to a generic plan, which no expression index serves.
      for (let i = 0; i < 6; i++) await client.query(`EXECUTE bucket${args}`);
      const plan = JSON.stringify((await client.query(`EXPLAIN (FORMAT JSON) EXECUTE bucket${args}`)).rows[0]['QUERY PLAN']);
      expect(plan).toMatch(/"Index Name":"[^"]*_m_[^"]*_gin_[0-9a-f]{8}"/);
      expect(plan).not.toContain('Seq Scan');
      const byId = JSON.stringify((await client.query(`EXPLAIN (FORMAT JSON) SELECT _jsonb FROM ${table} WHERE _jsonb->'_id' @> '"x"'`)).rows[0]['QUERY PLAN']);
      expect(byId).toMatch(/_id_[^"]*_gin_/);
    } finally {
      await client.end();
    }
  });

  it('drops whole days at retention, whatever they hold', async () => {
    const { days } = await store.history.prune(1_800_003_600 + 86_400 * 3);
    expect(days).toContain(dayKey(1_800_003_600));
    expect(await store.history.updates(FEED, 1_800_003_600, 1_800_003_700)).toEqual([]);
  });
});

describe('latest prices, rejections and pushes (embedded database)', () => {
  it('serves the newest served price and remembers each source’s last update with its slot', async () => {
    const t = 1_800_001_000;
    await store.latest.writeLatest([price(t, 1n, 'pyth', 5), price(t + 1, 2n, 'pyth', 9)], [price(t + 1, 2n, 'pyth', 9)]);
    await store.latest.writeLatest([price(t + 5, 3n, 'coingecko')], []);
    const [latest] = await store.latest.latest([FEED]);
    expect(latest).toMatchObject({ feedId: FEED, symbol: 'SOL-PERP', price: '2', publishTime: t + 1, slot: 9, source: 'pyth', stale: false });
    expect(await store.latest.lastAccepted([FEED])).toEqual(new Map([[`${FEED}:pyth`, { publishTime: t + 1, slot: 9 }], [`${FEED}:coingecko`, { publishTime: t + 5 }]]));
    await store.latest.markStale([FEED], true, new Date(0));
    expect((await store.latest.latest([FEED]))[0]).toMatchObject({ stale: true, price: '2' });
    await store.latest.markStale([FEED], false, new Date(0));
    expect((await store.latest.latest([FEED]))[0]?.stale).toBe(false);
  });

  it('reads the last hour of rejections and a market’s latest pushes by their buckets', async () => {
    const now = new Date();
    await store.rejections.write([
      { source: 'pyth', reason: 'stale', detail: 'old', raw: '{}', receivedAt: new Date(now.getTime() - 1_000) },
      { source: 'coingecko', reason: 'malformed', detail: 'x'.repeat(10), raw: 'y'.repeat(5_000), receivedAt: now },
    ]);
    const recent = await store.rejections.recent(new Date(now.getTime() - 3_600_000));
    expect(recent.map((r) => r.reason)).toEqual(['malformed', 'stale']);
    expect(recent[0]!.raw).toHaveLength(2_048);
    expect(await store.rejections.recent(new Date(now.getTime() - 3_600_000), { source: 'pyth' })).toHaveLength(1);

    const push = (symbol: string, i: number) => ({
      symbol, feedId: FEED, batchId: `b${i}`, attempt: 1, triggers: ['deviation' as const], price: '1', conf: '1', expo: -8, publishTime: i, receivedAt: now, decidedAt: now, outcome: 'confirmed' as const,
    });
    await store.pushes.record([push('SOL-PERP', 1), push('BTC-PERP', 2), push('SOL-PERP', 3)]);
    expect((await store.pushes.recent('SOL-PERP', 10)).map((p) => p.publishTime).sort()).toEqual([1, 3]);
    expect(await store.pushes.recent('SOL-PERP', 1)).toHaveLength(1);
  });

  it('reads a market’s newest pushes across its ten-minute buckets, the hour before and older hours, newest first', async () => {
    const hour = 1_800_061_200;
    let clock = 0;
    const log = createMongoPushLog(db, () => clock);
    await log.ensureIndexes();
    const push = (publishTime: number) => ({
      symbol: 'ETH-PERP', feedId: FEED, batchId: `e${publishTime}`, attempt: 1, triggers: ['heartbeat' as const], price: '1', conf: '1', expo: -8, publishTime, receivedAt: new Date(), decidedAt: new Date(), outcome: 'confirmed' as const,
    });
    for (const t of [hour - 7_100, hour - 3_300, hour - 1_800, hour + 60]) {
      clock = t * 1000;
      await log.record([push(t)]);
    }
    clock = (hour + 120) * 1000;
    expect((await log.recent('ETH-PERP', 2)).map((p) => p.publishTime)).toEqual([hour + 60, hour - 1_800]);
    expect(Object.keys((await log.recent('ETH-PERP', 1))[0]!)).not.toContain('ss');
    // One written before the ten-minute buckets existed (no `ss`), in the current hour: found by its hour.
    await db.collection(`oracle_pushes_${dayKey(hour)}`).insertOne({ ...push(hour + 30), recordedAt: new Date((hour + 30) * 1000), sh: `ETH-PERP:${hour}` });
    expect((await log.recent('ETH-PERP', 10)).map((p) => p.publishTime)).toEqual([hour + 60, hour + 30, hour - 1_800, hour - 3_300, hour - 7_100]);
  });

  it('lets the saga claim a trade again after a failed attempt or a dead run, never once done, and keeps the outcome and the alerts', async () => {
    const base = { _id: 'liquidate-P1-7', position: 'P1', owner: 'W1', symbol: 'SOL-PERP', openSlot: '7', detectedAt: new Date() };
    expect(await store.liquidations.claim({ ...base, claimant: 'k1' })).toBe(true);
    // The claim step retried on another keeper after k1 died with the claim written: taken over.
    expect(await store.liquidations.claim({ ...base, claimant: 'k2' })).toBe(true);
    await store.liquidations.sending(base._id, 'k1');
    await store.liquidations.sending(base._id, 'k1');
    await store.liquidations.release(base._id, { keeper: 'k1', reason: 'send_failed' });
    expect(await store.liquidations.claim({ ...base, claimant: 'k2' })).toBe(true);
    await store.liquidations.complete(base._id, { outcome: 'liquidated', keeper: 'k2', sizeLiquidated: '5' });
    expect(await store.liquidations.claim({ ...base, claimant: 'k3' })).toBe(false);
    const [doc] = await store.liquidations.byWallet('W1', 5);
    expect(doc).toMatchObject({ state: 'done', claimedBy: 'k2', senders: ['k1'], result: { outcome: 'liquidated' }, attempts: [{ keeper: 'k1', reason: 'send_failed' }] });
    expect((await store.liquidations.recent(5)).map((d) => d._id)).toEqual([base._id]);
    await store.alerts.record({ wallet: 'W1', kind: 'margin-warning', alert: { wallet: 'W1', position: 'P1', symbol: 'SOL-PERP', marginRatioBps: 600, maintenanceBps: 500, liquidationPrice: '1', at: 1 }, at: new Date() });
    expect((await store.alerts.byWallet('W1', 5)).map((a) => a.kind)).toEqual(['margin-warning']);
  });

  it('answers a ping within its bound', async () => {
    expect(await store.health.ping(1_000)).toMatchObject({ ok: true });
  });
});
