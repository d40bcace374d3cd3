import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { indexMarkets, marketRegistrySchema } from './markets.ts';

const registry = JSON.parse(readFileSync(new URL('../config/markets.json', import.meta.url), 'utf8'));

describe('feed registry', () => {
  it('the shipped registry is valid and indexed by symbol and feed id', () => {
    const index = indexMarkets(marketRegistrySchema.parse(registry));
    const sol = index.bySymbol('SOL-PERP')!;
    expect(sol.coingeckoId).toBe('solana');
    expect(index.byFeedId(`0x${sol.pythFeedId.toUpperCase()}`)).toBe(sol);
    expect([...index.groups().keys()].sort()).toEqual(['alts', 'majors']);
  });

  it('refuses bounds that loosen for a stricter action', () => {
    const bad = structuredClone(registry);
    bad.markets[0].validation.maxAgeSec.liquidation = 120;
    expect(marketRegistrySchema.safeParse(bad).error?.issues[0]?.message).toMatch(/maxAgeSec must not grow/);
  });

  it('refuses repeated feed ids, and margins that make no sense', () => {
    const dup = structuredClone(registry);
    dup.markets[1].pythFeedId = dup.markets[0].pythFeedId;
    expect(marketRegistrySchema.safeParse(dup).success).toBe(false);
    const margins = structuredClone(registry);
    margins.markets[0].margin = { initialBps: 400, maintenanceBps: 500, liquidationFeeBps: 100 };
    expect(marketRegistrySchema.safeParse(margins).error?.issues[0]?.message).toMatch(/initial margin/);
  });
});
