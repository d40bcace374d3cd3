import { pow10 } from './decimal.ts';

/** OHLC candles from accepted prices, pure and exact. All candles share the finest exponent seen. */

export interface PricePoint {
  publishTime: number;
  price: bigint;
  expo: number;
}

export interface Candle {
  /** Start of the interval, unix seconds (aligned to the interval). */
  time: number;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  /** Number of prices in the interval. */
  count: number;
}

export const MAX_CANDLES = 5_000;

/** Points must be sorted by publish time; intervals without prices are omitted (no invented prices). */
export function buildCandles(points: readonly PricePoint[], intervalSec: number): { expo: number; candles: Candle[] } {
  if (!Number.isInteger(intervalSec) || intervalSec <= 0) throw new RangeError(`interval ${intervalSec} is not a positive integer`);
  if (points.length === 0) return { expo: 0, candles: [] };
  const expo = Math.min(...points.map((p) => p.expo));
  const candles: Candle[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    if (p.publishTime < last) throw new RangeError('points must be sorted by publish time');
    last = p.publishTime;
    const value = p.price * pow10(p.expo - expo);
    const time = Math.floor(p.publishTime / intervalSec) * intervalSec;
    const c = candles.at(-1);
    if (c && c.time === time) {
      if (value > c.high) c.high = value;
      if (value < c.low) c.low = value;
      c.close = value;
      c.count += 1;
    } else {
      if (candles.length >= MAX_CANDLES) throw new RangeError(`more than ${MAX_CANDLES} candles: widen the interval or narrow the range`);
      candles.push({ time, open: value, high: value, low: value, close: value, count: 1 });
    }
  }
  return { expo, candles };
}
