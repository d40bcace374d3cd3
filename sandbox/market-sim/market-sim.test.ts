import { HermesClient } from '@pythnetwork/hermes-client';
import { describe, expect, it } from 'vitest';
import type { MarketSim } from './market-sim.ts';
import { BONK, BTC, ETH, JUP, SOL, startSim } from './test-support.ts';

const ALL = [SOL, BTC, ETH, JUP, BONK];

interface Parsed {
  id: string;
  price: { price: string; conf: string; expo: number };
  ema_price: { price: string; conf: string };
}

/** The values (not the times) of the latest update of every feed after `steps` manual steps. */
async function quotesAfter(sim: MarketSim, steps: number) {
  for (let i = 0; i < steps; i++) sim.step();
  const client = new HermesClient(sim.url, { httpRetries: 0 });
  const parsed = (await client.getLatestPriceUpdates(ALL)).parsed as Parsed[];
  return parsed.map((p) => [p.id, p.price.price, p.price.conf, p.price.expo, p.ema_price.price, p.ema_price.conf]);
}

async function post(sim: MarketSim, action: string, body: unknown) {
  const res = await fetch(`${sim.url}/control/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('determinism', () => {
  it('the same seed publishes the same quotes; another seed does not; extra feeds do not perturb it', async () => {
    const a = await quotesAfter(await startSim({ seed: 7, autoPublish: false }), 25);
    const b = await quotesAfter(await startSim({ seed: 7, autoPublish: false }), 25);
    const withExtras = await quotesAfter(await startSim({ seed: 7, autoPublish: false, extraFeeds: 50 }), 25);
    const other = await quotesAfter(await startSim({ seed: 8, autoPublish: false }), 25);
    expect(b).toEqual(a);
    expect(withExtras).toEqual(a);
    for (let i = 0; i < ALL.length; i++) expect(other[i]![1]).not.toBe(a[i]![1]);
  });
});

describe('control HTTP API', () => {
  it('applies actions, reports state, and resets', async () => {
    const sim = await startSim({ autoPublish: false });
    const client = new HermesClient(sim.url, { httpRetries: 0 });

    const paused = await post(sim, 'pause', { source: 'pyth', feeds: ['BTC-PERP'] });
    expect(paused.status).toBe(200);
    await expect(client.getLatestPriceUpdates([BTC])).rejects.toThrow('status: 503');
    const injected = await post(sim, 'inject', { source: 'coingecko', kind: 'zero-price', count: 2 });
    expect(injected.body.injectionId).toEqual(expect.any(Number));
    await post(sim, 'delay', { source: 'coingecko', ms: 50, feeds: ['solana'] });

    const state = (await (await fetch(`${sim.url}/control/state`)).json()) as {
      feeds: number;
      faults: { pyth: { paused: unknown }; coingecko: { injections: unknown[]; delay: unknown } };
    };
    expect(state.feeds).toBe(5);
    expect(state.faults.pyth.paused).toEqual({ all: false, feeds: [BTC] });
    expect(state.faults.coingecko.injections).toEqual([
      { id: injected.body.injectionId, kind: 'zero-price', feeds: null, remaining: 2 },
    ]);
    expect(state.faults.coingecko.delay).toEqual({ allMs: 0, byFeed: { [SOL]: 50 } });

    expect((await post(sim, 'reset', {})).status).toBe(200);
    expect((await client.getLatestPriceUpdates([BTC])).parsed).toHaveLength(1);
    expect(sim.control.state().coingecko.injections).toEqual([]);
  });

  it('rejects bad control requests with 400 and a reason', async () => {
    const sim = await startSim({ autoPublish: false });
    const cases: [string, unknown, string][] = [
      ['pause', { source: 'kraken' }, 'source'],
      ['pause', { source: 'pyth', feeds: ['DOGE-PERP'] }, 'unknown feed DOGE-PERP'],
      ['pause', { source: 'pyth', feeds: [] }, 'feeds'],
      ['inject', { source: 'pyth', kind: 'gibberish' }, 'kind'],
      ['inject', { source: 'pyth', kind: 'nan-price', count: 0 }, 'count'],
      ['delay', { source: 'pyth', ms: -1 }, 'ms'],
      ['delay', { source: 'pyth' }, 'ms'],
      ['kill', { source: 'pyth', feeds: ['SOL-PERP'] }, 'feeds'],
      ['stall', '{"source": "pyth"', 'invalid JSON'],
    ];
    for (const [action, body, reason] of cases) {
      const res = await post(sim, action, body);
      expect(res.status, `${action} ${JSON.stringify(body)}`).toBe(400);
      expect(String(res.body.error)).toContain(reason);
    }
    expect((await post(sim, 'explode', { source: 'pyth' })).status).toBe(404);
    // Nothing was applied.
    expect(sim.control.state().pyth).toMatchObject({ killed: false, paused: { all: false, feeds: [] } });
    expect(() => sim.control.delay('pyth', -5)).toThrow('ms');
  });

  it('serves prices of the underlying walk and of each source', async () => {
    const sim = await startSim({ autoPublish: false });
    const res = await fetch(`${sim.url}/control/prices?feeds=SOL-PERP,bitcoin`);
    const prices = (await res.json()) as { id: string; value: number; pyth: Parsed; coingecko: { usd: number } }[];
    expect(prices.map((p) => p.id)).toEqual([SOL, BTC]);
    for (const p of prices) {
      const pyth = Number(p.pyth.price.price) * 10 ** p.pyth.price.expo;
      expect(Math.abs(pyth / p.value - 1)).toBeLessThan(1e-6);
      expect(Math.abs(p.coingecko.usd / p.value - 1)).toBeLessThan(0.003);
    }
    expect((await fetch(`${sim.url}/control/prices?feeds=DOGE`)).status).toBe(400);
  });
});

describe('startup faults', () => {
  it('applies initial controls before the first update', async () => {
    const sim = await startSim({
      autoPublish: false,
      initialControls: [
        { action: 'kill', body: { source: 'coingecko' } },
        { action: 'inject', body: { source: 'pyth', kind: 'expo-low', count: 1 } },
      ],
    });
    await expect(fetch(`${sim.url}/api/v3/simple/price?ids=solana&vs_currencies=usd`)).rejects.toThrow();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    // The injection hit the very first update (published at start), for the first feed.
    const first = (await client.getLatestPriceUpdates([SOL, BTC])).parsed as Parsed[];
    expect(first.map((p) => p.price.expo)).toEqual([-40, -8]);
  });

  it('refuses invalid options', async () => {
    await expect(startSim({ updatesPerSecond: 0 })).rejects.toThrow();
    await expect(startSim({ feedRates: { 'DOGE-PERP': 1 } })).rejects.toThrow('unknown feed DOGE-PERP');
    await expect(
      startSim({ initialControls: [{ action: 'pause', body: { source: 'nowhere' } }] }),
    ).rejects.toThrow('source');
  });
});
