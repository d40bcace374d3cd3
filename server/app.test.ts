import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceFollower } from '../bus/follower.ts';
import { createMemoryBus, type MemoryBus } from '../bus/memory.ts';
import type { GradedPrice } from '../bus/roles.ts';
import type { ClientToServerEvents, PriceMessage, ServerToClientEvents, StatusMessage } from '../contracts/socket.ts';
import { gradePrice } from '../domain/validation.ts';
import { createLogger } from '../runtime/logger.ts';
import { loadMarkets } from '../runtime/markets.ts';
import { createMetricsRegistry } from '../runtime/metrics.ts';
import { createMemoryStore, type MemoryStore } from '../store/memory.ts';
import { ROOT, waitFor } from '../tests/support.ts';
import { createGateway, OPEN_ACCESS, type Gateway } from './app.ts';

/** The gateway on in-memory stores and an in-memory bus: REST, Socket.IO delivery, health. */
const markets = loadMarkets(`${ROOT}/config/markets.json`);
const SOL = markets.bySymbol('SOL-PERP')!;
const BTC = markets.bySymbol('BTC-PERP')!;
const ETH = markets.bySymbol('ETH-PERP')!;
const nowSec = () => Math.floor(Date.now() / 1000);
const log = createLogger('gw-test', 'silent');

const price = (publishTime: number, mantissa: bigint, market = SOL, extra: Partial<GradedPrice> = {}): GradedPrice => {
  const p = { symbol: market.symbol, feedId: market.pythFeedId, source: 'pyth' as const, price: mantissa, conf: 1_500_000n, expo: -8, publishTime, hasConfidence: true, receivedAt: publishTime * 1000, ...extra };
  return { ...p, grades: gradePrice(p, publishTime, market.validation) };
};

let store: MemoryStore;
let bus: MemoryBus;
let follower: PriceFollower;
let gateway: Gateway;
let url: string;
type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const clients: Client[] = [];
const connect = () => {
  const c: Client = io(url, { transports: ['websocket'] });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  store = createMemoryStore();
  bus = createMemoryBus();
  follower = new PriceFollower({ subscriber: bus.subscriber(), store: store.latest, markets, log, pollMs: 100 });
  await follower.start();
  gateway = await createGateway({ markets, follower, history: store.history, store: store.health, registry: createMetricsRegistry('gw-test'), log, healthTimeoutMs: 300, access: OPEN_ACCESS });
  url = `http://127.0.0.1:${new URL(await gateway.listen(0)).port}`;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await gateway?.close();
  await follower?.stop();
});

describe('gateway REST', () => {
  it('answers bad requests with a 4xx and the reason', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${url}${path}`);
      return { status: res.status, body: (await res.json()) as { error?: string } };
    };
    expect(await get('/api/prices/sol')).toEqual({ status: 400, body: { error: 'a symbol looks like SOL-PERP' } });
    expect(await get('/api/prices/DOGE-PERP')).toEqual({ status: 404, body: { error: 'unknown market DOGE-PERP' } });
    expect((await get('/api/prices/SOL-PERP/history?interval=0')).status).toBe(400);
    expect((await get('/api/prices/SOL-PERP/history?interval=abc')).body.error).toMatch(/interval/);
    expect((await get('/api/prices/SOL-PERP/history?interval=7')).body.error).toMatch(/divide 60/);
    expect((await get('/api/prices/SOL-PERP/history?from=10&to=5')).body.error).toBe('from must not be after to');
    expect((await get('/api/prices/SOL-PERP/history?from=1&to=900000')).body.error).toMatch(/at most/);
    expect((await get('/api/prices/SOL-PERP/history?evil=1')).status).toBe(400);
    expect((await get('/api/nothing')).status).toBe(404);
    const huge = await fetch(`${url}/api/prices/SOL-PERP?${'x'.repeat(20_000)}=1`);
    expect(huge.status).toBe(431);
  });

  it('serves candles of the served series from the history store', async () => {
    const t = 1_800_000_000;
    await store.history.append([price(t, 100n), price(t + 1, 120n), price(t + 1, 50n, SOL, { source: 'coingecko', conf: 0n, hasConfidence: false }), price(t + 61, 90n)]);
    const res = (await (await fetch(`${url}/api/prices/SOL-PERP/history?from=${t}&to=${t + 119}&interval=60`)).json()) as { expo: number; candles: { time: number; open: string; high: string; close: string; count: number }[] };
    expect(res.expo).toBe(-8);
    expect(res.candles).toMatchObject([
      { time: t - (t % 60), open: '0.00000100', high: '0.00000120', close: '0.00000120', count: 2 },
      { time: t - (t % 60) + 60, open: '0.00000090', count: 1 },
    ]);
  });
});

describe('gateway history reads', () => {
  it('allows a few at once per client, and frees a slot as soon as its client goes away', async () => {
    store.state.hang = true; // every read now hangs, as on a database that stopped answering
    const path = `${url}/api/prices/SOL-PERP/history?interval=60`;
    const hung = [0, 1, 2].map(() => new AbortController());
    const requests = hung.map((c) => fetch(path, { signal: c.signal }).catch(() => undefined));
    await waitFor('three reads in flight', async () => ((await fetch(path)).status === 429 ? true : undefined), 3_000);
    for (const c of hung) c.abort();
    await Promise.all(requests);
    store.state.hang = false;
    await waitFor('a read accepted again', async () => ((await fetch(path)).status === 200 ? true : undefined), 3_000);
  });
});

describe('gateway live delivery', () => {
  it('delivers bus prices to subscribers, graded on arrival and by age, and never a malformed or foreign one', async () => {
    const c = connect();
    const got: PriceMessage[] = [];
    c.on('prices', (batch) => got.push(...batch));
    expect(await c.timeout(2_000).emitWithAck('subscribe', 'SOL-PERP')).toMatchObject({ ok: false });
    expect(await c.timeout(2_000).emitWithAck('subscribe', ['NOPE-PERP'])).toEqual({ ok: false, error: 'unknown markets: NOPE-PERP' });
    expect(await c.timeout(2_000).emitWithAck('subscribe', ['SOL-PERP'])).toMatchObject({ ok: true });
    const t = nowSec();
    bus.publisher.publishPrices([price(t, 15_000_000_000n, BTC), price(t, 15_000_000_000n)]);
    await waitFor('the SOL price', () => got.find((p) => p.publishTime === t));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ symbol: 'SOL-PERP', price: '15000000000', stale: false, usableFor: ['display', 'push', 'margin', 'liquidation'] });
    // A wide confidence interval is shown, not used for margin or liquidation.
    bus.publisher.publishPrices([price(t + 1, 15_000_000_000n, SOL, { conf: 200_000_000n })]);
    const wide = await waitFor('the wide price', () => got.find((p) => p.publishTime === t + 1));
    expect(wide.usableFor).toEqual(['display']);
    // Every stage a bus price went through here was timed.
    const { stages } = (await (await fetch(`${url}/api/ops/latency`)).json()) as { stages: { stage: string; count: number; p99Ms?: number }[] };
    expect(stages.map((x) => x.stage)).toEqual(['source', 'validated', 'stored', 'bus', 'gateway', 'sockets', 'pushed', 'confirmed']);
    const here = stages.filter((x) => ['source', 'bus', 'gateway', 'sockets'].includes(x.stage));
    for (const x of here) expect(x.count, x.stage).toBeGreaterThan(0);
    for (const x of here) expect(x.p99Ms, x.stage).toBeGreaterThanOrEqual(0);
  });

  it('gives a slow client the latest price per market, not a backlog; sequence numbers show what it skipped', async () => {
    const c = connect();
    const got: PriceMessage[] = [];
    c.on('prices', (batch) => got.push(...batch));
    await c.timeout(2_000).emitWithAck('subscribe', ['SOL-PERP']);
    const tcp = (c.io.engine.transport as unknown as { ws: { _socket: import('node:net').Socket } }).ws._socket;
    tcp.pause();
    const base = nowSec() + 10;
    const N = 20_000;
    for (let i = 1; i <= N; i++) bus.publisher.publishPrices([price(base + i, 15_000_000_000n + BigInt(i))]);
    expect(gateway.hub.snapshot('SOL-PERP')?.publishTime).toBe(base + N);
    tcp.resume();
    await waitFor('the newest price', () => got.find((p) => p.publishTime === base + N));
    await new Promise((r) => setTimeout(r, 200));
    expect(got.at(-1)!.publishTime).toBe(base + N);
    expect(got.length).toBeLessThan(N / 2);
    for (let i = 1; i < got.length; i++) expect(got[i]!.seq).toBeGreaterThan(got[i - 1]!.seq);
  });

  it('announces staleness by age, even when no worker reports it', async () => {
    const c = connect();
    const statuses: StatusMessage[] = [];
    c.on('status', (s) => statuses.push(s));
    await c.timeout(2_000).emitWithAck('subscribe', ['ETH-PERP']);
    // Just young enough to display, and old enough to go stale within two seconds.
    bus.publisher.publishPrices([price(nowSec() - ETH.validation.maxAgeSec.display + 1, 350_000_000_000n, ETH)]);
    const stale = await waitFor('a stale status', () => statuses.find((s) => s.symbol === 'ETH-PERP' && s.stale && s.ageSec !== undefined), 5_000);
    expect(stale.ageSec).toBeGreaterThan(ETH.validation.maxAgeSec.display);
  });

  it('reports the bus down and back, serves from the store meanwhile, and health says what is degraded', async () => {
    const c = connect();
    const statuses: StatusMessage[] = [];
    c.on('status', (s) => statuses.push(s));
    await c.timeout(2_000).emitWithAck('subscribe', ['SOL-PERP']);
    bus.setState('down');
    await waitFor('a bus-down status', () => statuses.find((s) => s.bus === 'down'));
    // While the bus is down, a newer price reaches the store (the ingest worker writes it): it is served.
    const t = nowSec() + 30_000;
    await store.latest.writeLatest([price(t, 16_000_000_000n)], [price(t, 16_000_000_000n)]);
    await waitFor('the stored price served', () => (gateway.hub.snapshot('SOL-PERP')?.publishTime === t ? true : undefined), 3_000);
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { checks: { bus: string } }).checks.bus).toBe('down');
    bus.setState('up');
    await waitFor('a bus-up status', () => statuses.find((s) => s.bus === 'up'));
  });

  it('answers health within its timeout while the database hangs', async () => {
    store.state.hang = true;
    const started = Date.now();
    const res = await fetch(`${url}/api/health`);
    store.state.hang = false;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; checks: { mongodb: string } };
    expect(body.status).toBe('degraded');
    expect(body.checks.mongodb).toMatch(/^down: no answer within/);
  });

  it('shows per-market source problems, and follows a wallet room', async () => {
    bus.publisher.publishStatus({
      kind: 'sources',
      scope: 'sources:majors',
      symbols: ['SOL-PERP'],
      problems: { 'SOL-PERP': [{ source: 'pyth', reason: 'unauthorized', detail: 'HTTP 401: check the API key', since: Date.now() }] },
    });
    const body = (await (await fetch(`${url}/api/health`)).json()) as { degraded: { symbol: string; sources?: { reason: string }[] }[] };
    expect(body.degraded.find((d) => d.symbol === 'SOL-PERP')?.sources).toEqual([{ source: 'pyth', reason: 'unauthorized', detail: 'HTTP 401: check the API key' }]);

    const c = connect();
    expect(await c.timeout(2_000).emitWithAck('watch-wallet', 'not a key')).toMatchObject({ ok: false });
    expect(await c.timeout(2_000).emitWithAck('watch-wallet', '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin')).toEqual({ ok: true });
  });
});
