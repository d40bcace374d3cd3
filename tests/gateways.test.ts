import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWalletAlerts } from '../bus/wallet-alerts.ts';
import type { PriceMessage, StatusMessage } from '../contracts/socket.ts';
import { ingestWorkflowId } from '../contracts/temporal.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import { connectClient } from '../temporal/connection.ts';
import {
  LiveClient,
  createTestNamespace,
  freePort,
  priceKey,
  recordBus,
  startProcess,
  testConfig,
  testDatabaseUri,
  testMarkets,
  uniqueName,
  waitFor,
  waitForHttp,
  type ChildHandle,
} from './support.ts';

/**
 * Two gateways (server/main.ts, two processes on their own ports) on one bus and one database, fed
 * by one ingest worker on the market simulator. Each follows the bus itself and delivers to its own
 * sockets: a client on either sees every price and every status, in order per market; a client that
 * stops reading gets the newest price, not a backlog; a wallet alert sent from any process through
 * the Socket.IO Redis adapter reaches the wallet's watchers on both gateways.
 */
const markets = testMarkets();
const SYMBOLS = markets.all.map((m) => m.symbol);
const busPrefix = uniqueName('qd-gw-test');

let sim: MarketSim;
let namespace: string;
let env: Record<string, string>;
let ingest: ChildHandle;
const gateways: { name: string; url: string; handle: ChildHandle }[] = [];
let bus: ReturnType<typeof recordBus>;
let a: LiveClient;
let b: LiveClient;
const clients: LiveClient[] = [];

const client = (url: string) => {
  const c = new LiveClient(url);
  clients.push(c);
  return c;
};

async function startGateway(name: string) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const handle = startProcess('server/main.ts', { ...env, QD_GATEWAY_PORT: String(port), QD_GATEWAY_URL: url });
  gateways.push({ name, url, handle });
  return { url, handle };
}

beforeAll(async () => {
  sim = createMarketSim({ port: 0, seed: 21, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  namespace = uniqueName('gateways');
  await createTestNamespace(namespace);
  env = {
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: testDatabaseUri(uniqueName('qd-gw')),
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_BUS_PREFIX: busPrefix,
    QD_DATA_DIR: mkdtempSync(join(tmpdir(), 'qd-gw-test-')),
    QD_COINGECKO_POLL_MS: '500',
    QD_LOG_LEVEL: 'info',
  };
  // Recording before anything publishes: every price on the bus is known to the test.
  bus = recordBus(testConfig.redisUrl, busPrefix);
  await waitFor('the bus recorder subscribed', () => bus.subscriber.state === 'up' || undefined);
  ingest = startProcess('workers/ingest/main.ts', env);
  const [gwA, gwB] = await Promise.all([startGateway('A'), startGateway('B')]);
  await Promise.all([waitForHttp(`${gwA.url}/api/live`, gwA.handle), waitForHttp(`${gwB.url}/api/live`, gwB.handle)]);
  a = client(gwA.url);
  b = client(gwB.url);
  await Promise.all([a.subscribe(SYMBOLS), b.subscribe(SYMBOLS)]);
}, 150_000);

afterAll(async () => {
  for (const c of clients) c.close();
  const temporal = await connectClient({ ...testConfig.temporal, namespace }).catch(() => undefined);
  for (const group of markets.groups().keys()) await temporal?.workflow.getHandle(ingestWorkflowId(group)).terminate('test over').catch(() => undefined);
  await temporal?.connection.close();
  await Promise.all([ingest?.kill(), ...gateways.map((g) => g.handle.kill())]);
  await bus?.close();
  await sim?.stop();
}, 60_000);

afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  for (const g of gateways) console.error(`gateway ${g.name} output (tail):\n${g.handle.output().split('\n').slice(-30).join('\n')}`);
  console.error(`ingest worker output (tail):\n${ingest.output().split('\n').slice(-30).join('\n')}`);
});

/** Position of each price in the bus's own sequence of that market (what every gateway takes, in order). */
function busRanks(): Map<string, number> {
  const ranks = new Map<string, number>();
  const perSymbol = new Map<string, number>();
  for (const p of bus.prices) {
    const r = perSymbol.get(p.symbol) ?? 0;
    ranks.set(priceKey(p), r);
    perSymbol.set(p.symbol, r + 1);
  }
  return ranks;
}

const lastStatus = (c: LiveClient, symbol: string) => c.statuses.filter((s) => s.symbol === symbol).at(-1);
/** A status as both gateways must send it: everything but this gateway's clock and the price age it computes. */
const statusSignature = ({ at: _at, ageSec: _age, arrivedAt: _arr, ...s }: StatusMessage & { arrivedAt: number }) => JSON.stringify(s);

describe('two gateways on one bus', () => {
  it('deliver every price to a client on each, in order per market, numbered by each gateway, the same sequence on both', async () => {
    await waitFor('prices of every market on both gateways', () => SYMBOLS.every((s) => a.of(s).length > 0 && b.of(s).length > 0) || undefined, 90_000, 250);
    const from = bus.prices.length;
    await waitFor('15 more prices of every market on the bus', () => SYMBOLS.every((s) => bus.prices.slice(from).filter((p) => p.symbol === s).length >= 15) || undefined, 30_000, 250);
    const window = bus.prices.slice(from);
    const newest = new Map(SYMBOLS.map((s) => [s, priceKey(window.filter((p) => p.symbol === s).at(-1)!)]));
    // Both clients hold the window's last price of every market (or a newer one).
    await waitFor('both clients caught up', () => {
      const ranks = busRanks();
      return [a, b].every((c) => SYMBOLS.every((s) => c.of(s).some((p) => (ranks.get(priceKey(p)) ?? -1) >= ranks.get(newest.get(s)!)!))) || undefined;
    });

    const ranks = busRanks();
    const missed = { a: 0, b: 0 };
    let expectedTotal = 0;
    for (const s of SYMBOLS) {
      const expected = window.filter((p) => p.symbol === s).map(priceKey);
      expectedTotal += expected.length;
      const [lo, hi] = [ranks.get(expected[0]!)!, ranks.get(expected.at(-1)!)!];
      for (const [name, c] of [['a', a], ['b', b]] as const) {
        const got = c.of(s);
        // Each gateway numbers its prices per market: strictly increasing, always.
        for (let i = 1; i < got.length; i++) expect(got[i]!.seq, `${name} ${s} seq`).toBeGreaterThan(got[i - 1]!.seq);
        // From the window on, only what the bus carried, in the bus's order; a gateway's number moves
        // on by exactly the prices it took, so a jump is exactly what it skipped for this client
        // (latest-value delivery).
        expect(got.filter((p) => p.arrivedAt >= window[0]!.arrivedAt && !ranks.has(priceKey(p))).map(priceKey), `${name} ${s}: not on the bus`).toEqual([]);
        const onBus = got.filter((p) => (ranks.get(priceKey(p)) ?? -1) >= lo);
        for (let i = 1; i < onBus.length; i++) {
          const [x, y] = [onBus[i - 1]!, onBus[i]!];
          expect(ranks.get(priceKey(y))! - ranks.get(priceKey(x))!, `${name} ${s}: seq ${x.seq} → ${y.seq}`).toBe(y.seq - x.seq);
        }
        const inWindow = onBus.filter((p) => ranks.get(priceKey(p))! <= hi).map(priceKey);
        missed[name] += expected.length - inWindow.length;
        for (const k of inWindow) expect(expected).toContain(k);
      }
    }
    // A client that keeps up misses nothing. (A jump can only come from a moment when this
    // client's connection was still busy, e.g. a machine stalled; it must stay the exception.)
    expect(missed.a + missed.b).toBeLessThanOrEqual(Math.ceil(expectedTotal * 0.05));
    if (missed.a + missed.b === 0) {
      // Neither was slow: both saw exactly the bus's sequence of every market.
      for (const s of SYMBOLS) {
        const expected = window.filter((p) => p.symbol === s).map(priceKey);
        const [lo, hi] = [ranks.get(expected[0]!)!, ranks.get(expected.at(-1)!)!];
        const seen = (c: LiveClient) => c.of(s).map(priceKey).filter((k) => ranks.has(k) && ranks.get(k)! >= lo && ranks.get(k)! <= hi);
        expect(seen(a)).toEqual(expected);
        expect(seen(b)).toEqual(expected);
      }
    } else console.warn(`gateways test: a client was slow for a moment (missed a=${missed.a}, b=${missed.b} of ${expectedTotal})`);
  }, 150_000);

  it('deliver every status to a client on each, the same on both: Pyth dies, CoinGecko serves, Pyth returns', async () => {
    // Start from a quiet moment, so that no report is in flight when the counts are taken.
    await waitFor('a quiet status channel', () => Date.now() - (bus.statuses.at(-1)?.arrivedAt ?? 0) > 1_500 || undefined, 30_000, 100);
    const mark = { bus: bus.statuses.length, a: a.statuses.length, b: b.statuses.length };
    sim.control.kill('pyth');
    await waitFor('CoinGecko mode on both gateways', () => [a, b].every((c) => SYMBOLS.every((s) => lastStatus(c, s)?.mode === 'coingecko')) || undefined, 30_000, 100);
    // Prices go on, from CoinGecko, on both.
    const switched = Date.now();
    await waitFor('CoinGecko prices on both', () => [a, b].every((c) => c.prices.some((p) => p.source === 'coingecko' && p.arrivedAt > switched)) || undefined, 15_000, 100);
    sim.control.restore('pyth');
    await waitFor(
      'Pyth mode again, no source problem, on both gateways',
      () => [a, b].every((c) => SYMBOLS.every((s) => lastStatus(c, s)?.mode === 'pyth' && !lastStatus(c, s)?.sources)) || undefined,
      30_000,
      100,
    );
    // Every report on the bus is one status per market it names, on each gateway. Compared once
    // the status channel is quiet again, so that nothing is in flight.
    const after = (c: LiveClient, from: number, sym: string) => c.statuses.slice(from).filter((x) => x.symbol === sym);
    const settled = await waitFor('every status on both clients, the channel quiet', () => {
      const reports = bus.statuses.slice(mark.bus);
      if (Date.now() - (bus.statuses.at(-1)?.arrivedAt ?? 0) < 1_000) return undefined;
      const per = SYMBOLS.map((s) => ({ s, expected: reports.filter((r) => r.symbols.includes(s)).length, onA: after(a, mark.a, s), onB: after(b, mark.b, s) }));
      return per.every((x) => x.onA.length >= x.expected && x.onB.length >= x.expected) ? { reports, per } : undefined;
    }, 20_000, 100);
    for (const { s, expected, onA, onB } of settled.per) {
      expect(onA.length, `${s}: statuses on A`).toBe(expected);
      expect(onB.length, `${s}: statuses on B`).toBe(expected);
      expect(onA.map(statusSignature)).toEqual(onB.map(statusSignature));
      // In the order the workers reported them: the modes follow the ingest reports.
      const modes = settled.reports.filter((r) => r.kind === 'ingest' && r.symbols.includes(s)).map((r) => (r.kind === 'ingest' ? r.mode : undefined));
      expect(modes).toEqual(['coingecko', 'pyth']);
      const seenModes = onA.map((x) => x.mode).filter((m, i, all) => i === 0 || m !== all[i - 1]);
      expect(seenModes.slice(-2)).toEqual(['coingecko', 'pyth']);
      for (const x of [...onA, ...onB]) expect(x.bus).toBe('up');
    }
  }, 120_000);

  it('deliver a wallet alert sent from another process to its watchers on both gateways, and to no one else', async () => {
    const [urlA, urlB] = [gateways[0]!.url, gateways[1]!.url];
    const wallet = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
    const onB = client(urlB);
    const onA = client(urlA);
    const elsewhere = client(urlA);
    await Promise.all([onB.watchWallet(wallet), onA.watchWallet(wallet), elsewhere.watchWallet('4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T')]);
    const redis = new Redis(testConfig.redisUrl);
    try {
      const alerts = createWalletAlerts(redis, busPrefix);
      const warning = { wallet, position: 'pos-1', symbol: 'SOL-PERP', marginRatioBps: 620, maintenanceBps: 500, liquidationPrice: '141.250000', at: Date.now() };
      alerts.marginWarning(warning);
      await waitFor('the margin warning on both gateways', () => (onA.alerts.length > 0 && onB.alerts.length > 0) || undefined);
      const liquidation = { wallet, position: 'pos-1', symbol: 'SOL-PERP', outcome: 'liquidated', size: '1000000000', price: '140.900000', at: Date.now() };
      alerts.liquidation(liquidation);
      await waitFor('the liquidation on both gateways', () => (onA.alerts.length > 1 && onB.alerts.length > 1) || undefined);
      for (const c of [onA, onB]) {
        expect(c.alerts).toEqual([
          { event: 'margin-warning', body: warning },
          { event: 'liquidation', body: liquidation },
        ]);
      }
      // A client watching another wallet, and clients watching none, got nothing.
      expect(elsewhere.alerts).toEqual([]);
      expect([...a.alerts, ...b.alerts]).toEqual([]);
    } finally {
      redis.disconnect();
      for (const c of [onA, onB, elsewhere]) c.close();
    }
  }, 60_000);

  it('give a client that stops reading the newest price after it resumes, not a backlog', async () => {
    const urlA = gateways[0]!.url;
    const slow = client(urlA);
    await slow.subscribe(SYMBOLS);
    await waitFor('prices to the slow client', () => slow.of('SOL-PERP').length > 0 || undefined, 15_000);
    const snapshot = async () => ((await (await fetch(`${urlA}/api/prices/SOL-PERP`)).json()) as { price: PriceMessage }).price;
    const seqBefore = (await snapshot()).seq;
    const gotBefore = slow.of('SOL-PERP').length;
    slow.tcp.pause();
    // A burst from the source: several times what the kernel's socket buffers hold for one client
    // (about 4 MB here), so that the gateway finds the connection busy.
    const BURST = 5_000;
    for (let i = 0; i < BURST; i++) sim.step();
    const burstSlot = (sim.prices(['SOL-PERP'])[0]!.pyth as { metadata: { slot: number } }).metadata.slot;
    // Gateway A has taken the whole burst (its sequence number counts every price it took).
    await waitFor('gateway A past the burst', async () => ((await snapshot()).slot ?? 0) >= burstSlot || undefined, 120_000, 250);
    const newest = await snapshot();
    const took = newest.seq - seqBefore;
    expect(took).toBeGreaterThan(BURST * 0.8);
    slow.tcp.resume();
    // What the kernel held arrives first, then the newest price of every market, not the rest.
    const latest = await waitFor('the newest price after resuming', () => slow.of('SOL-PERP').find((p) => p.seq >= newest.seq), 30_000, 50);
    expect(latest.publishTime).toBeGreaterThanOrEqual(newest.publishTime);
    const got = slow.of('SOL-PERP').slice(gotBefore).filter((p) => p.seq <= latest.seq);
    expect(got.length).toBeLessThan(took / 2);
    for (let i = 1; i < got.length; i++) expect(got[i]!.seq).toBeGreaterThan(got[i - 1]!.seq);
    // The jumps in the sequence numbers show what it skipped.
    expect(got.at(-1)!.seq - got[0]!.seq + 1).toBeGreaterThan(got.length);
  }, 180_000);
});
