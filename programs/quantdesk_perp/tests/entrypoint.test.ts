// Dispatch and decoding, common to every instruction.
import { describe, expect, it } from 'vitest';
import anchor from '@coral-xyz/anchor';
import { TransactionInstruction } from '@solana/web3.js';
import { depositInstruction, perpCoder } from '../../client/quantdesk-perp.ts';
import { PerpHarness, USDC } from './harness.ts';

describe('entrypoint', () => {
  it('refuses unknown discriminators and data shorter than a discriminator', async () => {
    const h = await PerpHarness.create();
    const raw = (data: number[]) => new TransactionInstruction({ programId: h.programId, keys: [], data: Buffer.from(data) });
    expect(h.send([raw([1, 2, 3, 4, 5, 6, 7, 8])], [h.payer]).error).toBe('UnknownInstruction');
    expect(h.send([raw([])], [h.payer]).error).toBe('UnknownInstruction');
    expect(h.send([raw([...perpCoder.instruction.encode('deposit', { amount: new anchor.BN(0) }).subarray(0, 7)])], [h.payer]).error).toBe('UnknownInstruction');
  });

  it('refuses too few accounts', async () => {
    const h = await PerpHarness.create();
    const sol = h.createMarket();
    const t = h.trader(10n);
    const ix = depositInstruction({ owner: t.keypair.publicKey, market: sol, ownerTokenAccount: t.tokenAccount, amount: USDC, programId: h.programId });
    ix.keys = ix.keys.slice(0, 5);
    expect(h.send([ix], [t.keypair]).error).toBe('NotEnoughAccounts');
  });

  it('refuses the same account passed twice', async () => {
    const h = await PerpHarness.create();
    const sol = h.createMarket();
    const t = h.trader(10n);
    const ix = depositInstruction({ owner: t.keypair.publicKey, market: sol, ownerTokenAccount: t.tokenAccount, amount: USDC, programId: h.programId });
    ix.keys[4] = { ...ix.keys[5]! };
    expect(h.send([ix], [t.keypair]).error).toBe('DuplicateAccount');
  });
});
