import registry from '../config/markets.json' with { type: 'json' };
import { indexMarkets, marketRegistrySchema, type Market, type MarketIndex, type ValidationBounds } from './markets.ts';
import type { ValidPrice } from './price.ts';

/** The shipped feed registry (config/markets.json), parsed as the runtime parses it. */
export const shippedMarkets: MarketIndex = indexMarkets(marketRegistrySchema.parse(registry));

/**
 * SOL-PERP as config/markets.json defines it, with the validation bounds a shared vector file
 * states (vectors carry their own bounds, so they stand alone).
 */
export function testMarket(validation: ValidationBounds, overrides: Partial<Market> = {}): Market {
  const sol = shippedMarkets.bySymbol('SOL-PERP');
  if (!sol) throw new Error('config/markets.json has no SOL-PERP');
  return { ...sol, validation, ...overrides };
}

/** A good price as the vectors write it: decimal strings, an exponent, a publish time. */
export interface VectorPrice {
  source: string;
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
}

export function vectorPrice(v: VectorPrice, market: Market): ValidPrice {
  return {
    symbol: market.symbol,
    feedId: market.pythFeedId,
    source: v.source as ValidPrice['source'],
    price: BigInt(v.price),
    conf: BigInt(v.conf),
    expo: v.expo,
    publishTime: v.publishTime,
    hasConfidence: v.source === 'pyth',
  };
}
