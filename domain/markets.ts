import { z } from 'zod';
import { groupBy } from './group-by.ts';

/**
 * The feed registry: every market the system prices, with the bounds each part applies.
 * Pure schema (no file I/O); `runtime/markets.ts` loads and parses the JSON file.
 */

/** Actions a price can be used for, from the most to the least tolerant (Drift-style grading). */
export const ACTIONS = ['display', 'push', 'margin', 'liquidation'] as const;
export type Action = (typeof ACTIONS)[number];

const bps = z.number().int().min(0).max(10_000);
const seconds = z.number().int().positive().max(86_400);

/** Per-action bounds: a stricter action may never tolerate more than a looser one. */
function perAction(schema: z.ZodNumber, label: string) {
  return z
    .object({ display: schema, push: schema, margin: schema, liquidation: schema })
    .refine(
      (b) => b.display >= b.push && b.push >= b.margin && b.margin >= b.liquidation,
      { message: `${label} must not grow from display → push → margin → liquidation` },
    );
}

export const feedIdSchema = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'a Pyth feed id is 32 bytes of hex')
  .transform((id) => id.toLowerCase().replace(/^0x/, ''));

export const validationBoundsSchema = z
  .object({
    /** Accepted Pyth exponents, inclusive. */
    expoRange: z.tuple([z.number().int().min(-18).max(0), z.number().int().min(-18).max(0)]),
    maxAgeSec: perAction(seconds, 'maxAgeSec'),
    maxConfBps: perAction(bps, 'maxConfBps'),
    /** How far in the future a publish time may lie (clock skew), seconds. */
    maxFutureSkewSec: z.number().int().min(0).max(300),
    /** Largest move against the last good price that is accepted without confirmation. */
    sanityBandBps: bps,
    /** Largest distance from the EMA price that is accepted without confirmation. */
    emaBandBps: bps,
    /** Pyth ↔ CoinGecko gap that raises the divergence alarm. */
    divergenceBps: bps,
  })
  .refine((v) => v.expoRange[0] <= v.expoRange[1], { message: 'expoRange must be [min, max]' });

export const pushPolicySchema = z.object({
  /** Push when the price moved at least this much against the on-chain price. */
  deviationBps: bps.min(1),
  /** Push when the on-chain price is at least this old. */
  heartbeatSec: seconds,
  /** Push when the confidence interval changed by at least this much, relative to the on-chain one. */
  confChangeBps: bps.min(1),
});

export const marginParamsSchema = z
  .object({
    initialBps: bps.min(1),
    maintenanceBps: bps.min(1),
    liquidationFeeBps: bps,
  })
  .refine((m) => m.initialBps >= m.maintenanceBps, {
    message: 'initial margin must be at least maintenance margin',
  })
  .refine((m) => m.liquidationFeeBps < m.maintenanceBps, {
    message: 'the liquidation fee must be below maintenance margin',
  });

/**
 * A quote amount (10^-6 USD) as a decimal string of an integer that fits u64 (the program's type).
 * It stays a string in the parsed registry, which must survive JSON.stringify; `liquidationRules`
 * (domain/margin.ts) gives it as a bigint.
 */
const quoteUnits = z
  .string()
  .regex(/^\d{1,20}$/, 'a quote amount is an integer of quote units, as a string')
  .refine((v) => BigInt(v) < 2n ** 64n, { message: 'a quote amount must fit u64' });

/** How liquidations are carried out (the program's create_market parameters). */
export const liquidationParamsSchema = z.object({
  /** A partial liquidation brings the position back to maintenance margin plus this buffer. */
  liquidationBufferBps: bps,
  /** A remainder whose notional would be below this (quote units) is liquidated too. */
  minPositionNotional: quoteUnits,
  /** The insurance fund's share of every liquidation fee; the keeper gets the rest. */
  insuranceFeeShareBps: bps,
  /** Whether anyone, not only registered keepers, may liquidate once `permissionlessAfterSlots` passed. */
  permissionlessFallback: z.boolean(),
  /** Slots from when an attempt first saw a position liquidatable until anyone may liquidate it. */
  permissionlessAfterSlots: z.number().int().min(0).max(10_000_000),
});

/** Used for a market whose entry states no `liquidation` section. */
export const DEFAULT_LIQUIDATION_PARAMS = {
  liquidationBufferBps: 200,
  minPositionNotional: '10000000',
  insuranceFeeShareBps: 2500,
  permissionlessFallback: true,
  permissionlessAfterSlots: 150,
} as const satisfies z.input<typeof liquidationParamsSchema>;

export const marketSchema = z.object({
  symbol: z.string().regex(/^[A-Z0-9]{1,10}-PERP$/, 'symbols look like SOL-PERP'),
  base: z.string().regex(/^[A-Z0-9]{1,10}$/),
  pythFeedId: feedIdSchema,
  coingeckoId: z.string().regex(/^[a-z0-9-]{1,64}$/),
  feedGroup: z.string().regex(/^[a-z0-9-]{1,32}$/),
  validation: validationBoundsSchema,
  push: pushPolicySchema,
  margin: marginParamsSchema,
  liquidation: liquidationParamsSchema.prefault(DEFAULT_LIQUIDATION_PARAMS),
});

export const marketRegistrySchema = z
  .object({ markets: z.array(marketSchema).min(1) })
  .superRefine((r, ctx) => {
    const seen = new Map<string, string>();
    for (const m of r.markets) {
      if (m.margin.maintenanceBps + m.liquidation.liquidationBufferBps > 10_000) {
        ctx.addIssue({ code: 'custom', message: `${m.symbol}: maintenance margin plus the liquidation buffer exceeds 100 %` });
      }
      for (const key of [m.symbol, m.pythFeedId, m.coingeckoId]) {
        const other = seen.get(key);
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', message: `${m.symbol} repeats ${key} of ${other}` });
        }
        seen.set(key, m.symbol);
      }
    }
  });

export type Market = z.infer<typeof marketSchema>;
export type ValidationBounds = Market['validation'];
export type PushPolicy = Market['push'];
export type MarginParams = Market['margin'];
export type LiquidationParams = Market['liquidation'];
export type MarketRegistry = z.infer<typeof marketRegistrySchema>;

/** Lookups by symbol and by feed id (lower-case hex, no 0x). */
export interface MarketIndex {
  readonly all: readonly Market[];
  bySymbol(symbol: string): Market | undefined;
  byFeedId(feedId: string): Market | undefined;
  groups(): ReadonlyMap<string, readonly Market[]>;
}

export function indexMarkets(registry: MarketRegistry): MarketIndex {
  const bySymbol = new Map(registry.markets.map((m) => [m.symbol, m]));
  const byFeed = new Map(registry.markets.map((m) => [m.pythFeedId, m]));
  // Built once: the writer asks for it on every seal, and a registry can hold thousands of markets.
  const groups: ReadonlyMap<string, readonly Market[]> = groupBy(registry.markets, (m) => m.feedGroup);
  return {
    all: registry.markets,
    bySymbol: (symbol) => bySymbol.get(symbol),
    byFeedId: (feedId) => byFeed.get(feedId.toLowerCase().replace(/^0x/, '')),
    groups: () => groups,
  };
}
