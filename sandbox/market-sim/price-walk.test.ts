import { describe, expect, it } from 'vitest';
import { buildCatalogue, loadRegistry, syntheticFeed, type SimFeed } from './feeds.ts';
import { DEFAULT_MARKETS_FILE } from './market-sim.ts';
import { PriceWalk } from './price-walk.ts';

const catalogue = buildCatalogue(loadRegistry(DEFAULT_MARKETS_FILE), 0);
const feed = (base: string): SimFeed => catalogue.resolve(base)!;

function run(f: SimFeed, seed: string | number, steps: number, dtSec = 0.4) {
  const walk = new PriceWalk(f, seed);
  return Array.from({ length: steps }, () => {
    walk.step(dtSec);
    return { quote: walk.quote(), value: walk.value, cg: walk.coingeckoSample() };
  });
}

describe('PriceWalk', () => {
  it('is deterministic given the seed, and different seeds give different paths', () => {
    const a = run(feed('SOL'), 42, 200);
    const b = run(feed('SOL'), 42, 200);
    const c = run(feed('SOL'), 43, 200);
    expect(b).toEqual(a);
    expect(c.map((s) => s.quote.price)).not.toEqual(a.map((s) => s.quote.price));
    // Each feed has its own stream: BTC under the same seed is not SOL rescaled.
    const btc = run(feed('BTC'), 42, 200);
    const ratios = new Set(btc.map((s, i) => (s.value / a[i]!.value).toFixed(6)));
    expect(ratios.size).toBeGreaterThan(1);
  });

  it('stays around realistic levels over a long run, with confidence inside the feed range', () => {
    const expectations: [string, number, number][] = [
      ['SOL', 150, -8],
      ['BTC', 95_000, -8],
      ['ETH', 3_300, -8],
      ['JUP', 1, -8],
      ['BONK', 0.00002, -10],
    ];
    for (const [base, level, expo] of expectations) {
      const f = feed(base);
      // 20,000 steps of 400 ms ≈ 2.2 hours.
      const path = run(f, 'levels', 20_000);
      for (const { quote, value } of path) {
        expect(quote.expo).toBe(expo);
        expect(value / level).toBeGreaterThan(0.8);
        expect(value / level).toBeLessThan(1.25);
        const confBps = (Number(quote.conf) / Number(quote.price)) * 10_000;
        expect(confBps).toBeGreaterThanOrEqual(f.confBps[0] * 0.99);
        expect(confBps).toBeLessThanOrEqual(f.confBps[1] * 1.01);
      }
      // It moves: over two hours the range spans more than a few bps.
      const values = path.map((s) => s.value);
      expect(Math.max(...values) / Math.min(...values)).toBeGreaterThan(1.001);
    }
  });

  it('keeps per-step moves small (Pyth-like), and the EMA lags behind the price', () => {
    const path = run(feed('SOL'), 7, 5_000);
    for (let i = 1; i < path.length; i++) {
      expect(Math.abs(path[i]!.value / path[i - 1]!.value - 1)).toBeLessThan(0.001);
    }
    const ema = path.map((s) => Number(s.quote.emaPrice));
    const price = path.map((s) => Number(s.quote.price));
    // The EMA is smoother: its step-to-step changes are far smaller than the price's.
    const roughness = (xs: number[]) => xs.slice(1).reduce((acc, x, i) => acc + Math.abs(x - xs[i]!), 0);
    expect(roughness(ema)).toBeLessThan(roughness(price) / 20);
    // ...and stays within the range the price has visited.
    expect(ema.at(-1)!).toBeGreaterThanOrEqual(Math.min(...price));
    expect(ema.at(-1)!).toBeLessThanOrEqual(Math.max(...price));
  });

  it('quotes CoinGecko a few bps from the underlying price', () => {
    const path = run(feed('ETH'), 9, 2_000);
    const gaps = path.map((s) => Math.abs(s.cg / s.value - 1) * 10_000);
    expect(Math.max(...gaps)).toBeLessThan(20);
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeGreaterThan(0.5);
  });
});

describe('feed catalogue', () => {
  it('resolves feeds by id with or without 0x, symbol, base and CoinGecko id', () => {
    const sol = feed('SOL');
    expect(sol.id).toBe('ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d');
    for (const name of [sol.id, `0x${sol.id}`, sol.id.toUpperCase(), 'SOL-PERP', 'sol', 'solana']) {
      expect(catalogue.resolve(name)?.id).toBe(sol.id);
    }
    expect(catalogue.resolve('DOGE-PERP')).toBeUndefined();
    expect(catalogue.byCoingeckoId('jupiter-exchange-solana')?.symbol).toBe('JUP-PERP');
  });

  it('derives synthetic feeds deterministically, with distinct 32-byte ids', () => {
    const extra = buildCatalogue(loadRegistry(DEFAULT_MARKETS_FILE), 300);
    const synthetic = extra.all.filter((f) => f.synthetic);
    expect(synthetic).toHaveLength(300);
    expect(new Set(synthetic.map((f) => f.id)).size).toBe(300);
    for (const f of synthetic) {
      expect(f.id).toMatch(/^[0-9a-f]{64}$/);
      expect(f.level).toBeGreaterThanOrEqual(0.01);
      expect(f.level).toBeLessThanOrEqual(1_000);
    }
    expect(syntheticFeed(17)).toEqual(synthetic[16]);
    expect(synthetic[16]!.coingeckoId).toBe('synthetic-17');
  });
});
