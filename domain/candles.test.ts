import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCandles } from './candles.ts';

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
      { time: 60, open: 1500000n, high: 1502000n, low: 1499000n, close: 1499000n, count: 3 },
      { time: 240, open: 1510000n, high: 1510000n, low: 1510000n, close: 1510000n, count: 1 },
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
});
