import { beforeAll, describe, expect, it } from 'vitest';
import { Keypair, SystemProgram } from '@solana/web3.js';
import anchor from '@coral-xyz/anchor';
import { depositInstruction, perpCoder, positionAddress, vaultAddress } from '../../client/quantdesk-perp.ts';
import { PerpHarness, USDC, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

async function setup() {
  const h = await PerpHarness.create();
  const sol = h.createMarket();
  return { h, sol, alice: h.trader(1_000n) };
}

describe('deposit', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('creates the position on the first deposit and moves the tokens into the vault', async () => {
    const { h, sol, alice } = await setup();
    expect(h.deposit(alice, sol, 250n * USDC).ok).toBe(true);
    const p = h.position(sol, alice.keypair.publicKey);
    expect(p.owner.equals(alice.keypair.publicKey)).toBe(true);
    expect(p.market.equals(sol)).toBe(true);
    expect([p.collateral, p.size, p.entryPrice, p.openSlot]).toEqual([250n * USDC, 0n, 0n, 0n]);
    const [, bump] = (await import('@solana/web3.js')).PublicKey.findProgramAddressSync(
      [Buffer.from('position'), sol.toBuffer(), alice.keypair.publicKey.toBuffer()],
      h.programId,
    );
    expect(p.bump).toBe(bump);
    expect(h.mustAccount(positionAddress(sol, alice.keypair.publicKey, h.programId)).owner.equals(h.programId)).toBe(true);
    expect(h.tokenBalance(alice.tokenAccount)).toBe(750n * USDC);
    expect(h.tokenBalance(vaultAddress(h.programId))).toBe(250n * USDC);

    expect(h.deposit(alice, sol, 50n * USDC).ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).collateral).toBe(300n * USDC);
    expect(h.tokenBalance(vaultAddress(h.programId))).toBe(300n * USDC);
  });

  it('creates the position even when someone sent lamports to its address first', async () => {
    const { h, sol, alice } = await setup();
    const address = positionAddress(sol, alice.keypair.publicKey, h.programId);
    h.mustSend([SystemProgram.transfer({ fromPubkey: h.payer.publicKey, toPubkey: address, lamports: Number(h.svm.minimumBalanceForRentExemption(0n)) })], [h.payer]);
    expect(h.deposit(alice, sol, 10n * USDC).ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).collateral).toBe(10n * USDC);
  });

  it('refuses a zero amount, an unsigned owner and a vault that is not the config\'s', async () => {
    const { h, sol, alice } = await setup();
    expect(h.deposit(alice, sol, 0n).error).toBe('ZeroAmount');
    const unsigned = depositInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount: USDC, programId: h.programId });
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
    const otherVault = h.createTokenAccount(h.admin.publicKey);
    const wrongVault = depositInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount: USDC, programId: h.programId });
    wrongVault.keys[5]!.pubkey = otherVault;
    expect(h.send([wrongVault], [alice.keypair]).error).toBe('WrongVault');
  });

  it('refuses someone else\'s position, and a position address that is not the owner\'s PDA', async () => {
    const { h, sol, alice } = await setup();
    const bob = h.trader(100n);
    h.deposit(alice, sol, USDC);
    const intoAlice = depositInstruction({ owner: bob.keypair.publicKey, market: sol, ownerTokenAccount: bob.tokenAccount, amount: USDC, programId: h.programId });
    intoAlice.keys[3]!.pubkey = positionAddress(sol, alice.keypair.publicKey, h.programId);
    expect(h.send([intoAlice], [bob.keypair]).error).toBe('Unauthorized');
    const notPda = depositInstruction({ owner: bob.keypair.publicKey, market: sol, ownerTokenAccount: bob.tokenAccount, amount: USDC, programId: h.programId });
    notPda.keys[3]!.pubkey = Keypair.generate().publicKey;
    expect(h.send([notPda], [bob.keypair]).error).toBe('InvalidPda');
  });

  it('refuses a market this program does not own', async () => {
    const { h, sol, alice } = await setup();
    const fake = Keypair.generate().publicKey;
    h.setAccount(fake, h.mustAccount(sol).data, Keypair.generate().publicKey);
    expect(h.deposit(alice, fake, USDC).error).toBe('WrongAccountOwner');
  });

  it('fails when the owner lacks the tokens (the token program refuses the transfer)', async () => {
    const { h, sol, alice } = await setup();
    const r = h.deposit(alice, sol, 1_001n * USDC);
    expect(r.ok).toBe(false);
    // SPL Token's InsufficientFunds, raised inside the CPI.
    expect(r.code).toBe(1);
    expect(h.tokenBalance(alice.tokenAccount)).toBe(1_000n * USDC);
  });

  it('refuses truncated and oversized instruction data', async () => {
    const { h, sol, alice } = await setup();
    const ix = () => depositInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount: USDC, programId: h.programId });
    const short = ix();
    short.data = short.data.subarray(0, 15);
    expect(h.send([short], [alice.keypair]).error).toBe('InstructionDataTooShort');
    const long = ix();
    long.data = Buffer.concat([long.data, Buffer.from([1])]);
    expect(h.send([long], [alice.keypair]).error).toBe('InstructionDataTooLong');
  });

  it('reports an overflow with its call site: the line of the processor that added', async () => {
    const { h, sol, alice } = await setup();
    expect(h.deposit(alice, sol, USDC).ok).toBe(true);
    const key = positionAddress(sol, alice.keypair.publicKey, h.programId);
    const position = perpCoder.accounts.decode('Position', Buffer.from(h.mustAccount(key).data));
    position.collateral = new anchor.BN(2).pow(new anchor.BN(64)).subn(1);
    h.setAccount(key, await perpCoder.accounts.encode('Position', position), h.programId);
    const r = h.deposit(alice, sol, 1n);
    expect(r.error).toBe('MathOverflow');
    expect(r.logs.some((l) => /^Program log: MathOverflow at src\/processor\/deposit\.rs:\d+$/.test(l)), r.logs.join('\n')).toBe(true);
    expect(h.tokenBalance(alice.tokenAccount)).toBe(999n * USDC);
  });
});
