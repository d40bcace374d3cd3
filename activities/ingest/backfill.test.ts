import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, type MemoryBus } from '../../bus/memory.ts';
import type { MarketSim } from '../../sandbox/market-sim/market-sim.ts';
import { startSim } from '../../sandbox/market-sim/test-support.ts';
import { createMemoryStore, type MemoryStore } from '../../store/memory.ts';
import type { AcceptedPrice, HistoryRow } from '../../store/roles.ts';
import { testMarkets, waitFor } from '../../tests/support.ts';
import { createIngestActivities, type IngestOptions } from './activities.ts';
import { createCoinGeckoSource } from './coingecko.ts';
import { createHermesClient } from './hermes.ts';
import { ingestMetrics } from './metrics.ts';

/**
 * The gap backfill with the real ingest activities against the in-process market simulator, on
 * an in-memory store and bus: a worker streams, stops (killed, or its activity retried), the
 * simulator keeps publishing, a new worker streams again and fills the gap in history.
 */
const markets = testMarkets();
const GROUP = 'majors';
const group = markets.groups().get(GROUP)!;
const SOL = markets.bySymbol('SOL-PERP')!;
const journalRoot = mkdtempSync(join(tmpdir(), 'qd-backfill-test-'));
const nowSec = () => Math.floor(Date.now() / 1000);

type Line = { msg: string; [field: string]: unknown };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One ingest worker: the real activities, a log and metrics of its own. */
function startWorker(sim: MarketSim, store: MemoryStore, bus: MemoryBus, options: Partial<IngestOptions['backfill']> = {}) {
  const lines: Line[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
        done();
      },
    }),
  );
  const registry = new Registry();
  const hermes = createHermesClient({ url: sim.url });
  const ingest = createIngestActivities({
    markets,
    store,
    bus: bus.publisher,
    hermes,
    coingecko: createCoinGeckoSource({ url: sim.url, keyHeader: 'x-cg-demo-api-key' }),
    reportProgress: async () => undefined,
    metrics: ingestMetrics(registry),
    log,
    writer: { journalDir: journalRoot, flushMs: 20 },
    options: { backfill: { requestsPerSec: 50, retryBaseMs: 20, ...options } },
  });
  const env = new MockActivityEnvironment();
  const running = env.run(ingest.activities.streamPyth, { feedGroup: GROUP }).then(
    () => 'returned',
    (e: Error) => e.name,
  );
  const stop = async () => {
    env.cancel();
    const ended = await running;
    await ingest.backfill.stop();
    await ingest.writer.close();
    return ended;
  };
  cleanups.push(stop);
  const metric = async (name: string, labels = '') => {
    const line = (await registry.getSingleMetricAsString(name)).split('\n').find((l) => l.startsWith(name) && l.includes(labels));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const logged = (msg: string) => lines.filter((l) => l.msg === msg);
  return { ingest, hermes, lines, logged, metric, running, stop };
}

const pythRows = async (store: MemoryStore, feedId: string, from: number, to: number): Promise<HistoryRow[]> =>
  to < from ? [] : (await store.history.updates(feedId, from, to)).filter((r) => r.source === 'pyth');

/** Per feed of the group, the publish time of its last accepted Pyth update in the store. */
async function lastMarks(store: MemoryStore): Promise<Map<string, number>> {
  const marks = await store.latest.lastAccepted(group.map((m) => m.pythFeedId));
  return new Map(group.map((m) => [m.pythFeedId, marks.get(`${m.pythFeedId}:pyth`)!.publishTime]));
}

/** Per feed, the publish time of the first price a worker published on the bus after `fromBatch`. */
function firstOnBus(bus: MemoryBus, fromBatch: number): Map<string, number> {
  const first = new Map<string, number>();
  for (const b of bus.published.slice(fromBatch)) for (const p of b.prices) if (p.source === 'pyth' && !first.has(p.feedId)) first.set(p.feedId, p.publishTime);
  return first;
}

/** The seconds in [from, to] at which the simulator published an update of the feed (strict publish times: one each). */
function publishedSeconds(sim: MarketSim, feedId: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t <= to; t++) if (sim.publishedAt(feedId, t) !== undefined) out.push(t);
  return out;
}

/** A worker that streamed until every feed of the group is in history, then stopped; returns its marks. */
async function streamThenStop(sim: MarketSim, store: MemoryStore, bus: MemoryBus): Promise<Map<string, number>> {
  const first = startWorker(sim, store, bus);
  await waitFor('every feed in history', async () => {
    for (const m of group) if ((await pythRows(store, m.pythFeedId, nowSec() - 60, nowSec() + 5)).length < 2) return undefined;
    return true;
  });
  expect(await first.stop()).toBe('CancelledFailure');
  return lastMarks(store);
}

describe('Pyth gap backfill (ingest activities against the market simulator)', () => {
  it('stores, once each, every update published while the stream was closed; none served, none on the bus; a bad one rejected with its reason', async () => {
    // Strict publish times: one update per feed per second, each one fetchable by its second.
    const sim = await startSim({ strictPublishTime: true, seed: 17 });
    const store = createMemoryStore();
    const bus = createMemoryBus();
    const lastKnown = await streamThenStop(sim, store, bus);

    // The stream is closed for several seconds; the simulator publishes on, one SOL update absurd.
    const gapStart = new Date();
    await sleep(1_500);
    sim.control.inject('pyth', 'negative-price', { count: 1, feeds: ['SOL-PERP'] });
    await sleep(3_000);

    const busBefore = bus.published.length;
    const second = startWorker(sim, store, bus);
    await waitFor('the gap backfilled', () => second.logged('pyth_backfilled')[0], 20_000);
    await second.ingest.writer.flush(true);
    const firstLive = firstOnBus(bus, busBefore);

    let backfilled = 0;
    for (const m of group) {
      const from = lastKnown.get(m.pythFeedId)! + 1;
      const to = firstLive.get(m.pythFeedId)! - 1;
      const published = publishedSeconds(sim, m.pythFeedId, from, to);
      expect(published.length, m.symbol).toBeGreaterThanOrEqual(3);
      const rows = await pythRows(store, m.pythFeedId, from, to);
      let expected = published;
      if (m.symbol === 'SOL-PERP') {
        const [bad, ...more] = await store.rejections.recent(gapStart, { source: 'pyth', reason: 'non_positive_price' });
        expect(more).toEqual([]);
        expect(bad).toMatchObject({ symbol: 'SOL-PERP', feedId: SOL.pythFeedId });
        expect(published).toContain(bad!.publishTime);
        expected = published.filter((t) => t !== bad!.publishTime);
      }
      // Each update the simulator published in the gap is in history exactly once, values as published.
      expect(rows.map((r) => r.publishTime), m.symbol).toEqual(expected);
      for (const r of rows) expect(sim.publishedAt(m.pythFeedId, r.publishTime, r.price), `${m.symbol} ${r.publishTime}`).toBeTypeOf('number');
      backfilled += rows.length;
      expect(await second.metric('qd_price_backfilled_total', `symbol="${m.symbol}"`)).toBe(rows.length);
    }

    // Never on the bus, never the served price, never the last accepted mark.
    for (const b of bus.published.slice(busBefore)) {
      for (const p of b.prices) expect(p.publishTime, `${p.symbol} on the bus`).toBeGreaterThanOrEqual(firstLive.get(p.feedId)!);
    }
    const latest = await store.latest.latest(group.map((m) => m.pythFeedId));
    for (const d of latest) expect(d.publishTime).toBeGreaterThanOrEqual(firstLive.get(d.feedId)!);
    for (const [feedId, t] of await lastMarks(store)) expect(t).toBeGreaterThanOrEqual(firstLive.get(feedId)!);

    const [line] = second.logged('pyth_backfilled');
    expect(line).toMatchObject({ feedGroup: GROUP, feeds: group.map((m) => m.symbol), updates: backfilled, rejected: 1 });
    expect(line!.seconds).toBeGreaterThanOrEqual(4);
    expect(await second.metric('qd_backfill_gaps_total', 'outcome="filled"')).toBe(group.length);
    expect(await second.metric('qd_price_rejections_total', 'reason="non_positive_price"')).toBe(1);
    const rowsAfterFirstFill = await Promise.all(group.map((m) => pythRows(store, m.pythFeedId, lastKnown.get(m.pythFeedId)! + 1, nowSec())));

    // A worker that starts from an older mark fetches all of it again: history keeps one of each, and nothing fails.
    expect(await second.stop()).toBe('CancelledFailure');
    await store.latest.writeLatest(
      group.map((m): AcceptedPrice => ({ symbol: m.symbol, feedId: m.pythFeedId, source: 'pyth', price: 1n, conf: 0n, expo: -8, publishTime: lastKnown.get(m.pythFeedId)!, hasConfidence: true, receivedAt: 0 })),
      [],
    );
    const third = startWorker(sim, store, bus);
    await waitFor('the gap backfilled again', () => third.logged('pyth_backfilled')[0], 20_000);
    await third.ingest.writer.flush(true);
    expect(third.lines.filter((l) => /failed|crashed/.test(l.msg))).toEqual([]);
    expect(await third.metric('qd_price_backfilled_total', 'symbol="SOL-PERP"')).toBeGreaterThan(0);
    for (const [i, m] of group.entries()) {
      const rows = await pythRows(store, m.pythFeedId, lastKnown.get(m.pythFeedId)! + 1, nowSec());
      const keys = rows.map((r) => `${r.publishTime}:${r.slot}`);
      expect(new Set(keys).size, m.symbol).toBe(keys.length);
      expect(rows.slice(0, rowsAfterFirstFill[i]!.length)).toEqual(rowsAfterFirstFill[i]);
    }
  }, 60_000);

  it('skips a gap longer than the maximum: logged once, counted, nothing fetched', async () => {
    const sim = await startSim({ strictPublishTime: true, seed: 18 });
    const store = createMemoryStore();
    const bus = createMemoryBus();
    const lastKnown = await streamThenStop(sim, store, bus);
    await sleep(4_000);

    const busBefore = bus.published.length;
    const second = startWorker(sim, store, bus, { maxGapSec: 2 });
    let fetched = 0;
    const at = second.hermes.getPriceUpdatesAtTimestamp.bind(second.hermes);
    second.hermes.getPriceUpdatesAtTimestamp = (...args) => ((fetched += 1), at(...args));
    const [skipped] = await waitFor('the skip', () => second.logged('pyth_backfill_skipped').length > 0 && second.logged('pyth_backfill_skipped'), 15_000);
    await waitFor('live prices of every feed', () => firstOnBus(bus, busBefore).size === group.length || undefined);
    await sleep(500);
    await second.ingest.writer.flush(true);

    expect(second.logged('pyth_backfill_skipped')).toHaveLength(1);
    expect(skipped).toMatchObject({ feedGroup: GROUP, feeds: group.map((m) => m.symbol), maxGapSec: 2 });
    expect(skipped!.seconds).toBeGreaterThan(2);
    expect(second.logged('pyth_backfilled')).toEqual([]);
    expect(fetched).toBe(0);
    expect(await second.metric('qd_backfill_gaps_total', 'outcome="skipped"')).toBe(group.length);
    expect(await second.metric('qd_price_backfilled_total')).toBe(0);
    // The gap stays a gap: what was published in it is not in history.
    const firstLive = firstOnBus(bus, busBefore);
    for (const m of group) {
      const from = lastKnown.get(m.pythFeedId)! + 1;
      const to = firstLive.get(m.pythFeedId)! - 1;
      expect(publishedSeconds(sim, m.pythFeedId, from, to).length).toBeGreaterThanOrEqual(2);
      expect(await pythRows(store, m.pythFeedId, from, to)).toEqual([]);
    }
  }, 40_000);

  it('loses only the second whose answer cannot be read, however often asked, and fills the rest of the gap', async () => {
    const sim = await startSim({ strictPublishTime: true, seed: 20 });
    const store = createMemoryStore();
    const bus = createMemoryBus();
    const lastKnown = await streamThenStop(sim, store, bus);
    await sleep(4_000);

    const busBefore = bus.published.length;
    const second = startWorker(sim, store, bus, { retries: 2, retryBaseMs: 20 });
    // The gap's second second answers a truncated body each time, as the real client reports it.
    const bad = Math.min(...lastKnown.values()) + 2;
    let badAsked = 0;
    const at = second.hermes.getPriceUpdatesAtTimestamp.bind(second.hermes);
    second.hermes.getPriceUpdatesAtTimestamp = (t, ...rest) => {
      if (t !== bad) return at(t, ...rest);
      badAsked += 1;
      return Promise.reject(new SyntaxError('Unterminated string in JSON at position 512'));
    };
    const [partly] = await waitFor('the gap backfilled', () => second.logged('pyth_backfilled_partly').length > 0 && second.logged('pyth_backfilled_partly'), 20_000);
    await second.ingest.writer.flush(true);
    const firstLive = firstOnBus(bus, busBefore);

    expect(badAsked).toBe(3);
    const [unread, ...more] = second.logged('pyth_backfill_unreadable');
    expect(more).toEqual([]);
    expect(unread).toMatchObject({ at: bad });
    expect(String(unread!.err)).toContain('Unterminated string');
    expect(partly).toMatchObject({ feedGroup: GROUP, unreadable: 1 });
    expect(second.logged('pyth_backfill_failed')).toEqual([]);
    expect(await second.metric('qd_backfill_gaps_total', 'outcome="partial"')).toBe(group.length);
    for (const m of group) {
      const from = lastKnown.get(m.pythFeedId)! + 1;
      const to = firstLive.get(m.pythFeedId)! - 1;
      const published = publishedSeconds(sim, m.pythFeedId, from, to);
      expect(published.filter((t) => t > bad).length, m.symbol).toBeGreaterThanOrEqual(2);
      const rows = await pythRows(store, m.pythFeedId, from, to);
      expect(rows.map((r) => r.publishTime), m.symbol).toEqual(published.filter((t) => t !== bad));
    }
  }, 40_000);

  it('retries a failing Hermes a few times with backoff, then gives the gap up and logs it; the stream goes on', async () => {
    const sim = await startSim({ strictPublishTime: true, seed: 19 });
    const store = createMemoryStore();
    const bus = createMemoryBus();
    await streamThenStop(sim, store, bus);
    await sleep(2_500);

    const busBefore = bus.published.length;
    const second = startWorker(sim, store, bus, { retries: 3, retryBaseMs: 50 });
    const calls: number[] = [];
    second.hermes.getPriceUpdatesAtTimestamp = async () => {
      calls.push(Date.now());
      throw new Error('HTTP error! status: 503, body: upstream unavailable');
    };
    const [failed] = await waitFor('the give-up', () => second.logged('pyth_backfill_failed').length > 0 && second.logged('pyth_backfill_failed'), 15_000);
    expect(failed).toMatchObject({ feedGroup: GROUP, feeds: group.map((m) => m.symbol), updates: 0 });
    expect(String(failed!.err)).toContain('status: 503');
    // One try and three retries, each after a longer pause.
    expect(calls).toHaveLength(4);
    const pauses = calls.slice(1).map((t, i) => t - calls[i]!);
    expect(pauses[0]).toBeGreaterThanOrEqual(45);
    expect(pauses[2]).toBeGreaterThanOrEqual(190);
    expect(await second.metric('qd_backfill_gaps_total', 'outcome="failed"')).toBe(group.length);

    // The stream never noticed: still running, still publishing fresh prices.
    const count = bus.published.length;
    await waitFor('more live prices', () => bus.published.length > count || undefined, 5_000);
    expect(firstOnBus(bus, busBefore).size).toBe(group.length);
    expect(await Promise.race([second.running, sleep(200, 'running')])).toBe('running');
  }, 40_000);
});
