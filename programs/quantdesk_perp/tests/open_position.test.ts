import { beforeAll, describe, expect, it } from 'vitest';
import { openPositionInstruction } from '../../client/quantdesk-perp.ts';
import { BASE, BUILD_TIMEOUT_MS, ETH_FEED, MAJOR_PARAMS, PRICE, PerpHarness, USDC, loadProgram, logged, price } from './harness.ts';

async function setup() {
  const h = await PerpHarness.create();
  const sol = h.createMarket();
  const alice = h.trader(10_000n);
  const open = (size: bigint, priceUpdate?: import('@solana/web3.js').PublicKey) =>
    h.send([openPositionInstruction({ owner: alice.keypair.publicKey, market: sol, size, priceUpdate, programId: h.programId })], [alice.keypair]);
  return { h, sol, alice, open };
}

describe('open_position', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('opens a long at the pushed price and records the slot', async () => {
    const { h, sol, alice, open } = await setup();
    h.mustPush(sol, price({ price: 15_012_345_678n, conf: 1_000_000n }, h.now));
    h.deposit(alice, sol, 200n * USDC);
    const r = open(10n * BASE);
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pushed')).toBe(true);
    const p = h.position(sol, alice.keypair.publicKey);
    expect([p.size, p.entryPrice, p.openSlot, p.collateral]).toEqual([10n * BASE, 150_123_456_780n, h.slot, 200n * USDC]);
  });

  it('opens a short', async () => {
    const { h, sol, alice, open } = await setup();
    h.mustPush(sol);
    h.deposit(alice, sol, 200n * USDC);
    expect(open(-5n * BASE).ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).size).toBe(-5n * BASE);
  });

  it('allows exactly initial margin (10x) and refuses one base unit more', async () => {
    const { h, sol, alice, open } = await setup();
    h.mustPush(sol, price({ price: 10_000_000_000n, conf: 0n }, h.now));
    h.deposit(alice, sol, 100n * USDC);
    expect(open(10n * BASE + 1n).error).toBe('OpenExceedsLeverage');
    expect(open(10n * BASE).ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).entryPrice).toBe(100n * PRICE);
  });

  it('refuses a second open, a zero size and a position without collateral', async () => {
    const { h, sol, alice, open } = await setup();
    h.mustPush(sol);
    h.deposit(alice, sol, 200n * USDC);
    expect(open(0n).error).toBe('ZeroSize');
    expect(open(BASE).ok).toBe(true);
    expect(open(BASE).error).toBe('PositionAlreadyOpen');
    const bob = h.trader(10n);
    h.deposit(bob, sol, 1n);
    const r = h.send([openPositionInstruction({ owner: bob.keypair.publicKey, market: sol, size: BASE, programId: h.programId })], [bob.keypair]);
    expect(r.error).toBe('OpenExceedsLeverage');
  });

  it('needs a price: none pushed, stale for margin (20 s), or too uncertain for margin (75 bps)', async () => {
    const { h, sol, alice, open } = await setup();
    h.deposit(alice, sol, 200n * USDC);
    expect(open(BASE).error).toBe('OraclePriceMissing');
    h.mustPush(sol, price({ ageSec: 21 }, h.now));
    expect(open(BASE).error).toBe('PriceStale');
    h.mustPush(sol, price({ price: 15_000_000_000n, conf: 112_500_001n, ageSec: 1 }, h.now));
    expect(open(BASE).error).toBe('ConfidenceTooWide');
    h.mustPush(sol, price({ price: 15_000_000_000n, conf: 112_500_000n, ageSec: 0 }, h.now));
    expect(open(BASE).ok).toBe(true);
  });

  it('reports arithmetic overflow instead of wrapping', async () => {
    const { h, alice } = await setup();
    // Expo 0 with a price of 10^11: 10^11 × 10^9 does not fit 64 bits at margin precision.
    const big = h.createMarket('BIG-PERP', ETH_FEED, MAJOR_PARAMS);
    h.mustPush(big, price({ price: 100_000_000_000n, conf: 0n, expo: 0 }, h.now));
    h.deposit(alice, big, 100n * USDC);
    const r = h.send([openPositionInstruction({ owner: alice.keypair.publicKey, market: big, size: 1n, programId: h.programId })], [alice.keypair]);
    expect(r.error).toBe('MathOverflow');
  });

  it('refuses truncated and oversized instruction data', async () => {
    const { h, sol, alice } = await setup();
    h.mustPush(sol);
    h.deposit(alice, sol, 200n * USDC);
    const ix = () => openPositionInstruction({ owner: alice.keypair.publicKey, market: sol, size: BASE, programId: h.programId });
    const short = ix();
    short.data = short.data.subarray(0, 12);
    expect(h.send([short], [alice.keypair]).error).toBe('InstructionDataTooShort');
    const long = ix();
    long.data = Buffer.concat([long.data, Buffer.from([7])]);
    expect(h.send([long], [alice.keypair]).error).toBe('InstructionDataTooLong');
  });
});
