import { HermesClient } from '@pythnetwork/hermes-client';
import { describe, expect, it } from 'vitest';
import type { MarketSim } from './market-sim.ts';
import { BTC, recordMessages, SOL, sleep, startSim, track, waitFor } from './test-support.ts';

interface Parsed {
  id: string;
  price: { price: string; publish_time: number };
  metadata: { slot: number };
}
const parsedOf = (data: string) => (JSON.parse(data) as { parsed: Parsed[] }).parsed;

/** A manual-clock simulator (updates only on `step()`), with fast SSE reconnection. */
const manualSim = () => startSim({ autoPublish: false, sseRetryMs: 50 });

async function openStream(sim: MarketSim, ids: string[]) {
  const client = new HermesClient(sim.url, { httpRetries: 0 });
  const es = track(await client.getPriceUpdatesStream(ids, { parsed: true }));
  const rec = recordMessages(es);
  await waitFor(() => rec.opens === 1, 'stream open');
  return { es, rec };
}

const cgUrl = (sim: MarketSim, ids = 'solana,bitcoin') =>
  `${sim.url}/api/v3/simple/price?ids=${ids}&vs_currencies=usd&include_last_updated_at=true&precision=full`;

async function cgPrices(sim: MarketSim, ids?: string) {
  const res = await fetch(cgUrl(sim, ids));
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, { usd: number; last_updated_at: number }>;
}

describe('pause', () => {
  it('pyth: open streams close and cannot reopen (503), latest is 503, CoinGecko unaffected; resume heals', async () => {
    const sim = await manualSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const { es, rec } = await openStream(sim, [SOL]);

    expect(sim.control.pause('pyth').closed).toBe(1);
    await waitFor(() => rec.errors.some((e) => e.code === 503), 'reconnect refused with 503');
    expect(es.readyState).toBe(es.CLOSED);
    await expect(client.getLatestPriceUpdates([SOL])).rejects.toThrow('status: 503');
    await expect(client.getPriceFeeds()).rejects.toThrow('status: 503');
    expect(Object.keys(await cgPrices(sim))).toHaveLength(2);

    sim.control.resume('pyth');
    expect((await client.getLatestPriceUpdates([SOL])).parsed).toHaveLength(1);
  });

  it('pyth per feed: only requests and streams about that feed are refused', async () => {
    const sim = await manualSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const both = await openStream(sim, [SOL, BTC]);
    const btcOnly = await openStream(sim, [BTC]);

    expect(sim.control.pause('pyth', ['SOL-PERP']).closed).toBe(1);
    await waitFor(() => both.rec.errors.some((e) => e.code === 503), 'SOL stream refused');
    await expect(client.getLatestPriceUpdates([SOL, BTC])).rejects.toThrow('status: 503');
    expect((await client.getLatestPriceUpdates([BTC])).parsed).toHaveLength(1);
    sim.step();
    await waitFor(() => btcOnly.rec.messages.length === 1, 'BTC update');
    expect(btcOnly.es.readyState).toBe(btcOnly.es.OPEN);
  });

  it('coingecko: 503 for CoinGecko while Hermes keeps serving', async () => {
    const sim = await manualSim();
    sim.control.pause('coingecko');
    expect((await fetch(cgUrl(sim))).status).toBe(503);
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    expect((await client.getLatestPriceUpdates([SOL])).parsed).toHaveLength(1);
    sim.control.resume('coingecko');
    expect((await fetch(cgUrl(sim))).status).toBe(200);
  });
});

describe('stall', () => {
  it('pyth: streams stay open and silent, requests hang; unstall answers them and resumes updates', async () => {
    const sim = await manualSim();
    const { es, rec } = await openStream(sim, [SOL]);
    sim.control.stall('pyth');

    sim.step();
    sim.step();
    const late = await openStream(sim, [BTC]);
    sim.step();
    await sleep(300);
    expect(rec.messages).toHaveLength(0);
    expect(late.rec.messages).toHaveLength(0);
    expect(es.readyState).toBe(es.OPEN);

    const impatient = new HermesClient(sim.url, { httpRetries: 0, timeout: 300 });
    await expect(impatient.getLatestPriceUpdates([SOL])).rejects.toThrow();
    let answered = false;
    const patient = fetch(`${sim.url}/v2/updates/price/latest?ids[]=${SOL}`).then((r) => {
      answered = true;
      return r.status;
    });
    await sleep(200);
    expect(answered).toBe(false);

    sim.control.unstall('pyth');
    expect(await patient).toBe(200);
    sim.step();
    await waitFor(() => rec.messages.length === 1 && late.rec.messages.length === 1, 'updates after unstall');
  });

  it('pyth per feed: the feed goes silent and its latest price freezes, others continue', async () => {
    const sim = await manualSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const { rec } = await openStream(sim, [SOL, BTC]);
    const before = (await client.getLatestPriceUpdates([SOL, BTC])).parsed as Parsed[];

    sim.control.stall('pyth', [`0x${SOL}`]);
    sim.step();
    sim.step();
    await waitFor(() => rec.messages.length === 2, 'two updates');
    for (const m of rec.messages) expect(parsedOf(m.data).map((p) => p.id)).toEqual([BTC]);
    const after = (await client.getLatestPriceUpdates([SOL, BTC])).parsed as Parsed[];
    expect(after[0]!.metadata.slot).toBe(before[0]!.metadata.slot);
    expect(after[1]!.metadata.slot).toBeGreaterThan(before[1]!.metadata.slot);
  });

  it('coingecko: requests hang until unstalled; per coin, the price freezes', async () => {
    const sim = await manualSim();
    sim.control.stall('coingecko');
    await expect(fetch(cgUrl(sim), { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    sim.control.unstall('coingecko');
    const before = await cgPrices(sim);

    sim.control.stall('coingecko', ['solana']);
    sim.refreshCoingecko();
    const after = await cgPrices(sim);
    expect(after.solana).toEqual(before.solana);
    expect(after.bitcoin!.usd).not.toBe(before.bitcoin!.usd);
  });
});

describe('drop', () => {
  it('pyth: resets open streams now; clients reconnect and keep receiving', async () => {
    const sim = await manualSim();
    const { es, rec } = await openStream(sim, [SOL]);

    expect(sim.control.drop('pyth').closed).toBeGreaterThanOrEqual(1);
    await waitFor(() => rec.errors.length >= 1, 'connection error');
    await waitFor(() => rec.opens === 2, 'reconnected');
    sim.step();
    await waitFor(() => rec.messages.length === 1, 'update after reconnect');
    expect(es.readyState).toBe(es.OPEN);
  });

  it('pyth per feed: only streams about that feed are dropped', async () => {
    const sim = await manualSim();
    const sol = await openStream(sim, [SOL]);
    const btc = await openStream(sim, [BTC]);
    expect(sim.control.drop('pyth', ['SOL-PERP']).closed).toBe(1);
    await waitFor(() => sol.rec.opens === 2, 'SOL stream reconnected');
    expect(btc.rec.errors).toHaveLength(0);
    expect(btc.rec.opens).toBe(1);
  });

  it('coingecko: in-flight requests are reset instead of hanging', async () => {
    const sim = await manualSim();
    sim.control.stall('coingecko');
    const pending = fetch(cgUrl(sim)).then(
      () => 'answered',
      () => 'reset',
    );
    await waitFor(() => sim.control.state().coingecko.stalled.all, 'stall');
    await sleep(100);
    expect(sim.control.drop('coingecko').closed).toBeGreaterThanOrEqual(1);
    expect(await pending).toBe('reset');
  });
});

describe('delay', () => {
  it('pyth: latest answers late and stream events arrive late; per-feed delay holds back only that feed', async () => {
    const sim = await manualSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const { rec } = await openStream(sim, [SOL, BTC]);

    sim.control.delay('pyth', 300);
    const t0 = Date.now();
    await client.getLatestPriceUpdates([SOL]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    sim.step();
    await waitFor(() => rec.messages.length === 1, 'delayed update');
    const first = parsedOf(rec.messages[0]!.data)[0]!;
    const publishedAt = sim.publishedAt(SOL, first.price.publish_time, first.price.price)!;
    expect(rec.messages[0]!.at - publishedAt).toBeGreaterThanOrEqual(290);

    sim.control.delay('pyth', 0);
    sim.control.delay('pyth', 400, ['SOL-PERP']);
    sim.step();
    await waitFor(() => rec.messages.length === 3, 'BTC then SOL');
    const [btcMsg, solMsg] = rec.messages.slice(1);
    expect(parsedOf(btcMsg!.data).map((p) => p.id)).toEqual([BTC]);
    expect(parsedOf(solMsg!.data).map((p) => p.id)).toEqual([SOL]);
    expect(solMsg!.at - btcMsg!.at).toBeGreaterThanOrEqual(350);
  });

  it('coingecko: responses arrive after the delay', async () => {
    const sim = await manualSim();
    sim.control.delay('coingecko', 300);
    const t0 = Date.now();
    await cgPrices(sim);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });
});

describe('kill and restore', () => {
  it('pyth: connections are reset and refused until restored; CoinGecko keeps serving', async () => {
    const sim = await manualSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const { es, rec } = await openStream(sim, [SOL]);
    sim.control.delay('pyth', 100);

    sim.control.kill('pyth');
    await waitFor(() => rec.errors.length >= 2, 'failed reconnects');
    expect(es.readyState).toBe(es.CONNECTING);
    expect(rec.errors.every((e) => e.code === undefined)).toBe(true);
    await expect(client.getLatestPriceUpdates([SOL])).rejects.toThrow('fetch failed');
    expect(Object.keys(await cgPrices(sim))).toHaveLength(2);

    sim.control.restore('pyth');
    expect(sim.control.state().pyth.delay.allMs).toBe(0);
    await waitFor(() => rec.opens === 2, 'reconnected after restore');
    sim.step();
    await waitFor(() => rec.messages.length === 1, 'update after restore');
  });

  it('coingecko: requests fail at the connection until restored', async () => {
    const sim = await manualSim();
    sim.control.kill('coingecko');
    await expect(fetch(cgUrl(sim))).rejects.toThrow('fetch failed');
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    expect((await client.getLatestPriceUpdates([SOL])).parsed).toHaveLength(1);
    sim.control.restore('coingecko');
    expect(Object.keys(await cgPrices(sim))).toHaveLength(2);
  });
});
