import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCandles, mergeCandles, servedSeries } from './candles.ts';

describe('buildCandles', () => {
  it('aggregates OHLC per aligned interval at the finest exponent, skipping empty intervals', () => {
    const { expo, candles } = buildCandles(
      [
        { publishTime: 60, price: 15000n, expo: -2 },
        { publishTime: 61, price: 1502000n, expo: -4 },
        { publishTime: 119, price: 14990n, expo: -2 },
        { publishTime: 240, price: 15100n, expo: -2 },
      ],
      60,
    );
    expect(expo).toBe(-4);
    expect(candles).toEqual([
      { time: 60, open: 1500000n, high: 1502000n, low: 1499000n, close: 1499000n, confClose: 0n, confMax: 0n, count: 3 },
      { time: 240, open: 1510000n, high: 1510000n, low: 1510000n, close: 1510000n, confClose: 0n, confMax: 0n, count: 1 },
    ]);
  });

  it('keeps every price: counts add up and every value lies within its candle', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ dt: fc.integer({ min: 0, max: 30 }), price: fc.bigInt({ min: 1n, max: 10n ** 12n }) }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 120 }), (steps, interval) => {
        let t = 1_800_000_000;
        const points = steps.map((s) => ({ publishTime: (t += s.dt), price: s.price, expo: -8 }));
        const { candles } = buildCandles(points, interval);
        expect(candles.reduce((n, c) => n + c.count, 0)).toBe(points.length);
        for (const p of points) {
          const c = candles.find((x) => x.time === Math.floor(p.publishTime / interval) * interval)!;
          expect(c.low <= p.price && p.price <= c.high).toBe(true);
        }
      }),
    );
  });

  it('refuses unsorted points and bad intervals', () => {
    expect(() => buildCandles([{ publishTime: 2, price: 1n, expo: 0 }, { publishTime: 1, price: 1n, expo: 0 }], 1)).toThrow(/sorted/);
    expect(() => buildCandles([], 0)).toThrow(/interval/);
  });

  it('carries the confidence at the close and the widest of each interval, at the series exponent', () => {
    const { candles } = buildCandles(
      [
        { publishTime: 0, price: 100n, conf: 3n, expo: -2 },
        { publishTime: 1, price: 1010n, conf: 5n, expo: -3 },
        { publishTime: 2, price: 99n, conf: 1n, expo: -2 },
      ],
      60,
    );
    expect(candles).toEqual([{ time: 0, open: 1000n, high: 1010n, low: 990n, close: 990n, confClose: 10n, confMax: 30n, count: 3 }]);
  });
});

describe('servedSeries', () => {
  it('keeps every Pyth update and CoinGecko only in seconds without one', () => {
    const points = [
      { source: 'coingecko' as const, publishTime: 10, price: 1n, expo: 0 },
      { source: 'pyth' as const, publishTime: 10, price: 2n, expo: 0 },
      { source: 'coingecko' as const, publishTime: 11, price: 3n, expo: 0 },
      { source: 'pyth' as const, publishTime: 10, price: 4n, expo: 0 },
    ];
    expect(servedSeries(points).map((p) => p.price)).toEqual([2n, 4n, 3n]);
  });
});

describe('mergeCandles', () => {
  it('merging minute candles gives exactly the candles built from the updates at the coarse interval', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 40 }), price: fc.bigInt({ min: 1n, max: 10n ** 12n }), conf: fc.bigInt({ min: 0n, max: 10n ** 6n }), expo: fc.constantFrom(-8, -6) }), { minLength: 1, maxLength: 300 }),
        fc.constantFrom(60, 120, 300, 3_600),
        (steps, interval) => {
          let t = 1_800_000_000;
          const points = steps.map((s) => ({ publishTime: (t += s.dt), price: s.price, conf: s.conf, expo: s.expo }));
          // Minute candles, each minute at its own exponent (as stored minute by minute).
          const byMinute = new Map<number, typeof points>();
          for (const p of points) byMinute.set(Math.floor(p.publishTime / 60), [...(byMinute.get(Math.floor(p.publishTime / 60)) ?? []), p]);
          const minutes = [...byMinute.values()].map((ps) => buildCandles(ps, 60));
          expect(mergeCandles(minutes, interval)).toEqual(buildCandles(points, interval));
        },
      ),
    );
  });
});
