// How open_position, close_position, withdraw and liquidate find their price (shared code in
// processor/shared/oracle.rs), exercised through open_position: a passed PriceUpdateV2 must be
// genuine or the instruction fails; a genuine but unusable one falls back to the pushed price.
import { beforeAll, describe, expect, it } from 'vitest';
import { Keypair, type PublicKey } from '@solana/web3.js';
import { openPositionInstruction } from '../../client/quantdesk-perp.ts';
import { PRICE_UPDATE_V2_DISCRIMINATOR } from '../../client/pyth-price-update.ts';
import { BASE, BTC_FEED, PerpHarness, USDC, logged, price, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

async function setup() {
  const h = await PerpHarness.create();
  const sol = h.createMarket();
  h.mustPush(sol, price({ price: 15_000_000_000n, conf: 1_000_000n }, h.now));
  const alice = h.trader(1_000n);
  h.deposit(alice, sol, 500n * USDC);
  const open = (priceUpdate?: PublicKey) =>
    h.send([openPositionInstruction({ owner: alice.keypair.publicKey, market: sol, size: BASE, priceUpdate, programId: h.programId })], [alice.keypair]);
  const entry = () => h.position(sol, alice.keypair.publicKey).entryPrice;
  return { h, sol, alice, open, entry };
}

describe('oracle resolution', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('prefers a valid Pyth update over the pushed price', async () => {
    const { h, open, entry } = await setup();
    const r = open(h.writePythUpdate({ price: 15_123_456_789n, conf: 1_000_000n, exponent: -8 }));
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pyth')).toBe(true);
    expect(entry()).toBe(151_234_567_890n);
  });

  it('rescales Pyth exponents below -9 toward zero', async () => {
    const { h, open, entry } = await setup();
    expect(open(h.writePythUpdate({ price: 151_234_567_899_999n, conf: 0n, exponent: -12 })).ok).toBe(true);
    expect(entry()).toBe(151_234_567_899n);
  });

  it('falls back to the pushed price when the Pyth update is stale', async () => {
    const { h, open, entry } = await setup();
    const r = open(h.writePythUpdate({ price: 15_500_000_000n, publishTime: h.now - 21n }));
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'pyth price unusable:')).toBe(true);
    expect(logged(r.logs, 'PriceStale')).toBe(true);
    expect(logged(r.logs, 'price source: pushed')).toBe(true);
    expect(entry()).toBe(150n * 1_000_000_000n);
  });

  it('falls back when the Pyth update is in the future, too uncertain, non-positive or out of exponent range', async () => {
    const cases: [Parameters<PerpHarness['writePythUpdate']>[0], string][] = [
      [{ publishTime: 1_800_000_006n }, 'PriceInFuture'],
      [{ price: 15_000_000_000n, conf: 112_500_001n }, 'ConfidenceTooWide'],
      [{ price: 0n, conf: 0n }, 'NonPositivePrice'],
      [{ price: -15_000_000_000n, conf: 0n }, 'NonPositivePrice'],
      [{ exponent: 3 }, 'ExponentOutOfRange'],
    ];
    for (const [update, reason] of cases) {
      const { h, open, entry } = await setup();
      const r = open(h.writePythUpdate(update));
      expect(r.ok, reason).toBe(true);
      expect(logged(r.logs, reason), reason).toBe(true);
      expect(entry(), reason).toBe(150n * 1_000_000_000n);
    }
  });

  it('fails with the pushed price\'s reason when both are unusable', async () => {
    const { h, open } = await setup();
    h.advance(25);
    expect(open(h.writePythUpdate({ publishTime: h.now - 30n })).error).toBe('PriceStale');
  });

  it('refuses a forged update: owned by another program than the configured receiver', async () => {
    const { h, open } = await setup();
    expect(open(h.writePythUpdate({ owner: Keypair.generate().publicKey })).error).toBe('PythWrongOwner');
  });

  it('refuses a partially verified update', async () => {
    const { h, open } = await setup();
    expect(open(h.writePythUpdate({ verification: { kind: 'partial', numSignatures: 5 } })).error).toBe('PythNotFullyVerified');
  });

  it('refuses an update for another feed', async () => {
    const { h, open } = await setup();
    expect(open(h.writePythUpdate({ feedId: BTC_FEED })).error).toBe('PythFeedMismatch');
  });

  it('refuses an account of the receiver that is not a PriceUpdateV2', async () => {
    const { h, open } = await setup();
    const key = h.writePythUpdate({});
    const data = h.mustAccount(key).data;
    data[0] = data[0]! ^ 0xff;
    h.setAccount(key, data, h.pythReceiver);
    expect(open(key).error).toBe('PythInvalidAccount');
    const short = Keypair.generate().publicKey;
    h.setAccount(short, Buffer.concat([PRICE_UPDATE_V2_DISCRIMINATOR, Buffer.alloc(40, 1)]), h.pythReceiver);
    expect(open(short).error).toBe('PythInvalidAccount');
  });

  it('treats the program id in the optional slot as "no Pyth account" (Anchor\'s placeholder)', async () => {
    const { h, open } = await setup();
    const r = open(h.programId);
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pushed')).toBe(true);
  });
});
