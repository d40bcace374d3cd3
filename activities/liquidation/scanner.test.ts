import { describe, expect, it } from 'vitest';
import type { LivePrice } from '../../bus/follower.ts';
import { testMarkets } from '../../tests/support.ts';
import { PositionScanner, type TrackedPosition } from './scanner.ts';

const markets = testMarkets();
const SOL = markets.bySymbol('SOL-PERP')!;
const ok = { display: 'ok', push: 'ok', margin: 'ok', liquidation: 'ok' } as const;
/** SOL at `usd` dollars, Pyth-style (expo -8). */
const sol = (usd: number, grades: LivePrice['grades'] = ok): LivePrice => ({
  symbol: 'SOL-PERP', feedId: SOL.pythFeedId, source: 'pyth', price: String(Math.round(usd * 1e8)), conf: '1000', expo: -8, publishTime: 1, receivedAt: 1, grades,
});
// Long 10 SOL from $150 with $200 collateral: notional $1,500; maintenance 5 % = $75; liquidation below ~$137.5.
const long: TrackedPosition = { address: 'P1', owner: 'W1', symbol: 'SOL-PERP', size: 10_000_000_000n, entryPrice: 150_000_000_000n, collateral: 200_000_000n, openSlot: 42n, lastLiquidationSlot: 0n };

describe('PositionScanner', () => {
  it('starts a saga for a position below maintenance at a liquidation-grade price, and warns once per crossing', () => {
    const s = new PositionScanner(markets, 250, () => 1_000);
    s.upsert(long);
    expect(s.evaluate([sol(150)])).toEqual({ sagas: [], warnings: [] });
    const near = s.evaluate([sol(139.5)]); // within 2.5 % of maintenance
    expect(near.sagas).toEqual([]);
    expect(near.warnings).toMatchObject([{ wallet: 'W1', position: 'P1', symbol: 'SOL-PERP', maintenanceBps: SOL.margin.maintenanceBps }]);
    expect(s.evaluate([sol(139.4)]).warnings).toEqual([]); // still near: no second warning
    const under = s.evaluate([sol(130)]);
    expect(under.sagas).toEqual([{ position: 'P1', owner: 'W1', symbol: 'SOL-PERP', openSlot: '42', lastLiquidationSlot: '0', size: '10000000000', marginRatioBps: expect.any(Number), markPrice: '130000000000', detectedAt: 1_000 }]);
    expect(under.warnings).toEqual([]);
    s.evaluate([sol(150)]);
    expect(s.evaluate([sol(139.5)]).warnings).toHaveLength(1); // a new crossing warns again
  });

  it('never starts a saga on a price not graded for liquidation, nor for a flat or forgotten position', () => {
    const s = new PositionScanner(markets, 250);
    s.upsert(long);
    expect(s.evaluate([sol(100, { ...ok, liquidation: 'confidence_too_wide' })]).sagas).toEqual([]);
    expect(s.evaluate([sol(100, { ...ok, margin: 'stale', liquidation: 'stale' })])).toEqual({ sagas: [], warnings: [] });
    s.upsert({ ...long, size: 0n });
    expect(s.size).toBe(0);
    s.reset([long, { ...long, address: 'P2', owner: 'W2' }]);
    expect(s.evaluate([sol(100)]).sagas.map((x) => x.position)).toEqual(['P1', 'P2']);
    s.reset([long]);
    expect(s.evaluate([sol(100)]).sagas.map((x) => x.position)).toEqual(['P1']);
  });
});
