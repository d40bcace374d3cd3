import { HermesClient } from '@pythnetwork/hermes-client';
import { describe, expect, it } from 'vitest';
import { CliError, parseCliArgs } from './cli-args.ts';
import { ControlError } from './control.ts';
import { biasMantissa, biasUsd } from './faults.ts';
import { createMarketSim, type MarketSim } from './market-sim.ts';
import { BTC, recordMessages, SOL, startSim, track, waitFor } from './test-support.ts';

interface Parsed {
  id: string;
  price: { price: string; conf: string; expo: number; publish_time: number };
  ema_price: { price: string; conf: string; expo: number };
}
type SimplePrice = Record<string, { usd: number; last_updated_at: number }>;

const manualSim = (seed = 11) => startSim({ autoPublish: false, seed });

/** What a real HermesClient receives for these feeds (in request order). */
async function hermesLatest(sim: MarketSim, ids: string[]) {
  const client = new HermesClient(sim.url, { httpRetries: 0 });
  const res = await client.getLatestPriceUpdates(ids, { encoding: 'hex', parsed: true });
  return { parsed: res.parsed as Parsed[], binary: Buffer.from(res.binary.data[0]!, 'hex') };
}

/** An entry's values (its times and slot depend on the wall clock, not on the seed). */
const values = (p: Parsed) => [p.id, p.price.price, p.price.conf, p.price.expo, p.ema_price.price, p.ema_price.conf];

/** Price and EMA price mantissas of the `index`-th entry of the simulator's `binary` blob. */
function binaryPrices(binary: Buffer, index: number) {
  const at = 7 + index * 84;
  return { price: binary.readBigInt64BE(at + 32), emaPrice: binary.readBigInt64BE(at + 68) };
}

async function cgPrices(sim: MarketSim, ids = 'solana,bitcoin', precision = '&precision=full') {
  const res = await fetch(
    `${sim.url}/api/v3/simple/price?ids=${ids}&vs_currencies=usd&include_last_updated_at=true${precision}`,
  );
  expect(res.status).toBe(200);
  return (await res.json()) as SimplePrice;
}

async function post(sim: MarketSim, action: string, body: unknown) {
  const res = await fetch(`${sim.url}/control/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The unbiased mantissa of the walk's current value, as the simulator computes it. */
const walkMantissa = (sim: MarketSim, feed: string) => {
  const p = sim.prices([feed])[0]!;
  return BigInt(Math.round(p.value * 10 ** -p.expo));
};

describe('biasMantissa / biasUsd', () => {
  it('multiply by (1 + bps/10000); mantissas exactly, rounded to the nearest integer', () => {
    expect(biasMantissa(15_000_000_000n, 300)).toBe(15_450_000_000n);
    expect(biasMantissa(15_000_000_000n, -300)).toBe(14_550_000_000n);
    expect(biasMantissa(12_345n, 1)).toBe(12_346n); // 12346.2345
    expect(biasMantissa(15n, 3_000)).toBe(20n); // 19.5 rounds up
    expect(biasMantissa(-15n, 3_000)).toBe(-20n);
    expect(biasMantissa(9_500_000_000_000n, 5_000)).toBe(14_250_000_000_000n);
    expect(biasMantissa(777n, 0)).toBe(777n);
    expect(biasUsd(150, 300)).toBe(150 * (1 + 300 / 10_000));
    expect(biasUsd(150, 0)).toBe(150);
  });
});

describe('bias: pyth', () => {
  it('a real HermesClient receives price and EMA mantissas shifted by exactly the bias, conf unchanged', async () => {
    const biased = await manualSim();
    const twin = await manualSim(); // same seed, no bias: the unbiased quotes
    for (const sim of [biased, twin]) for (let i = 0; i < 5; i++) sim.step();

    const result = biased.control.bias('pyth', 300, ['SOL-PERP']);
    expect(result.action).toBe('bias');
    expect(result.faults.pyth.bias).toEqual({ allBps: 0, byFeed: { [SOL]: 300 } });
    // Pyth applies the bias from its next update: what was published stays as published.
    expect((await hermesLatest(biased, [SOL])).parsed.map(values)).toEqual(
      (await hermesLatest(twin, [SOL])).parsed.map(values),
    );

    biased.step();
    twin.step();
    const got = await hermesLatest(biased, [SOL, BTC]);
    const plain = await hermesLatest(twin, [SOL, BTC]);
    const [sol, btc] = got.parsed;
    const [plainSol, plainBtc] = plain.parsed;

    expect(BigInt(plainSol!.price.price)).toBe(walkMantissa(biased, SOL));
    expect(BigInt(sol!.price.price)).toBe(biasMantissa(walkMantissa(biased, SOL), 300));
    expect(Number(sol!.price.price)).toBe(Math.round(Number(plainSol!.price.price) * 1.03));
    expect(BigInt(sol!.ema_price.price)).toBe(biasMantissa(BigInt(plainSol!.ema_price.price), 300));
    expect(sol!.price.conf).toBe(plainSol!.price.conf);
    expect(sol!.ema_price.conf).toBe(plainSol!.ema_price.conf);
    expect(sol!.price.expo).toBe(plainSol!.price.expo);
    // ≈ 300 bps above the walk.
    const value = biased.prices([SOL])[0]!.value;
    expect(Number(sol!.price.price) * 10 ** sol!.price.expo / value - 1).toBeCloseTo(0.03, 6);
    // Other feeds untouched; the binary blob carries the same biased values.
    expect(values(btc!)).toEqual(values(plainBtc!));
    expect(binaryPrices(got.binary, 0)).toEqual({
      price: BigInt(sol!.price.price),
      emaPrice: BigInt(sol!.ema_price.price),
    });
    // prices() reports the entry as served and the bias in effect.
    const reported = biased.prices(['SOL-PERP'])[0]!;
    expect(reported.pyth).toEqual(sol);
    expect(reported.bias).toEqual({ pyth: 300, coingecko: 0 });
    // CoinGecko is not biased by a Pyth bias.
    expect((await cgPrices(biased, 'solana')).solana!.usd).toBe(reported.coingecko!.usd);
  });

  it('streams carry the biased price and publishedAt finds the update by its served mantissa', async () => {
    const sim = await manualSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const es = track(await client.getPriceUpdatesStream([SOL], { parsed: true }));
    const rec = recordMessages(es);
    await waitFor(() => rec.opens === 1, 'stream open');

    sim.control.bias('pyth', -1_250);
    sim.step();
    await waitFor(() => rec.messages.length === 1, 'update');
    const entry = (JSON.parse(rec.messages[0]!.data) as { parsed: Parsed[] }).parsed[0]!;
    const unbiased = walkMantissa(sim, SOL);
    expect(BigInt(entry.price.price)).toBe(biasMantissa(unbiased, -1_250));
    expect(sim.publishedAt(SOL, entry.price.publish_time, entry.price.price)).toEqual(expect.any(Number));
    expect(sim.publishedAt(SOL, entry.price.publish_time, unbiased.toString())).toBeUndefined();
    const res = await fetch(
      `${sim.url}/control/published?feed=SOL-PERP&publish_time=${entry.price.publish_time}&price=${entry.price.price}`,
    );
    expect(res.status).toBe(200);
  });

  it('a corruption applies on top of the biased price', async () => {
    const sim = await manualSim();
    sim.control.bias('pyth', 200, ['SOL-PERP']);
    sim.control.inject('pyth', 'negative-price', { count: 1, feeds: ['SOL-PERP'] });
    sim.step();
    const [sol] = (await hermesLatest(sim, [SOL])).parsed;
    expect(BigInt(sol!.price.price)).toBe(-biasMantissa(walkMantissa(sim, SOL), 200));
  });
});

describe('bias: coingecko', () => {
  it('the usd served is the sample × (1 + bps/10000) from the next response; last_updated_at unchanged', async () => {
    const sim = await manualSim();
    const before = await cgPrices(sim);
    sim.control.bias('coingecko', 300, ['SOL-PERP']);
    const after = await cgPrices(sim);
    const [sol, btc] = sim.prices(['solana', 'bitcoin']);

    expect(after.solana!.usd).toBe(sol!.coingecko!.usd * (1 + 300 / 10_000));
    expect(after.solana!.usd).toBe(before.solana!.usd * 1.03);
    expect(after.solana!.last_updated_at).toBe(sol!.coingecko!.lastUpdatedAt);
    expect(after.solana!.last_updated_at).toBe(before.solana!.last_updated_at);
    expect(after.bitcoin).toEqual(before.bitcoin);
    expect(after.bitcoin!.usd).toBe(btc!.coingecko!.usd);
    // ≈ 300 bps above the walk (the sample itself is within a few bps of it).
    expect(Math.abs(after.solana!.usd / sol!.value - 1.03)).toBeLessThan(0.003);
    expect(sol!.bias).toEqual({ pyth: 0, coingecko: 300 });

    // The bias stays on fresh samples, rounding applies to the biased value, Pyth is untouched.
    sim.refreshCoingecko();
    const fresh = sim.prices(['solana'])[0]!.coingecko!;
    expect((await cgPrices(sim, 'solana')).solana!.usd).toBe(fresh.usd * 1.03);
    const rounded = await cgPrices(sim, 'solana', '&precision=2');
    expect(rounded.solana!.usd).toBe(Number((fresh.usd * 1.03).toFixed(2)));
    sim.step();
    expect(BigInt((await hermesLatest(sim, [SOL])).parsed[0]!.price.price)).toBe(walkMantissa(sim, SOL));
  });

  it('a negative bias for every coin', async () => {
    const sim = await manualSim();
    sim.control.bias('coingecko', -5_000);
    const got = await cgPrices(sim, 'solana,bitcoin,bonk');
    for (const coin of ['solana', 'bitcoin', 'bonk']) {
      expect(got[coin]!.usd).toBe(sim.prices([coin])[0]!.coingecko!.usd * 0.5);
    }
  });
});

describe('bias: scope, clearing, restore, reset', () => {
  it('feeds by id, symbol, base or CoinGecko id; a per-feed bias overrides the whole-source one; 0 clears', async () => {
    const sim = await manualSim();
    const bps = (feed: string) => sim.prices([feed])[0]!.bias.coingecko;

    sim.control.bias('coingecko', 100);
    sim.control.bias('coingecko', 300, [`0x${SOL}`]);
    sim.control.bias('coingecko', -40, ['ETH']);
    sim.control.bias('coingecko', 25, ['jupiter-exchange-solana']);
    expect(sim.control.state().coingecko.bias.allBps).toBe(100);
    expect([bps('SOL-PERP'), bps('BTC-PERP'), bps('ETH-PERP'), bps('JUP-PERP'), bps('BONK-PERP')]).toEqual([
      300, 100, -40, 25, 100,
    ]);
    const served = await cgPrices(sim, 'solana,bitcoin');
    expect(served.solana!.usd).toBe(biasUsd(sim.prices(['solana'])[0]!.coingecko!.usd, 300));
    expect(served.bitcoin!.usd).toBe(biasUsd(sim.prices(['bitcoin'])[0]!.coingecko!.usd, 100));

    // 0 for one feed clears that feed only, even under a whole-source bias.
    sim.control.bias('coingecko', 0, ['solana']);
    expect(bps('SOL-PERP')).toBe(0);
    expect(bps('BTC-PERP')).toBe(100);
    expect((await cgPrices(sim, 'solana')).solana!.usd).toBe(sim.prices(['solana'])[0]!.coingecko!.usd);
    // A whole-source setting replaces every per-feed one; 0 for the source clears everything.
    sim.control.bias('coingecko', 50);
    expect(sim.control.state().coingecko.bias).toEqual({ allBps: 50, byFeed: {} });
    sim.control.bias('coingecko', 0);
    expect(sim.control.state().coingecko.bias).toEqual({ allBps: 0, byFeed: {} });
    const plain = await cgPrices(sim, 'solana,bitcoin');
    expect(plain.bitcoin!.usd).toBe(sim.prices(['bitcoin'])[0]!.coingecko!.usd);

    expect(() => sim.control.bias('coingecko', 10, ['DOGE-PERP'])).toThrow(ControlError);
  });

  it('restore clears the bias of that source only; reset clears both', async () => {
    const sim = await manualSim();
    sim.control.bias('pyth', 300, ['SOL-PERP']);
    sim.control.bias('coingecko', -300);

    sim.control.restore('pyth');
    expect(sim.control.state().pyth.bias).toEqual({ allBps: 0, byFeed: {} });
    expect(sim.control.state().coingecko.bias.allBps).toBe(-300);
    sim.step();
    expect(BigInt((await hermesLatest(sim, [SOL])).parsed[0]!.price.price)).toBe(walkMantissa(sim, SOL));
    expect((await cgPrices(sim, 'solana')).solana!.usd).toBe(sim.prices(['solana'])[0]!.coingecko!.usd * 0.97);

    sim.control.bias('pyth', 300);
    sim.control.reset();
    expect(sim.control.state().pyth.bias).toEqual({ allBps: 0, byFeed: {} });
    expect(sim.control.state().coingecko.bias).toEqual({ allBps: 0, byFeed: {} });
    sim.step();
    expect(BigInt((await hermesLatest(sim, [SOL])).parsed[0]!.price.price)).toBe(walkMantissa(sim, SOL));
    expect((await cgPrices(sim, 'solana')).solana!.usd).toBe(sim.prices(['solana'])[0]!.coingecko!.usd);
  });
});

describe('bias over HTTP', () => {
  it('POST /control/bias applies it and GET /control/state shows it; restore and reset clear it', async () => {
    const sim = await manualSim();
    const ok = await post(sim, 'bias', { source: 'coingecko', bps: 300, feeds: ['SOL-PERP'] });
    expect(ok.status).toBe(200);
    expect(ok.body.action).toBe('bias');
    const state = async () =>
      ((await (await fetch(`${sim.url}/control/state`)).json()) as {
        faults: Record<'pyth' | 'coingecko', { bias: unknown }>;
      }).faults;
    expect((await state()).coingecko.bias).toEqual({ allBps: 0, byFeed: { [SOL]: 300 } });
    const served = await cgPrices(sim, 'solana');
    expect(served.solana!.usd).toBe(sim.prices(['solana'])[0]!.coingecko!.usd * 1.03);
    const prices = (await (await fetch(`${sim.url}/control/prices?feeds=solana`)).json()) as { bias: unknown }[];
    expect(prices[0]!.bias).toEqual({ pyth: 0, coingecko: 300 });

    expect((await post(sim, 'bias', { source: 'pyth', bps: -20 })).status).toBe(200);
    expect((await state()).pyth.bias).toEqual({ allBps: -20, byFeed: {} });
    expect((await post(sim, 'restore', { source: 'coingecko' })).status).toBe(200);
    expect((await state()).coingecko.bias).toEqual({ allBps: 0, byFeed: {} });
    expect((await state()).pyth.bias).toEqual({ allBps: -20, byFeed: {} });
    expect((await post(sim, 'reset', {})).status).toBe(200);
    expect((await state()).pyth.bias).toEqual({ allBps: 0, byFeed: {} });
  });

  it('rejects bad bodies with 400 and a reason', async () => {
    const sim = await manualSim();
    const bad: [unknown, string][] = [
      [{ source: 'pyth', bps: 5_001 }, 'bps'],
      [{ source: 'pyth', bps: -5_001 }, 'bps'],
      [{ source: 'pyth', bps: 1.5 }, 'bps'],
      [{ source: 'pyth', bps: '300' }, 'bps'],
      [{ source: 'pyth' }, 'bps'],
      [{ source: 'binance', bps: 300 }, 'source'],
      [{ source: 'pyth', bps: 300, feeds: [] }, 'feeds'],
      [{ source: 'pyth', bps: 300, feeds: ['DOGE-PERP'] }, 'unknown feed DOGE-PERP'],
      [{ source: 'pyth', bps: 300, ms: 5 }, 'ms'],
      ['{"source":', 'invalid JSON'],
    ];
    for (const [body, reason] of bad) {
      const res = await post(sim, 'bias', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toContain(reason);
    }
    expect(sim.control.state().pyth.bias).toEqual({ allBps: 0, byFeed: {} });
    // The in-process API validates the same way.
    expect(() => sim.control.bias('pyth', 6_000)).toThrow(ControlError);
    expect(() => sim.control.bias('pyth', 0.5, ['SOL-PERP'])).toThrow('bps');
  });
});

describe('--bias', () => {
  it('parses <source>=<bps>[@<feeds>] into startup controls', () => {
    const o = parseCliArgs(['--bias', 'coingecko=300@SOL-PERP,bitcoin', '--bias', 'pyth=-25', '--bias', 'pyth=+5']);
    expect(o.initialControls).toEqual([
      { action: 'bias', body: { source: 'coingecko', bps: 300, feeds: ['SOL-PERP', 'bitcoin'] } },
      { action: 'bias', body: { source: 'pyth', bps: -25 } },
      { action: 'bias', body: { source: 'pyth', bps: 5 } },
    ]);
  });

  it('rejects malformed values', () => {
    for (const text of ['pyth', 'pyth=', 'pyth=abc', 'pyth=1.5', 'pyth=3e2', 'binance=300', 'pyth=@SOL-PERP']) {
      expect(() => parseCliArgs(['--bias', text]), text).toThrow(CliError);
    }
    expect(() => parseCliArgs(['--bias', 'pyth=abc'])).toThrow('<source>=<bps>');
  });

  it('applies at startup; out-of-range values fail when the simulator is created', async () => {
    const { help: _help, ...options } = parseCliArgs(['--bias', 'coingecko=300@SOL-PERP']);
    const sim = await startSim({ ...options, autoPublish: false });
    expect(sim.control.state().coingecko.bias).toEqual({ allBps: 0, byFeed: { [SOL]: 300 } });
    expect((await cgPrices(sim, 'solana')).solana!.usd).toBe(sim.prices(['solana'])[0]!.coingecko!.usd * 1.03);

    const { help: _h, ...tooBig } = parseCliArgs(['--bias', 'pyth=9000']);
    expect(() => createMarketSim({ ...tooBig, logLevel: 'silent' })).toThrow(ControlError);
  });
});
