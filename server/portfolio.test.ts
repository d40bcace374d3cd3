import { PublicKey } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import type { PriceMessage } from '../contracts/socket.ts';
import { equity, liquidationPrice, pnlBand, unrealizedPnl } from '../domain/margin.ts';
import { valuePortfolio } from './portfolio.ts';

/** getUserBalances' valuation: every figure is domain/margin.ts at the served price, as integer strings. */
const margin = { initialBps: 1_000, maintenanceBps: 500, liquidationFeeBps: 100 };
const price = (p: string, conf: string): PriceMessage => ({ symbol: 'SOL-PERP', feedId: 'f', source: 'pyth', price: p, conf, expo: -8, publishTime: 100, receivedAt: 0, seq: 1, stale: false, ageSec: 1, usableFor: ['display', 'margin'] });
const owner = PublicKey.default;

describe('portfolio valuation', () => {
  it('values a long at the served price, with the confidence band, and totals', () => {
    const position = { owner, market: owner, collateral: 40_000_000n, size: 2_000_000_000n, entryPrice: 140_000_000_000n, openSlot: 5n, liquidatableSinceSlot: 0n, lastLiquidationSlot: 0n, bump: 255, address: 'P' };
    const p = valuePortfolio({
      wallet: 'W',
      at: 1,
      lamports: 5n,
      tokens: [{ account: 'A', mint: 'M', amount: '7', decimals: 6 }],
      quoteMint: 'M',
      positions: new Map([['SOL-PERP', position]]),
      marks: new Map([['SOL-PERP', price('15000000000', '10000000')]]),
      margins: new Map([['SOL-PERP', margin]]),
    });
    const pos = { size: position.size, entryPrice: position.entryPrice, collateral: position.collateral };
    const mark = 150_000_000_000n;
    const band = pnlBand(pos, mark, 100_000_000n);
    expect(p.positions[0]).toMatchObject({
      side: 'long',
      unrealizedPnl: unrealizedPnl(pos, mark).toString(),
      equity: equity(pos, mark).toString(),
      pnlBand: { low: band.low.toString(), high: band.high.toString() },
      liquidationPrice: liquidationPrice(pos, margin)!.toString(),
      health: 'healthy',
    });
    expect(p.walletQuote).toBe('7');
    expect(p.totals).toMatchObject({ collateral: '40000000', unrealizedPnl: '20000000', equity: '60000000' });
  });
});
