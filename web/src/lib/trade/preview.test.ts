import { describe, expect, it } from 'vitest';
import { initialMargin, liquidationPrice, unrealizedPnl } from '$domain/margin.ts';
import { checkPrice, preview, sizeForLeverage } from './preview.ts';

const params = { initialBps: 1_000, maintenanceBps: 500, liquidationFeeBps: 100 };
const bounds = { ...params, maxAgeMarginSec: 20, maxConfMarginBps: 75 };
const mark = 150_000_000_000n; // 150 USD at 10^-9
const flat = { size: 0n, entryPrice: 0n, collateral: 1_000_000_000n }; // 1,000 USDC

describe('trade preview', () => {
  it('says why the program would refuse the on-chain price for margin', () => {
    const p = { price: 15_000_000_000n, conf: 10_000_000n, expo: -8, publishTime: 1_000 };
    expect(checkPrice(p, bounds, 1_005)).toMatchObject({ mark, ageSec: 5, problems: [] });
    expect(checkPrice(p, bounds, 1_021)!.problems[0]).toMatch(/PriceStale/);
    expect(checkPrice({ ...p, conf: 200_000_000n }, bounds, 1_001)!.problems[0]).toMatch(/ConfidenceTooWide/);
  });

  it('previews an open with the domain formulas, and refuses beyond the leverage limit', () => {
    const v = preview(flat, { kind: 'open', size: 2_000_000_000n }, mark, params, 0n);
    const after = { ...flat, size: 2_000_000_000n, entryPrice: mark };
    expect(v.problems).toEqual([]);
    expect(v.after.notional).toBe(300_000_000n);
    expect(v.after.initialMargin).toBe(initialMargin(after, mark, params));
    expect(v.after.liquidationPrice).toBe(liquidationPrice(after, params));
    expect(preview(flat, { kind: 'open', size: 70_000_000_000n }, mark, params, 0n).problems[0]).toMatch(/OpenExceedsLeverage/);
  });

  it('a close realises the PnL at the mark; leverage sizes stay within initial margin', () => {
    const open = { size: 2_000_000_000n, entryPrice: 140_000_000_000n, collateral: 1_000_000_000n };
    const v = preview(open, { kind: 'close' }, mark, params, 0n);
    expect(v.realisedPnl).toBe(unrealizedPnl(open, mark));
    expect(v.after.collateral).toBe(1_000_000_000n + 20_000_000n);
    const size = sizeForLeverage(flat.collateral, 100, mark);
    expect(preview(flat, { kind: 'open', size }, mark, params, 0n).problems).toEqual([]);
  });
});
