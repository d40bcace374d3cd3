import { beforeAll, describe, expect, it } from 'vitest';
import { Keypair, PublicKey } from '@solana/web3.js';
import { openPositionInstruction, setMarketOracleInstruction } from '../../client/quantdesk-perp.ts';
import { BASE, PerpHarness, USDC, logged, price, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

async function setup() {
  const h = await PerpHarness.create();
  const sol = h.createMarket();
  const pin = (oracle: PublicKey | null, signer = h.admin) =>
    setMarketOracleInstruction({ admin: signer.publicKey, market: sol, oracle, programId: h.programId });
  return { h, sol, pin };
}

describe('set_market_oracle', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('pins the account the market trusts, re-pins and unpins it', async () => {
    const { h, sol, pin } = await setup();
    expect(h.market(sol).oracle).toBeNull();
    const first = Keypair.generate().publicKey;
    h.mustSend([pin(first)], [h.admin]);
    expect(h.market(sol).oracle!.equals(first)).toBe(true);
    const second = Keypair.generate().publicKey;
    h.mustSend([pin(second)], [h.admin]);
    expect(h.market(sol).oracle!.equals(second)).toBe(true);
    h.mustSend([pin(null)], [h.admin]);
    expect(h.market(sol).oracle).toBeNull();
  });

  it('keeps the watermark across a re-pin: the new account may not go back in time', async () => {
    const { h, sol } = await setup();
    h.pinOracle(sol);
    h.mustPush(sol, price({ price: 15_000_000_000n, ageSec: 5 }, h.now));
    const alice = h.trader(1_000n);
    h.deposit(alice, sol, 500n * USDC);
    const open = () => h.send([openPositionInstruction({ owner: alice.keypair.publicKey, market: sol, size: BASE, priceUpdate: h.oracleOf(), programId: h.programId })], [alice.keypair]);
    h.writePythUpdate({ publishTime: h.now });
    expect(h.deposit(alice, sol, USDC).ok).toBe(true);
    const bob = h.trader(1_000n);
    h.deposit(bob, sol, 500n * USDC);
    h.mustSend([openPositionInstruction({ owner: bob.keypair.publicKey, market: sol, size: BASE, priceUpdate: h.oracleOf(), programId: h.programId })], [bob.keypair]);
    expect(h.market(sol).lastUsedPublishTime).toBe(h.now);
    h.pinOracle(sol);
    h.writePythUpdate({ publishTime: h.now - 2n });
    expect(open().error).toBe('PriceOlderThanUsed');
    h.writePythUpdate({ publishTime: h.now });
    const r = open();
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pyth')).toBe(true);
  });

  it('is for the admin only, signed, with the market writable and owned by the program', async () => {
    const { h, sol, pin } = await setup();
    const mallory = Keypair.generate();
    h.airdrop(mallory.publicKey, 1_000_000_000n);
    expect(h.send([pin(Keypair.generate().publicKey, mallory)], [mallory]).error).toBe('Unauthorized');
    const unsigned = pin(Keypair.generate().publicKey);
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
    const readOnly = pin(Keypair.generate().publicKey);
    readOnly.keys[2]!.isWritable = false;
    expect(h.send([readOnly], [h.admin]).error).toBe('AccountNotWritable');
    const forged = Keypair.generate().publicKey;
    h.setAccount(forged, h.mustAccount(sol).data, Keypair.generate().publicKey);
    const foreign = pin(Keypair.generate().publicKey);
    foreign.keys[2]!.pubkey = forged;
    expect(h.send([foreign], [h.admin]).error).toBe('WrongAccountOwner');
    expect(h.market(sol).oracle).toBeNull();
  });
});
