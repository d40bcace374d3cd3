import { beforeAll, describe, expect, it } from 'vitest';
import { closePositionInstruction, positionAddress } from '../../client/quantdesk-perp.ts';
import { BASE, PerpHarness, USDC, price, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

async function setup() {
  const h = await PerpHarness.create();
  const sol = h.createMarket();
  h.mustPush(sol, price({ price: 15_000_000_000n, conf: 0n }, h.now));
  const alice = h.trader(1_000n);
  const close = (signer = alice) =>
    h.send([closePositionInstruction({ owner: signer.keypair.publicKey, market: sol, programId: h.programId })], [signer.keypair]);
  return { h, sol, alice, close };
}

describe('close_position', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('settles a profit into collateral and leaves the position flat', async () => {
    const { h, sol, alice, close } = await setup();
    expect(h.openWith(alice, sol, 300n * USDC, 10n * BASE).ok).toBe(true);
    h.advance(5);
    h.mustPush(sol, price({ price: 16_000_000_000n, conf: 0n }, h.now));
    expect(close().ok).toBe(true);
    const p = h.position(sol, alice.keypair.publicKey);
    expect([p.collateral, p.size, p.entryPrice]).toEqual([400n * USDC, 0n, 0n]);
  });

  it('settles a short\'s loss, rounding it against the trader', async () => {
    const { h, sol, alice, close } = await setup();
    expect(h.openWith(alice, sol, 300n * USDC, -3n * BASE).ok).toBe(true);
    h.advance(5);
    // +0.000000011 per unit on 3 units: a loss of 0.000000033 USD, floored to one quote unit.
    h.mustPush(sol, price({ price: 150_000_000_011n, conf: 0n, expo: -9 }, h.now));
    expect(close().ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).collateral).toBe(300n * USDC - 1n);
  });

  it('floors collateral at zero when the loss exceeds it', async () => {
    const { h, sol, alice, close } = await setup();
    // 6 SOL from $150 to $120: a $180 loss on $100.
    expect(h.openWith(alice, sol, 100n * USDC, 6n * BASE).ok).toBe(true);
    h.advance(5);
    h.mustPush(sol, price({ price: 12_000_000_000n, conf: 0n }, h.now));
    expect(close().ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).collateral).toBe(0n);
  });

  it('refuses a flat position and another signer', async () => {
    const { h, sol, alice, close } = await setup();
    h.deposit(alice, sol, 100n * USDC);
    expect(close().error).toBe('PositionNotOpen');
    const mallory = h.trader(0n);
    const ix = closePositionInstruction({ owner: mallory.keypair.publicKey, market: sol, programId: h.programId });
    ix.keys[3]!.pubkey = positionAddress(sol, alice.keypair.publicKey, h.programId);
    expect(h.send([ix], [mallory.keypair]).error).toBe('Unauthorized');
    const unsigned = closePositionInstruction({ owner: alice.keypair.publicKey, market: sol, programId: h.programId });
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
  });

  it('refuses instruction data beyond the discriminator', async () => {
    const { h, sol, alice } = await setup();
    expect(h.openWith(alice, sol, 300n * USDC, BASE).ok).toBe(true);
    const ix = closePositionInstruction({ owner: alice.keypair.publicKey, market: sol, programId: h.programId });
    ix.data = Buffer.concat([ix.data, Buffer.from([0])]);
    expect(h.send([ix], [alice.keypair]).error).toBe('InstructionDataTooLong');
    const short = closePositionInstruction({ owner: alice.keypair.publicKey, market: sol, programId: h.programId });
    short.data = short.data.subarray(0, 7);
    expect(h.send([short], [alice.keypair]).error).toBe('UnknownInstruction');
  });
});
