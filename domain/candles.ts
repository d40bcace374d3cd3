import { pow10 } from './decimal.ts';
import type { Source } from './price.ts';

/**
 * OHLC candles from accepted prices, pure and exact. All candles of a series share the finest
 * exponent seen. Candles of whole minutes can be merged into coarser ones, so long windows are
 * read from pre-aggregated minutes and hours instead of every update.
 */

export interface PricePoint {
  publishTime: number;
  price: bigint;
  /** Confidence mantissa at the same exponent as `price` (0 when the source has none). */
  conf?: bigint;
  expo: number;
}

export interface Candle {
  /** Start of the interval, unix seconds (aligned to the interval). */
  time: number;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  /** Confidence at the close, and the widest in the interval. */
  confClose: bigint;
  confMax: bigint;
  /** Number of prices in the interval. */
  count: number;
}

export const MAX_CANDLES = 5_000;

/** Start of the minute of a unix time (seconds). */
export const minuteOf = (t: number) => Math.floor(t / 60) * 60;

/** An update of either source, as history stores it. */
export interface SourcedPoint extends PricePoint {
  source: Source;
}

/**
 * The served series: every Pyth update, and CoinGecko's only in seconds where Pyth had none (as the
 * served price itself switches). Sorted by publish time; several updates of one second keep their order.
 */
export function servedSeries<P extends SourcedPoint>(points: readonly P[]): P[] {
  const pythSeconds = new Set(points.filter((p) => p.source === 'pyth').map((p) => p.publishTime));
  return points.filter((p) => p.source === 'pyth' || !pythSeconds.has(p.publishTime)).sort((a, b) => a.publishTime - b.publishTime);
}

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
    const scale = pow10(p.expo - expo);
    const value = p.price * scale;
    const conf = (p.conf ?? 0n) * scale;
    const time = Math.floor(p.publishTime / intervalSec) * intervalSec;
    const c = candles.at(-1);
    if (c && c.time === time) {
      if (value > c.high) c.high = value;
      if (value < c.low) c.low = value;
      c.close = value;
      c.confClose = conf;
      if (conf > c.confMax) c.confMax = conf;
      c.count += 1;
    } else {
      if (candles.length >= MAX_CANDLES) throw new RangeError(`more than ${MAX_CANDLES} candles: widen the interval or narrow the range`);
      candles.push({ time, open: value, high: value, low: value, close: value, confClose: conf, confMax: conf, count: 1 });
    }
  }
  return { expo, candles };
}

/** Candles of one series at possibly different exponents, each with its own. */
export interface CandleSet {
  expo: number;
  candles: readonly Candle[];
}

/**
 * Merges finer candles (sorted by time, any exponents) into candles of `intervalSec`, which must be
 * a multiple of each candle's own width for the result to be exact (minutes into 5 minutes, hours).
 */
export function mergeCandles(sets: readonly CandleSet[], intervalSec: number): { expo: number; candles: Candle[] } {
  if (!Number.isInteger(intervalSec) || intervalSec <= 0) throw new RangeError(`interval ${intervalSec} is not a positive integer`);
  const nonEmpty = sets.filter((s) => s.candles.length > 0);
  if (nonEmpty.length === 0) return { expo: 0, candles: [] };
  const expo = Math.min(...nonEmpty.map((s) => s.expo));
  const all = nonEmpty
    .flatMap((s) => {
      const k = pow10(s.expo - expo);
      return s.candles.map((c) => ({ ...c, open: c.open * k, high: c.high * k, low: c.low * k, close: c.close * k, confClose: c.confClose * k, confMax: c.confMax * k }));
    })
    .sort((a, b) => a.time - b.time);
  const out: Candle[] = [];
  for (const c of all) {
    const time = Math.floor(c.time / intervalSec) * intervalSec;
    const o = out.at(-1);
    if (o && o.time === time) {
      if (c.high > o.high) o.high = c.high;
      if (c.low < o.low) o.low = c.low;
      o.close = c.close;
      o.confClose = c.confClose;
      if (c.confMax > o.confMax) o.confMax = c.confMax;
      o.count += c.count;
    } else {
      if (out.length >= MAX_CANDLES) throw new RangeError(`more than ${MAX_CANDLES} candles: widen the interval or narrow the range`);
      out.push({ ...c, time });
    }
  }
  return { expo, candles: out };
}
