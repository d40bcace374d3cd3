import type { Fixed } from './decimal.ts';

/** Where a price came from. Pyth is primary; CoinGecko is the fallback (no confidence interval). */
export const SOURCES = ['pyth', 'coingecko'] as const;
export type Source = (typeof SOURCES)[number];

/**
 * A price that passed validation, in Pyth's terms: `price × 10^expo` USD, ± `conf × 10^expo`.
 * Fallback prices carry `conf = 0` and `hasConfidence = false`.
 */
export interface ValidPrice {
  readonly symbol: string;
  readonly feedId: string;
  readonly source: Source;
  readonly price: bigint;
  readonly conf: bigint;
  readonly expo: number;
  /** Unix seconds at which the source published the price. */
  readonly publishTime: number;
  /** Pyth: the Pythnet slot of the aggregate, which orders updates published within the same second. */
  readonly slot?: number;
  readonly emaPrice?: bigint;
  readonly emaConf?: bigint;
  readonly hasConfidence: boolean;
}

export const priceOf = (p: Pick<ValidPrice, 'price' | 'expo'>): Fixed => ({ mantissa: p.price, scale: p.expo === 0 ? 0 : -p.expo });
export const confOf = (p: Pick<ValidPrice, 'conf' | 'expo'>): Fixed => ({ mantissa: p.conf, scale: p.expo === 0 ? 0 : -p.expo });
