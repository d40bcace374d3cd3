import type { Market, ValidationBounds } from './markets.ts';
import type { ValidPrice } from './price.ts';

/** A market for domain tests, with the bounds a shared vector file states. */
export function testMarket(validation: ValidationBounds, overrides: Partial<Market> = {}): Market {
  return {
    symbol: 'SOL-PERP',
    base: 'SOL',
    pythFeedId: 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d',
    coingeckoId: 'solana',
    feedGroup: 'majors',
    validation: validation as Market['validation'],
    push: { deviationBps: 10, heartbeatSec: 10, confChangeBps: 2000 },
    margin: { initialBps: 1000, maintenanceBps: 500, liquidationFeeBps: 100 },
    ...overrides,
  };
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
