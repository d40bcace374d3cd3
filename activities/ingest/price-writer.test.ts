import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.ts';
import { createMetricsRegistry } from '../../runtime/metrics.ts';
import { createMemoryStore, type MemoryStore } from '../../store/memory.ts';
import type { AcceptedPrice } from '../../store/roles.ts';
import { startProcess, testMarkets, waitFor } from '../../tests/support.ts';
import { ingestMetrics } from './metrics.ts';
import { PriceWriter, type PriceWriterOptions } from './price-writer.ts';

const markets = testMarkets();
const SOL = markets.bySymbol('SOL-PERP')!;
const T = 1_800_000_000;
const price = (i: number): AcceptedPrice => ({
  symbol: SOL.symbol,
  feedId: SOL.pythFeedId,
  source: 'pyth',
  price: BigInt(1_000 + i),
  conf: 1n,
  expo: -8,
  publishTime: T + i,
  slot: i,
  hasConfidence: true,
  receivedAt: Date.now(),
});

function setup(store: MemoryStore, opts: Partial<PriceWriterOptions> = {}, now?: () => number) {
  const registry = createMetricsRegistry('writer-test');
  const metrics = ingestMetrics(registry);
  const journalDir = opts.journalDir ?? mkdtempSync(join(tmpdir(), 'qd-journal-'));
  const writer = new PriceWriter(store, markets, createLogger('writer-test', 'silent'), metrics, { flushMs: 10, retryMaxMs: 50, ...opts, journalDir }, now);
  const metric = async (name: string) => Number(/\s(\S+)$/.exec((await registry.getSingleMetricAsString(name)).split('\n').at(-1)!)![1]);
  return { writer, journalDir, metric };
}
const stored = async (store: MemoryStore) => (await store.history.updates(SOL.pythFeedId, T, T + 3_599)).map((r) => r.publishTime - T);

describe('PriceWriter', () => {
  it('keeps every price while the database is down, retries, and stores each exactly once when it returns', async () => {
    const store = createMemoryStore();
    const { writer, journalDir, metric } = setup(store);
    store.state.down = true;
    for (let i = 0; i < 50; i++) writer.addPrice(price(i), true);
    await waitFor('failed writes', async () => (await metric('qd_store_write_failures_total')) >= 2 || undefined);
    expect(writer.backlog).toBe(50);
    expect(await metric('qd_ingest_write_backlog')).toBe(50);
    store.state.down = false;
    await waitFor('all stored', async () => (await stored(store)).length === 50 || undefined);
    expect(await stored(store)).toEqual([...Array(50).keys()]);
    expect(await metric('qd_price_history_written_total')).toBe(50);
    expect(writer.backlog).toBe(0);
    // The served price reached the store too, and a clean stop leaves no journal behind.
    expect((await store.latest.latest([SOL.pythFeedId]))[0]?.publishTime).toBe(T + 49);
    await writer.close();
    expect(readdirSync(journalDir)).toEqual([]);
  });

  it('holds at most maxInMemory entries while the database is away; the rest wait in the journal and are read back', async () => {
    const store = createMemoryStore();
    const { writer } = setup(store, { maxInMemory: 10, batchMax: 7 });
    store.state.down = true;
    for (let i = 0; i < 200; i++) writer.addPrice(price(i), false);
    expect((writer as unknown as { queue: unknown[] }).queue.length).toBe(10);
    expect(writer.backlog).toBe(200);
    store.state.down = false;
    await waitFor('all stored', async () => (await stored(store)).length === 200 || undefined, 10_000);
    expect(await stored(store)).toEqual([...Array(200).keys()]);
    // New prices after catching up are kept in memory again.
    writer.addPrice(price(200), false);
    await waitFor('the new one', async () => (await stored(store)).length === 201 || undefined);
    await writer.close();
  });

  it('adopts the journal of a worker killed with prices unwritten, and writes them exactly once', async () => {
    const journalDir = mkdtempSync(join(tmpdir(), 'qd-journal-'));
    const child = startProcess('activities/ingest/price-writer.child.ts', {}, [journalDir, '300']);
    await waitFor('the child to accept', () => child.output().includes('accepted 300') || undefined, 30_000);
    await child.kill('SIGKILL');
    const store = createMemoryStore();
    await store.history.append([price(0), price(1)]); // some had reached the database before the crash
    const { writer } = setup(store, { journalDir });
    await waitFor('the adopted prices', async () => (await stored(store)).length === 300 || undefined, 10_000);
    expect(await stored(store)).toEqual([...Array(300).keys()]);
    await waitFor('the adopted journal gone', () => readdirSync(journalDir).length === 1 || undefined);
    await writer.close();
  });

  it('seals a minute once it is over and all its updates are stored', async () => {
    const store = createMemoryStore();
    const sealed: number[] = [];
    const seal = store.history.seal;
    store.history.seal = async (feeds, minute) => (sealed.push(minute), seal(feeds, minute));
    let clock = (T + 10) * 1000;
    const { writer } = setup(store, { sealGraceMs: 1_000 }, () => clock);
    writer.addPrice({ ...price(10), receivedAt: clock }, true);
    await writer.flush();
    expect(sealed).toEqual([]);
    clock = (T + 60) * 1000 + 500; // the minute is over, not its grace
    await writer.flush();
    expect(sealed).toEqual([]);
    clock = (T + 62) * 1000;
    await writer.flush();
    expect(sealed).toEqual([T - (T % 60)]);
    await writer.close();
  });
});
