import { beforeAll, describe, expect, it } from 'vitest';
import { withdrawInstruction, positionAddress, vaultAddress } from '../../client/quantdesk-perp.ts';
import { BASE, PerpHarness, USDC, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

async function setup() {
  const h = await PerpHarness.create();
  const sol = h.createMarket();
  h.mustPush(sol);
  const alice = h.trader(1_000n);
  const withdraw = (amount: bigint, priceUpdate?: import('@solana/web3.js').PublicKey) =>
    h.send([withdrawInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount, priceUpdate, programId: h.programId })], [alice.keypair]);
  return { h, sol, alice, withdraw };
}

describe('withdraw', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('returns collateral from the vault when flat', async () => {
    const { h, sol, alice, withdraw } = await setup();
    h.deposit(alice, sol, 300n * USDC);
    expect(withdraw(120n * USDC).ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).collateral).toBe(180n * USDC);
    expect(h.tokenBalance(alice.tokenAccount)).toBe(820n * USDC);
    expect(h.tokenBalance(vaultAddress(h.programId))).toBe(180n * USDC);
    expect(withdraw(180n * USDC).ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).collateral).toBe(0n);
  });

  it('refuses more than the collateral, and zero', async () => {
    const { h, sol, alice, withdraw } = await setup();
    h.deposit(alice, sol, 100n * USDC);
    expect(withdraw(100n * USDC + 1n).error).toBe('InsufficientCollateral');
    expect(withdraw(0n).error).toBe('ZeroAmount');
  });

  it('keeps an open position at initial margin, exactly', async () => {
    const { h, sol, alice, withdraw } = await setup();
    // 10 SOL at $150 need $150 at 10 % initial margin.
    expect(h.openWith(alice, sol, 200n * USDC, 10n * BASE).ok).toBe(true);
    expect(withdraw(50n * USDC + 1n).error).toBe('WithdrawBelowInitialMargin');
    expect(withdraw(50n * USDC).ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).collateral).toBe(150n * USDC);
  });

  it('needs a usable price while a position is open', async () => {
    const { h, sol, alice, withdraw } = await setup();
    expect(h.openWith(alice, sol, 200n * USDC, 10n * BASE).ok).toBe(true);
    h.advance(21);
    expect(withdraw(USDC).error).toBe('PriceStale');
    h.pinOracle(sol);
    const pyth = h.writePythUpdate({ price: 15_000_000_000n });
    expect(withdraw(USDC, pyth).ok).toBe(true);
  });

  it('is for the position\'s owner only', async () => {
    const { h, sol, alice } = await setup();
    h.deposit(alice, sol, 100n * USDC);
    const mallory = h.trader(0n);
    const ix = withdrawInstruction({ owner: mallory.keypair.publicKey, market: sol, ownerTokenAccount: mallory.tokenAccount, amount: USDC, programId: h.programId });
    ix.keys[3]!.pubkey = positionAddress(sol, alice.keypair.publicKey, h.programId);
    expect(h.send([ix], [mallory.keypair]).error).toBe('Unauthorized');
    expect(h.tokenBalance(mallory.tokenAccount)).toBe(0n);
  });

  it('refuses a vault that is not the config\'s', async () => {
    const { h, sol, alice } = await setup();
    h.deposit(alice, sol, 100n * USDC);
    const ix = withdrawInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount: USDC, programId: h.programId });
    ix.keys[5]!.pubkey = h.createTokenAccount(h.admin.publicKey, 10n * USDC);
    expect(h.send([ix], [alice.keypair]).error).toBe('WrongVault');
  });

  it('refuses truncated and oversized instruction data', async () => {
    const { h, sol, alice } = await setup();
    h.deposit(alice, sol, 100n * USDC);
    const ix = () => withdrawInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount: USDC, programId: h.programId });
    const short = ix();
    short.data = short.data.subarray(0, 9);
    expect(h.send([short], [alice.keypair]).error).toBe('InstructionDataTooShort');
    const long = ix();
    long.data = Buffer.concat([long.data, Buffer.alloc(8)]);
    expect(h.send([long], [alice.keypair]).error).toBe('InstructionDataTooLong');
  });
});

