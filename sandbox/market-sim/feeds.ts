import { readFileSync } from 'node:fs';
import { marketRegistrySchema, type MarketRegistry } from '../../domain/markets.ts';
import { hashHex } from './random.ts';

/** One simulated price feed: what Hermes and CoinGecko publish for it, and how its walk behaves. */
export interface SimFeed {
  /** Pyth feed id, lower-case hex without 0x (as Hermes returns ids). */
  readonly id: string;
  /** Market symbol from the registry (`SOL-PERP`), or `SYN0001-PERP` for synthetic feeds. */
  readonly symbol: string;
  readonly base: string;
  readonly coingeckoId: string;
  /** Pyth symbol attribute, e.g. `Crypto.SOL/USD`. */
  readonly pythSymbol: string;
  readonly expo: number;
  /** Price level the walk reverts to, in USD. */
  readonly level: number;
  /** Confidence interval in basis points of the price: [tightest, widest]. */
  readonly confBps: readonly [number, number];
  /** Daily volatility of the log price (0.03 = 3 %). */
  readonly dailyVol: number;
  readonly synthetic: boolean;
}

interface AssetProfile {
  level: number;
  expo: number;
  confBps: [number, number];
  dailyVol: number;
}

/**
 * Realistic levels for the assets we list. Exponents are the ones Pyth publishes these feeds with
 * (-8 for most, -10 for BONK whose price has four leading zeros); confidence is a few bps for majors
 * and wider for alts, as on Pythnet.
 */
const KNOWN_ASSETS: Readonly<Record<string, AssetProfile>> = {
  BTC: { level: 95_000, expo: -8, confBps: [2, 6], dailyVol: 0.025 },
  ETH: { level: 3_300, expo: -8, confBps: [2, 8], dailyVol: 0.035 },
  SOL: { level: 150, expo: -8, confBps: [3, 10], dailyVol: 0.045 },
  JUP: { level: 1, expo: -8, confBps: [10, 40], dailyVol: 0.06 },
  BONK: { level: 0.00002, expo: -10, confBps: [15, 60], dailyVol: 0.08 },
};

/** Profile for an asset we have no table entry for: a level between 0.01 and 1,000 picked from its id. */
function derivedProfile(id: string): AssetProfile {
  const u = Number.parseInt(id.slice(0, 8), 16) / 0x1_0000_0000;
  const level = Number((10 ** (-2 + 5 * u)).toPrecision(4));
  // Keep at least six significant digits in the integer mantissa.
  const expo = level < 0.01 ? -10 : -8;
  return { level, expo, confBps: [10, 40], dailyVol: 0.06 };
}

function feedFromMarket(m: MarketRegistry['markets'][number]): SimFeed {
  const profile = KNOWN_ASSETS[m.base] ?? derivedProfile(m.pythFeedId);
  return {
    id: m.pythFeedId,
    symbol: m.symbol,
    base: m.base,
    coingeckoId: m.coingeckoId,
    pythSymbol: `Crypto.${m.base}/USD`,
    ...profile,
    synthetic: false,
  };
}

/**
 * Synthetic feeds for benchmarks. Ids depend only on the index (not on the seed), so a benchmark can be
 * configured once and rerun with other seeds.
 */
export function syntheticFeed(index: number): SimFeed {
  const id = hashHex(`quantdesk-market-sim/synthetic-feed/${index}`);
  const base = `SYN${String(index).padStart(4, '0')}`;
  return {
    id,
    symbol: `${base}-PERP`,
    base,
    coingeckoId: `synthetic-${index}`,
    pythSymbol: `Crypto.${base}/USD`,
    ...derivedProfile(id),
    synthetic: true,
  };
}

export function loadRegistry(path: string): MarketRegistry {
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  return marketRegistrySchema.parse(raw);
}

/** The catalogue of feeds, with lookups by every name a control request may use. */
export interface FeedCatalogue {
  readonly all: readonly SimFeed[];
  /** By Pyth id (with or without 0x, any case), market symbol, base or CoinGecko id. */
  resolve(name: string): SimFeed | undefined;
  byId(id: string): SimFeed | undefined;
  byCoingeckoId(id: string): SimFeed | undefined;
}

export function buildCatalogue(registry: MarketRegistry, extraFeeds: number): FeedCatalogue {
  const all = [
    ...registry.markets.map(feedFromMarket),
    ...Array.from({ length: extraFeeds }, (_, i) => syntheticFeed(i + 1)),
  ];
  const byId = new Map(all.map((f) => [f.id, f]));
  const byCg = new Map(all.map((f) => [f.coingeckoId, f]));
  const byName = new Map<string, SimFeed>();
  for (const f of all) {
    byName.set(f.symbol.toLowerCase(), f);
    byName.set(f.base.toLowerCase(), f);
  }
  const normaliseId = (id: string) => id.toLowerCase().replace(/^0x/, '');
  return {
    all,
    byId: (id) => byId.get(normaliseId(id)),
    byCoingeckoId: (id) => byCg.get(id),
    resolve: (name) =>
      byId.get(normaliseId(name)) ?? byCg.get(name) ?? byName.get(name.toLowerCase()),
  };
}
