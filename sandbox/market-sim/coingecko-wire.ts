import { z } from 'zod';
import {
  ABSURD_EXPO_HIGH,
  ABSURD_EXPO_LOW,
  OVERSIZE_BYTES,
  TIME_SHIFT_SEC,
  type Corruption,
} from './faults.ts';

/** The simulator's latest CoinGecko sample for one coin. */
export interface CoingeckoQuote {
  readonly usd: number;
  /** Unix seconds. */
  readonly lastUpdatedAt: number;
}

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Query of `GET /api/v3/simple/price`. Messages follow CoinGecko's (`Missing parameter ...`). */
export const simplePriceQuerySchema = z.object({
  ids: z
    .string({ error: 'Missing parameter ids' })
    .transform((s) => [...new Set(s.split(',').map((id) => id.trim().toLowerCase()).filter(Boolean))]),
  vs_currencies: z
    .string({ error: 'Missing parameter vs_currencies' })
    .transform((s) => [...new Set(s.split(',').map((c) => c.trim().toLowerCase()).filter(Boolean))]),
  include_last_updated_at: flag.default(false),
  precision: z
    .union([z.literal('full'), z.coerce.number().int().min(0).max(18)], {
      error: 'precision must be "full" or an integer from 0 to 18',
    })
    .optional(),
});
export type SimplePriceQuery = z.infer<typeof simplePriceQuerySchema>;

/** The only quote currency the simulator prices in; others come back empty, as CoinGecko does for unknown ones. */
export const VS_CURRENCY = 'usd';

function rounded(value: number, precision: SimplePriceQuery['precision']): number {
  if (precision === 'full') return value;
  if (precision !== undefined) return Number(value.toFixed(precision));
  // Without `precision`, cents for prices above a dollar and six significant digits below.
  return Math.abs(value) >= 1 ? Number(value.toFixed(2)) : Number(value.toPrecision(6));
}

export interface CoinEntry {
  readonly quote: CoingeckoQuote;
  readonly corruption: Corruption | undefined;
}

/**
 * The body of a `simple/price` response: `{ "<coin>": { "usd": 151.23, "last_updated_at": 1732460000 } }`.
 * Unknown coins are left out. A corrupted entry carries the bad value its kind names (NaN, which JSON
 * cannot hold, becomes `null`); `malformed-json` truncates the body, `oversized` pads it beyond 1 MiB.
 */
export function simplePriceBody(
  query: SimplePriceQuery,
  entries: ReadonlyMap<string, CoinEntry>,
  nowSec: number,
): string {
  const body: Record<string, Record<string, number | null>> = {};
  let malformed = false;
  let oversized = false;
  for (const [coin, { quote, corruption }] of entries) {
    let usd: number | null = rounded(quote.usd, query.precision);
    let updatedAt = quote.lastUpdatedAt;
    let key = coin;
    switch (corruption) {
      case 'nan-price':
        usd = null;
        break;
      case 'negative-price':
        usd = -usd;
        break;
      case 'zero-price':
        usd = 0;
        break;
      case 'expo-high':
        usd = quote.usd * 10 ** ABSURD_EXPO_HIGH;
        break;
      case 'expo-low':
        usd = quote.usd * 10 ** ABSURD_EXPO_LOW;
        break;
      case 'stale-time':
        updatedAt = nowSec - TIME_SHIFT_SEC;
        break;
      case 'future-time':
        updatedAt = nowSec + TIME_SHIFT_SEC;
        break;
      case 'unknown-id':
        key = `unknown-${coin}`;
        break;
      case 'malformed-json':
        malformed = true;
        break;
      case 'oversized':
        oversized = true;
        break;
      default:
        break;
    }
    const out: Record<string, number | null> = {};
    if (query.vs_currencies.includes(VS_CURRENCY)) {
      out[VS_CURRENCY] = usd;
      if (query.include_last_updated_at) out.last_updated_at = updatedAt;
    }
    body[key] = out;
  }
  const text = JSON.stringify(body);
  if (malformed) return text.slice(0, Math.ceil(text.length / 2));
  // Whitespace between tokens keeps the body valid JSON while making it large.
  if (oversized) return `${text.slice(0, -1)}${' '.repeat(OVERSIZE_BYTES)}}`;
  return text;
}
