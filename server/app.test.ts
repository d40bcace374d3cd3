import type { Connection } from 'mongoose';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../activities/store/connection.ts';
import { createPriceStore, priceModels } from '../activities/store/prices.ts';
import { createLogger } from '../runtime/logger.ts';
import { loadMarkets } from '../runtime/markets.ts';
import { createMetricsRegistry } from '../runtime/metrics.ts';
import { ROOT, testDatabaseUri, uniqueName, waitFor } from '../tests/support.ts';
import { createGateway, type Gateway } from './app.ts';
import { INTERNAL_NAMESPACE, type PriceMessage, type StatusMessage, type WirePrice } from './events.ts';

const markets = loadMarkets(`${ROOT}/config/markets.json`);
const SOL = markets.bySymbol('SOL-PERP')!;
const TOKEN = 'gateway-test-token-0123456789';
let db: Connection;
let gateway: Gateway;
let url: string;
let worker: Socket;

const price = (publishTime: number, mantissa: bigint, symbol = SOL): WirePrice => ({
  symbol: symbol.symbol,
  feedId: symbol.pythFeedId,
  source: 'pyth',
  price: mantissa.toString(),
  conf: '1500000',
  expo: -8,
  publishTime,
  receivedAt: publishTime * 1000,
});
const nowSec = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  db = await openStore(testDatabaseUri(uniqueName('qd-gateway')));
  const store = createPriceStore(priceModels(db), markets);
  gateway = await createGateway({ markets, store, internalToken: TOKEN, registry: createMetricsRegistry('gw-test'), log: createLogger('gw-test', 'silent') });
  url = `http://127.0.0.1:${new URL(await gateway.listen(0)).port}`;
  worker = io(`${url}${INTERNAL_NAMESPACE}`, { auth: { token: TOKEN }, transports: ['websocket'] });
  await new Promise<void>((r) => worker.once('connect', () => r()));
});
afterAll(async () => {
  worker?.close();
  await gateway?.close();
  await db?.dropDatabase();
  await db?.close();
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
    expect((await get('/api/prices/SOL-PERP/history?from=10&to=5')).body.error).toBe('from must not be after to');
    expect((await get('/api/prices/SOL-PERP/history?from=1&to=900000')).body.error).toMatch(/at most/);
    expect((await get('/api/prices/SOL-PERP/history?evil=1')).status).toBe(400);
    expect((await get('/api/nothing')).status).toBe(404);
    const huge = await fetch(`${url}/api/prices/SOL-PERP?${'x'.repeat(20_000)}=1`);
    expect(huge.status).toBe(431);
  });
});

describe('gateway Socket.IO', () => {
  it('refuses the internal namespace without the token, and ignores malformed worker input', async () => {
    const intruder = io(`${url}${INTERNAL_NAMESPACE}`, { auth: { token: 'wrong-token-wrong-token' }, transports: ['websocket'], reconnection: false });
    const err = await new Promise<Error>((r) => intruder.once('connect_error', r));
    expect(err.message).toBe('unauthorized');
    intruder.close();

    const client = io(url, { transports: ['websocket'] });
    const got: PriceMessage[] = [];
    client.on('prices', (batch) => got.push(...batch));
    expect(await client.timeout(2_000).emitWithAck('subscribe', 'SOL-PERP')).toMatchObject({ ok: false });
    expect(await client.timeout(2_000).emitWithAck('subscribe', ['NOPE-PERP'])).toEqual({ ok: false, error: 'unknown markets: NOPE-PERP' });
    expect(await client.timeout(2_000).emitWithAck('subscribe', ['SOL-PERP'])).toMatchObject({ ok: true });
    const t = nowSec();
    worker.emit('prices', [{ ...price(t, 15_000_000_000n), price: 'NaN' }, { ...price(t, 15_000_000_000n), expo: 7 }, price(t, 15_000_000_000n)]);
    await waitFor('the valid price', () => got.find((p) => p.publishTime === t));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ price: '15000000000', stale: false, usableFor: ['display', 'push', 'margin', 'liquidation'] });
    client.close();
  });

  it('gives a slow client the latest price per market, not a backlog; sequence numbers show what it skipped', async () => {
    const client = io(url, { transports: ['websocket'] });
    const got: PriceMessage[] = [];
    client.on('prices', (batch) => got.push(...batch));
    await client.timeout(2_000).emitWithAck('subscribe', ['SOL-PERP']);
    // Stop reading from the socket: the server's writes back up behind it.
    const tcp = (client.io.engine.transport as unknown as { ws: { _socket: import('node:net').Socket } }).ws._socket;
    tcp.pause();
    // 20,000 updates (~6 MB): far more than the socket buffers hold while nobody reads.
    const base = nowSec() + 1;
    const N = 20_000;
    for (let b = 0; b < N; b += 1_000) {
      worker.emit('prices', Array.from({ length: 1_000 }, (_, i) => price(base + b + i + 1, 15_000_000_000n + BigInt(b + i))));
    }
    await waitFor('the gateway to take all updates', () => (gateway.hub.snapshot('SOL-PERP')?.publishTime === base + N ? true : undefined));
    tcp.resume();
    await waitFor('the newest price', () => got.find((p) => p.publishTime === base + N));
    await new Promise((r) => setTimeout(r, 200));
    expect(got.at(-1)!.publishTime).toBe(base + N);
    expect(got.length).toBeLessThan(N / 2);
    // Sequence numbers increase; a jump marks skipped updates.
    for (let i = 1; i < got.length; i++) expect(got[i]!.seq).toBeGreaterThan(got[i - 1]!.seq);
    client.close();
  });

  it('announces staleness by age, even when no worker reports it', async () => {
    const client = io(url, { transports: ['websocket'] });
    const statuses: StatusMessage[] = [];
    client.on('status', (s) => statuses.push(s));
    await client.timeout(2_000).emitWithAck('subscribe', ['BTC-PERP']);
    const btc = markets.bySymbol('BTC-PERP')!;
    // Just young enough to display, and old enough to go stale within two seconds.
    worker.emit('prices', [price(nowSec() - btc.validation.maxAgeSec.display + 1, 9_500_000_000_000n, btc)]);
    const stale = await waitFor('a stale status', () => statuses.find((s) => s.symbol === 'BTC-PERP' && s.stale && s.ageSec !== undefined), 5_000);
    expect(stale.ageSec).toBeGreaterThan(btc.validation.maxAgeSec.display);
    client.close();
  });
});
