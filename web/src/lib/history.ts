import { parseDecimal, rescale } from '$domain/decimal.ts';
import { getJson, type HistoryAnswer } from './api.ts';

/**
 * Sparkline and 24 h change from the history API. A young system has little history: when the day
 * holds only a few candles, the last hour at one minute is read instead, and the change is then
 * since the oldest price stored (the answer says from when).
 */
export interface Trend {
  expo: number;
  closes: bigint[];
  /** Open of the first candle: what the change is measured from. */
  from: bigint;
  fromTime: number;
  /** The window really covers 24 h. */
  fullDay: boolean;
}

// Each client may run 3 history reads at once on a gateway: keep below that, sparklines are not urgent.
let running = 0;
const queue: (() => void)[] = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((r) => queue.push(r));
  running += 1;
  try {
    return await work();
  } finally {
    running -= 1;
    queue.shift()?.();
  }
}

export async function trendOf(gatewayUrl: string, symbol: string, nowSec: number): Promise<Trend | undefined> {
  const day = await slot(() => getJson<HistoryAnswer>(gatewayUrl, `/api/prices/${symbol}/history?from=${nowSec - 86_400}&to=${nowSec}&interval=1800`));
  let series = day;
  if (day.candles.length < 6) series = await slot(() => getJson<HistoryAnswer>(gatewayUrl, `/api/prices/${symbol}/history?from=${nowSec - 3_600}&to=${nowSec}&interval=60`));
  const first = day.candles[0] ?? series.candles[0];
  if (!first || series.candles.length === 0) return undefined;
  // Both reads at one scale, exactly (decimal strings, never floats).
  const scale = Math.max(-series.expo, -day.expo, 0);
  const at = (v: string) => rescale(parseDecimal(v), scale, 'halfEven');
  return {
    expo: -scale,
    closes: series.candles.map((c) => at(c.close)),
    from: at(first.open),
    fromTime: first.time,
    fullDay: first.time <= nowSec - 86_400 + 1_800,
  };
}
