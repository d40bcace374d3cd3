import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../tests/vectors/margin.json' with { type: 'json' };
import liquidationVectors from '../tests/vectors/liquidation.json' with { type: 'json' };
import { BASE_DECIMALS, PRICE_DECIMALS, QUOTE_DECIMALS } from './decimal.ts';
import {
  equity,
  initialMargin,
  isLiquidatable,
  liquidationPrice,
  maintenanceMargin,
  marginHealth,
  marginRatioBps,
  meetsInitialMargin,
  notional,
  planLiquidation,
  pnlBand,
  settleLiquidation,
  toMarginPrice,
  unrealizedPnl,
  type Position,
} from './margin.ts';
import { shippedMarkets } from './test-fixtures.ts';
import { liquidationRules, type LiquidationRules } from './margin.ts';
import { DEFAULT_LIQUIDATION_PARAMS, marketRegistrySchema, type MarginParams } from './markets.ts';

const str = (x: bigint | undefined) => (x === undefined ? null : x.toString());

describe('shared vectors: margin', () => {
  it('use the same units as the domain', () => {
    expect(vectors.units).toEqual({ baseDecimals: BASE_DECIMALS, priceDecimals: PRICE_DECIMALS, quoteDecimals: QUOTE_DECIMALS });
  });

  it.each(vectors.cases)('$name', (c) => {
    const p: Position = { size: BigInt(c.position.size), entryPrice: BigInt(c.position.entryPrice), collateral: BigInt(c.position.collateral) };
    const mark = BigInt(c.mark);
    const params = c.params as MarginParams;
    const settlement = settleLiquidation(p, mark, params);
    const band = pnlBand(p, mark, BigInt(c.conf));
    expect({
      notional: str(notional(p.size, mark)),
      unrealizedPnl: str(unrealizedPnl(p, mark)),
      equity: str(equity(p, mark)),
      marginRatioBps: str(marginRatioBps(p, mark)),
      maintenanceMargin: str(maintenanceMargin(p, mark, params)),
      initialMargin: str(initialMargin(p, mark, params)),
      liquidatable: isLiquidatable(p, mark, params),
      meetsInitialMargin: meetsInitialMargin(p, mark, params),
      liquidationPrice: str(liquidationPrice(p, params)),
      pnlBand: { low: str(band.low), high: str(band.high) },
      settlement: Object.fromEntries(Object.entries(settlement).map(([k, v]) => [k, str(v)])),
    }).toEqual(c.expect);
  });
});

describe('shared vectors: liquidation', () => {
  it.each(liquidationVectors.cases)('$name', (c) => {
    const p: Position = { size: BigInt(c.position.size), entryPrice: BigInt(c.position.entryPrice), collateral: BigInt(c.position.collateral) };
    const rules: LiquidationRules = { ...c.params, minPositionNotional: BigInt(c.params.minPositionNotional) };
    const plan = planLiquidation(p, BigInt(c.mark), rules, BigInt(c.insuranceBalance));
    if (!c.expect.liquidatable) {
      expect(plan).toBeUndefined();
      return;
    }
    const { full, ...amounts } = plan!;
    expect({ liquidatable: true, full, ...Object.fromEntries(Object.entries(amounts).map(([k, v]) => [k, String(v)])) }).toEqual(c.expect);
  });

  it('reads the rules of a registry market', () => {
    const sol = shippedMarkets.bySymbol('SOL-PERP')!;
    expect(liquidationRules(sol)).toEqual({ maintenanceBps: 500, liquidationFeeBps: 100, liquidationBufferBps: 200, insuranceFeeShareBps: 2500, minPositionNotional: 10_000_000n });
  });

  it('registry: the liquidation section has defaults, survives JSON, and keeps maintenance + buffer within 100 %', () => {
    const raw = JSON.parse(readFileSync(new URL('../config/markets.json', import.meta.url), 'utf8'));
    const parsed = marketRegistrySchema.parse(raw);
    expect(marketRegistrySchema.parse(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
    const bare = structuredClone(raw);
    delete bare.markets[0].liquidation;
    expect(marketRegistrySchema.parse(bare).markets[0]!.liquidation).toEqual(DEFAULT_LIQUIDATION_PARAMS);
    const wide = structuredClone(raw);
    wide.markets[0].liquidation.liquidationBufferBps = 9_600;
    expect(marketRegistrySchema.safeParse(wide).error?.issues[0]?.message).toMatch(/maintenance margin plus the liquidation buffer/);
    const huge = structuredClone(raw);
    huge.markets[0].liquidation.minPositionNotional = (2n ** 64n).toString();
    expect(marketRegistrySchema.safeParse(huge).success).toBe(false);
  });
});

const params = fc.record({
  maintenanceBps: fc.integer({ min: 50, max: 2_000 }),
  extra: fc.integer({ min: 0, max: 2_000 }),
  liquidationFeeBps: fc.integer({ min: 0, max: 49 }),
}).map(({ maintenanceBps, extra, liquidationFeeBps }): MarginParams => ({ maintenanceBps, initialBps: maintenanceBps + extra, liquidationFeeBps }));

const position = fc.record({
  size: fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }).filter((s) => s !== 0n),
  entryPrice: fc.bigInt({ min: 1_000n, max: 10n ** 15n }),
  collateral: fc.bigInt({ min: 0n, max: 10n ** 13n }),
});
const price = fc.bigInt({ min: 1n, max: 2n * 10n ** 15n });

describe('margin invariants', () => {
  it('PnL of a long and the same short are opposite (exact when rounded toward zero)', () => {
    fc.assert(
      fc.property(position, price, (p, mark) => {
        const short = { ...p, size: -p.size };
        expect(unrealizedPnl(p, mark, 'trunc') + unrealizedPnl(short, mark, 'trunc')).toBe(0n);
        // Floor rounds both in the protocol's favour: together they lose at most one unit.
        expect([0n, -1n]).toContain(unrealizedPnl(p, mark) + unrealizedPnl(short, mark));
      }),
    );
  });

  it('the liquidation price separates liquidatable prices from safe ones exactly', () => {
    fc.assert(
      fc.property(position, params, price, (p, mp, mark) => {
        const liq = liquidationPrice(p, mp);
        if (liq === undefined) {
          expect(p.size > 0n).toBe(true);
          expect(isLiquidatable(p, mark, mp)).toBe(false);
          return;
        }
        if (p.size > 0n) expect(isLiquidatable(p, mark, mp)).toBe(mark < liq);
        else expect(isLiquidatable(p, mark, mp)).toBe(mark > liq);
      }),
      { numRuns: 500 },
    );
  });

  it('at the liquidation price the margin ratio equals maintenance (within the price tick)', () => {
    fc.assert(
      fc.property(position, params, (p, mp) => {
        const liq = liquidationPrice(p, mp);
        if (liq === undefined || liq <= 0n) return;
        const ratio = marginRatioBps(p, liq)!;
        // One price unit moves the ratio by |d ratio/dP| = entry·10⁴/P² = (10⁴ ∓ ratio)/P bps (long −,
        // short +), so by at most (10⁴ + maintenance)/liq near the liquidation price.
        const tick = (10_000n + BigInt(mp.maintenanceBps)) / liq + 1n;
        expect(ratio >= BigInt(mp.maintenanceBps) - tick - 1n && ratio <= BigInt(mp.maintenanceBps) + tick).toBe(true);
      }),
    );
  });

  it('meeting initial margin implies not liquidatable, and health is ordered', () => {
    fc.assert(
      fc.property(position, params, price, (p, mp, mark) => {
        if (meetsInitialMargin(p, mark, mp)) expect(isLiquidatable(p, mark, mp)).toBe(false);
        const h = marginHealth(p, mark, mp);
        expect(h === 'liquidatable').toBe(isLiquidatable(p, mark, mp));
      }),
    );
  });

  it('settlement conserves value: owner + keeper + PnL paid ≤ collateral + PnL, never negative', () => {
    fc.assert(
      fc.property(position, params, price, (p, mp, mark) => {
        const s = settleLiquidation(p, mark, mp);
        expect(s.keeperFee >= 0n && s.toOwner >= 0n && s.badDebt >= 0n).toBe(true);
        expect(s.toOwner + s.keeperFee - s.badDebt).toBe(p.collateral + s.pnl);
      }),
    );
  });

  it('a partial liquidation leaves a position at maintenance + buffer, a full one nothing; money is conserved', () => {
    const rules = fc.record({
      maintenanceBps: fc.integer({ min: 50, max: 2_000 }),
      liquidationFeeBps: fc.integer({ min: 0, max: 49 }),
      liquidationBufferBps: fc.integer({ min: 0, max: 500 }),
      insuranceFeeShareBps: fc.integer({ min: 0, max: 10_000 }),
      minPositionNotional: fc.bigInt({ min: 0n, max: 10n ** 8n }),
    });
    fc.assert(
      fc.property(position, rules, price, fc.bigInt({ min: 0n, max: 10n ** 12n }), (p, r, mark, fund) => {
        const plan = planLiquidation(p, mark, r, fund);
        const margin = { initialBps: r.maintenanceBps, maintenanceBps: r.maintenanceBps, liquidationFeeBps: r.liquidationFeeBps };
        if (!plan) {
          expect(isLiquidatable(p, mark, margin)).toBe(false);
          return;
        }
        expect(plan.keeperFee + plan.insuranceFee).toBe(plan.fee);
        expect(plan.sizeLiquidated + plan.remainingSize).toBe(p.size);
        expect(plan.insuranceCover + plan.badDebt).toBe(plan.lossBeyondCollateral);
        expect(plan.insuranceCover <= fund).toBe(true);
        if (plan.full) {
          expect(plan.remainingSize).toBe(0n);
          expect(plan.remainingCollateral + plan.fee - plan.lossBeyondCollateral).toBe(p.collateral + plan.realizedPnl);
        } else {
          expect(plan.remainingCollateral + plan.fee).toBe(p.collateral + plan.realizedPnl);
          const rest = { ...p, size: plan.remainingSize, collateral: plan.remainingCollateral };
          const withBuffer = { ...margin, maintenanceBps: r.maintenanceBps + r.liquidationBufferBps };
          expect(isLiquidatable(rest, mark, withBuffer)).toBe(false);
          expect(notional(plan.remainingSize, mark) >= r.minPositionNotional).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('the PnL band contains the PnL at mark', () => {
    fc.assert(
      fc.property(position, price, fc.bigInt({ min: 0n, max: 10n ** 12n }), (p, mark, conf) => {
        const band = pnlBand(p, mark, conf);
        const pnl = unrealizedPnl(p, mark);
        expect(band.low <= pnl && pnl <= band.high).toBe(true);
      }),
    );
  });
});

describe('toMarginPrice', () => {
  it('brings Pyth prices to 10^-9', () => {
    expect(toMarginPrice(15123456789n, -8)).toBe(151234567890n);
    expect(toMarginPrice(2012n, -10)).toBe(201n);
    expect(toMarginPrice(95000n, 0)).toBe(95000n * 10n ** 9n);
  });
});
