import { beforeAll, describe, expect, it } from 'vitest';
import { Keypair, type PublicKey } from '@solana/web3.js';
import { liquidateInstruction, positionAddress, vaultAddress } from '../../client/quantdesk-perp.ts';
import { BASE, BTC_FEED, PerpHarness, USDC, logged, price, type Trader, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

/** Long 10 SOL at $150 with $150 of collateral, as in margin.json's "long SOL just above maintenance". */
async function setup(opts: { pinOracle?: boolean } = {}) {
  const h = await PerpHarness.create();
  const sol = h.createMarket();
  h.mustPush(sol, price({ price: 15_000_000_000n, conf: 0n }, h.now));
  const alice = h.trader(1_000n);
  expect(h.openWith(alice, sol, 150n * USDC, 10n * BASE).ok).toBe(true);
  // Pinned after the open (which used the pushed price), for the tests that pass a Pyth account.
  if (opts.pinOracle) h.pinOracle(sol);
  const keeper = h.trader(0n);
  const liquidate = (opts: { market?: PublicKey; owner?: Trader; priceUpdate?: PublicKey } = {}) =>
    h.send(
      [
        liquidateInstruction({
          keeper: keeper.keypair.publicKey,
          market: opts.market ?? sol,
          owner: (opts.owner ?? alice).keypair.publicKey,
          keeperTokenAccount: keeper.tokenAccount,
          priceUpdate: opts.priceUpdate,
          programId: h.programId,
        }),
      ],
      [keeper.keypair],
    );
  const moveTo = (p: bigint, conf = 0n) => {
    h.advance(2);
    h.mustPush(sol, price({ price: p, conf, ageSec: 0 }, h.now));
  };
  return { h, sol, alice, keeper, liquidate, moveTo };
}

describe('liquidate', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('refuses a healthy position, even one a cent above maintenance', async () => {
    const { liquidate, moveTo } = await setup();
    expect(liquidate().error).toBe('PositionHealthy');
    moveTo(14_211_000_000n);
    expect(liquidate().error).toBe('PositionHealthy');
  });

  it('closes a position below maintenance, pays the keeper 1 % of notional and leaves the rest', async () => {
    const { h, sol, alice, keeper, liquidate, moveTo } = await setup();
    moveTo(14_210_000_000n);
    const vaultBefore = h.tokenBalance(vaultAddress(h.programId));
    const r = liquidate();
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pushed')).toBe(true);
    // margin.json "long SOL liquidatable": PnL −79, fee 14.21, 56.79 to the owner.
    expect(h.tokenBalance(keeper.tokenAccount)).toBe(14_210_000n);
    expect(h.tokenBalance(vaultAddress(h.programId))).toBe(vaultBefore - 14_210_000n);
    const p = h.position(sol, alice.keypair.publicKey);
    expect([p.size, p.entryPrice, p.collateral]).toEqual([0n, 0n, 56_790_000n]);
  });

  it('fails a second liquidation of the same position with its own code', async () => {
    const { liquidate, moveTo } = await setup();
    moveTo(14_000_000_000n);
    expect(liquidate().ok).toBe(true);
    expect(liquidate().error).toBe('PositionNotOpen');
  });

  it('pays no fee when the loss took all the collateral', async () => {
    const { h, sol, alice, keeper, liquidate, moveTo } = await setup();
    moveTo(13_000_000_000n);
    expect(liquidate().ok).toBe(true);
    expect(h.tokenBalance(keeper.tokenAccount)).toBe(0n);
    expect(h.position(sol, alice.keypair.publicKey).collateral).toBe(0n);
  });

  it('re-checks with the liquidation bounds: 10 s and 50 bps', async () => {
    const { h, liquidate, moveTo } = await setup({ pinOracle: true });
    const stalePyth = h.writePythUpdate({ price: 15_000_000_000n, conf: 0n, publishTime: h.now - 30n });
    moveTo(14_000_000_000n, 70_000_001n);
    expect(liquidate({ priceUpdate: stalePyth }).error).toBe('ConfidenceTooWide');
    moveTo(14_000_000_000n);
    h.advance(11);
    expect(liquidate({ priceUpdate: stalePyth }).error).toBe('PriceStale');
    const pyth = h.writePythUpdate({ price: 14_000_000_000n, conf: 0n });
    expect(liquidate({ priceUpdate: pyth }).ok).toBe(true);
  });

  it('uses the pinned Pyth price when it is newer than the pushed one', async () => {
    const { h, liquidate } = await setup({ pinOracle: true });
    // The pushed price ($150) says healthy; Pyth's fresh $140 says liquidatable.
    const pyth = h.writePythUpdate({ price: 14_000_000_000n, conf: 0n });
    const r = liquidate({ priceUpdate: pyth });
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pyth')).toBe(true);
  });

  it('refuses a position of another market, and one this program does not own', async () => {
    const { h, sol, alice, liquidate, moveTo } = await setup();
    moveTo(14_000_000_000n);
    const btc = h.createMarket('BTC-PERP', BTC_FEED);
    h.mustPush(btc, price({ price: 9_500_000_000_000n, conf: 0n }, h.now));
    const r = h.send(
      [
        (() => {
          const ix = liquidateInstruction({ keeper: h.payer.publicKey, market: btc, owner: alice.keypair.publicKey, keeperTokenAccount: alice.tokenAccount, programId: h.programId });
          ix.keys[3]!.pubkey = positionAddress(sol, alice.keypair.publicKey, h.programId);
          return ix;
        })(),
      ],
      [h.payer],
    );
    expect(r.error).toBe('WrongMarket');
    const forged = Keypair.generate().publicKey;
    h.setAccount(forged, h.mustAccount(positionAddress(sol, alice.keypair.publicKey, h.programId)).data, Keypair.generate().publicKey);
    const ix = liquidateInstruction({ keeper: h.payer.publicKey, market: sol, owner: alice.keypair.publicKey, keeperTokenAccount: alice.tokenAccount, programId: h.programId });
    ix.keys[3]!.pubkey = forged;
    expect(h.send([ix], [h.payer]).error).toBe('WrongAccountOwner');
    expect(liquidate().ok).toBe(true);
  });

  it('requires the keeper to sign, and the config\'s vault', async () => {
    const { h, alice, keeper, sol, moveTo } = await setup();
    moveTo(14_000_000_000n);
    const unsigned = liquidateInstruction({ keeper: keeper.keypair.publicKey, market: sol, owner: alice.keypair.publicKey, keeperTokenAccount: keeper.tokenAccount, programId: h.programId });
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
    const wrongVault = liquidateInstruction({ keeper: keeper.keypair.publicKey, market: sol, owner: alice.keypair.publicKey, keeperTokenAccount: keeper.tokenAccount, programId: h.programId });
    wrongVault.keys[5]!.pubkey = h.createTokenAccount(keeper.keypair.publicKey, 100n * USDC);
    expect(h.send([wrongVault], [keeper.keypair]).error).toBe('WrongVault');
  });

  it('refuses instruction data beyond the discriminator', async () => {
    const { h, sol, alice, keeper, moveTo } = await setup();
    moveTo(14_000_000_000n);
    const ix = liquidateInstruction({ keeper: keeper.keypair.publicKey, market: sol, owner: alice.keypair.publicKey, keeperTokenAccount: keeper.tokenAccount, programId: h.programId });
    ix.data = Buffer.concat([ix.data, Buffer.from([1])]);
    expect(h.send([ix], [keeper.keypair]).error).toBe('InstructionDataTooLong');
  });
});
