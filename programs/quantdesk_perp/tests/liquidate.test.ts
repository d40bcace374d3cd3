// liquidate: partial and full liquidation against tests/vectors/liquidation.json, the fee split
// between the keeper and the insurance fund, the fund covering losses beyond collateral and bad
// debt beyond it, who may liquidate (registered keepers; anyone after the permissionless delay),
// the structured event, and every check of its accounts.
import { beforeAll, describe, expect, it } from 'vitest';
import { Keypair, type PublicKey } from '@solana/web3.js';
import {
  deregisterKeeperInstruction,
  insuranceFundAddress,
  keeperAddress,
  liquidateInstruction,
  parsePerpEvents,
  positionAddress,
  vaultAddress,
  withdrawKeeperStakeInstruction,
  type LiquidationDeferred,
  type LiquidationEvent,
} from '../../client/quantdesk-perp.ts';
import vectors from '../../../tests/vectors/liquidation.json' with { type: 'json' };
import { BASE, BTC_FEED, KEEPER_COOLDOWN_SLOTS, MAJOR_PARAMS, PerpHarness, USDC, logged, price, type Trader, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

const vector = (name: string) => {
  const c = vectors.cases.find((x) => x.name === name);
  if (!c || !c.expect.liquidatable) throw new Error(`no liquidatable vector ${name}`);
  return c.expect as Record<string, string | boolean>;
};

/** Long 10 SOL at $150 with `collateral` (default $150), a registered keeper, $1,000 in the insurance fund. */
async function setup(opts: { collateral?: bigint; size?: bigint; fund?: bigint; params?: typeof MAJOR_PARAMS } = {}) {
  const h = await PerpHarness.create();
  const sol = h.createMarket('SOL-PERP', undefined, opts.params ?? MAJOR_PARAMS);
  h.mustPush(sol, price({ price: 15_000_000_000n, conf: 0n }, h.now));
  const alice = h.trader(1_000n);
  expect(h.openWith(alice, sol, opts.collateral ?? 150n * USDC, opts.size ?? 10n * BASE).ok).toBe(true);
  h.fundInsurance(opts.fund ?? 1_000n * USDC);
  const keeper = h.keeper();
  const liquidateIx = (opts: { by?: Trader; market?: PublicKey; owner?: Trader; priceUpdate?: PublicKey } = {}) =>
    liquidateInstruction({
      keeper: (opts.by ?? keeper).keypair.publicKey,
      market: opts.market ?? sol,
      owner: (opts.owner ?? alice).keypair.publicKey,
      keeperTokenAccount: (opts.by ?? keeper).tokenAccount,
      priceUpdate: opts.priceUpdate,
      programId: h.programId,
    });
  const liquidate = (opts: Parameters<typeof liquidateIx>[0] = {}) => h.send([liquidateIx(opts)], [(opts.by ?? keeper).keypair]);
  const moveTo = (p: bigint, conf = 0n) => {
    h.advance(2);
    h.mustPush(sol, price({ price: p, conf, ageSec: 0 }, h.now));
  };
  const balances = () => ({
    keeper: h.tokenBalance(keeper.tokenAccount),
    vault: h.tokenBalance(vaultAddress(h.programId)),
    fund: h.tokenBalance(insuranceFundAddress(h.programId)),
  });
  return { h, sol, alice, keeper, liquidate, liquidateIx, moveTo, balances };
}

function liquidationEvent(logs: string[]): LiquidationEvent {
  const events = parsePerpEvents(logs).filter((e) => e.name === 'LiquidationEvent');
  expect(events).toHaveLength(1);
  return events[0]!.data as LiquidationEvent;
}

describe('liquidate', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('refuses a healthy position, even one a cent above maintenance', async () => {
    const { liquidate, moveTo } = await setup();
    expect(liquidate().error).toBe('PositionHealthy');
    moveTo(14_211_000_000n);
    expect(liquidate().error).toBe('PositionHealthy');
  });

  it('liquidates just enough to restore maintenance + buffer, splits the fee, updates the keeper and logs the event', async () => {
    const { h, sol, alice, keeper, liquidate, moveTo, balances } = await setup();
    moveTo(14_210_000_000n);
    const before = balances();
    const r = liquidate();
    expect(r.ok, r.logs.join('\n')).toBe(true);
    const v = vector('long SOL just below maintenance: partial');
    expect(v.full).toBe(false);
    const after = balances();
    expect(after.keeper - before.keeper).toBe(BigInt(v.keeperFee as string));
    expect(after.fund - before.fund).toBe(BigInt(v.insuranceFee as string));
    expect(before.vault - after.vault).toBe(BigInt(v.fee as string));
    const p = h.position(sol, alice.keypair.publicKey);
    expect([p.size, p.entryPrice, p.collateral, p.lastLiquidationSlot]).toEqual([BigInt(v.remainingSize as string), 150n * 1_000_000_000n, BigInt(v.remainingCollateral as string), h.slot]);
    const k = h.keeperAccount(keeper.keypair.publicKey);
    expect([k.liquidations, k.volumeLiquidated, k.rewardsEarned, k.lastActiveSlot]).toEqual([1n, BigInt(v.notionalLiquidated as string), BigInt(v.keeperFee as string), h.slot]);
    expect(liquidationEvent(r.logs)).toEqual({
      market: sol,
      position: positionAddress(sol, alice.keypair.publicKey, h.programId),
      owner: alice.keypair.publicKey,
      keeper: keeper.keypair.publicKey,
      registeredKeeper: true,
      full: false,
      sizeLiquidated: BigInt(v.sizeLiquidated as string),
      remainingSize: BigInt(v.remainingSize as string),
      price: 142_100_000_000n,
      publishTime: h.now,
      priceSource: 'pushed',
      notionalLiquidated: BigInt(v.notionalLiquidated as string),
      realizedPnl: BigInt(v.realizedPnl as string),
      keeperFee: BigInt(v.keeperFee as string),
      insuranceFee: BigInt(v.insuranceFee as string),
      insuranceCover: 0n,
      badDebt: 0n,
      remainingCollateral: BigInt(v.remainingCollateral as string),
      slot: h.slot,
    });
    // The remainder is healthy again.
    expect(liquidate().error).toBe('PositionHealthy');
  });

  it('liquidates all of it when the remainder would be under the minimum notional', async () => {
    const { h, sol, alice, liquidate, moveTo } = await setup({ collateral: 1_500_000n, size: BASE / 10n });
    moveTo(14_200_000_000n);
    const v = vector('small long: remainder under the minimum notional, full');
    const r = liquidate();
    expect(r.ok).toBe(true);
    expect(liquidationEvent(r.logs)).toMatchObject({ full: true, keeperFee: BigInt(v.keeperFee as string), insuranceFee: BigInt(v.insuranceFee as string) });
    const p = h.position(sol, alice.keypair.publicKey);
    expect([p.size, p.entryPrice, p.collateral]).toEqual([0n, 0n, BigInt(v.remainingCollateral as string)]);
    expect(liquidate().error).toBe('PositionNotOpen');
  });

  it('takes a loss beyond collateral from the insurance fund, and counts the rest as the market\'s bad debt', async () => {
    for (const [fund, name] of [
      [1_000_000n * USDC, 'long SOL under water: full, the insurance fund covers the loss'],
      [100n * USDC, 'long SOL under water, small fund: bad debt beyond it'],
      [0n, 'long SOL under water, empty fund: all bad debt'],
    ] as const) {
      const { h, sol, liquidate, moveTo, balances } = await setup({ fund });
      moveTo(12_000_000_000n);
      const v = vector(name);
      const before = balances();
      const r = liquidate();
      expect(r.ok, name).toBe(true);
      const after = balances();
      expect([before.fund - after.fund, after.vault - before.vault, after.keeper - before.keeper], name).toEqual([BigInt(v.insuranceCover as string), BigInt(v.insuranceCover as string), 0n]);
      const m = h.market(sol);
      expect([m.insuranceCovered, m.badDebt], name).toEqual([BigInt(v.insuranceCover as string), BigInt(v.badDebt as string)]);
      expect(liquidationEvent(r.logs), name).toMatchObject({ full: true, insuranceCover: BigInt(v.insuranceCover as string), badDebt: BigInt(v.badDebt as string) });
    }
  });

  it('re-checks with the liquidation bounds: 10 s and 50 bps', async () => {
    const { h, liquidate, moveTo } = await setup();
    moveTo(14_000_000_000n, 70_000_001n);
    expect(liquidate().error).toBe('ConfidenceTooWide');
    moveTo(14_000_000_000n);
    h.advance(11);
    expect(liquidate().error).toBe('PriceStale');
  });

  it('uses the pinned Pyth price when it is newer than the pushed one', async () => {
    const { h, sol, liquidate } = await setup();
    h.pinOracle(sol);
    // The pushed price ($150) says healthy; Pyth's fresh $140 (6.7 % down, within the band) says liquidatable.
    const pyth = h.writePythUpdate({ price: 14_000_000_000n, conf: 0n, publishTime: h.now });
    const r = liquidate({ priceUpdate: pyth });
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pyth')).toBe(true);
    expect(liquidationEvent(r.logs)).toMatchObject({ priceSource: 'pyth', price: 140n * 1_000_000_000n, publishTime: h.now });
  });
});

describe('liquidate: who may', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('lets anyone liquidate only permissionlessAfterSlots after an attempt first saw the position liquidatable', async () => {
    const { h, sol, alice, liquidate, moveTo } = await setup();
    const stranger = h.trader(0n);
    moveTo(14_210_000_000n);
    const first = liquidate({ by: stranger });
    expect(first.ok, first.logs.join('\n')).toBe(true);
    expect(logged(first.logs, 'liquidation deferred to registered keepers')).toBe(true);
    const seen = h.slot;
    const deferred = parsePerpEvents(first.logs);
    expect(deferred).toEqual([
      {
        name: 'LiquidationDeferred',
        data: {
          market: sol,
          position: positionAddress(sol, alice.keypair.publicKey, h.programId),
          liquidator: stranger.keypair.publicKey,
          price: 142_100_000_000n,
          publishTime: h.now,
          seenSlot: seen,
          eligibleSlot: seen + 150n,
        } satisfies LiquidationDeferred,
      },
    ]);
    let p = h.position(sol, alice.keypair.publicKey);
    expect([p.size, p.liquidatableSinceSlot]).toEqual([10n * BASE, seen]);
    moveTo(14_210_000_000n);
    expect(liquidate({ by: stranger }).error).toBe('PermissionlessTooEarly');
    h.setTime(h.now + 60n, seen + 150n);
    h.mustPush(sol, price({ price: 14_210_000_000n, conf: 0n, ageSec: 0 }, h.now));
    const r = liquidate({ by: stranger });
    expect(r.ok, r.logs.join('\n')).toBe(true);
    const e = liquidationEvent(r.logs);
    expect([e.registeredKeeper, e.keeper.toBase58()]).toEqual([false, stranger.keypair.publicKey.toBase58()]);
    expect(h.tokenBalance(stranger.tokenAccount)).toBe(e.keeperFee);
    p = h.position(sol, alice.keypair.publicKey);
    expect(p.liquidatableSinceSlot).toBe(0n);
  });

  it('lets a registered keeper liquidate at once, and its liquidation restarts the permissionless clock', async () => {
    const { h, sol, alice, liquidate, moveTo } = await setup();
    const stranger = h.trader(0n);
    moveTo(14_210_000_000n);
    expect(liquidate({ by: stranger }).ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).liquidatableSinceSlot).toBeGreaterThan(0n);
    expect(liquidate().ok).toBe(true);
    expect(h.position(sol, alice.keypair.publicKey).liquidatableSinceSlot).toBe(0n);
  });

  it('refuses anyone but a registered keeper where the market allows no permissionless liquidation', async () => {
    const { liquidate, moveTo, h } = await setup({ params: { ...MAJOR_PARAMS, permissionlessLiquidation: false } });
    moveTo(14_000_000_000n);
    expect(liquidate({ by: h.trader(0n) }).error).toBe('KeeperNotRegistered');
    expect(liquidate().ok).toBe(true);
  });

  it('refuses a deregistering keeper; once its stake is withdrawn it is anyone', async () => {
    const { h, sol, alice, keeper, liquidate, moveTo } = await setup({ params: { ...MAJOR_PARAMS, permissionlessLiquidation: false } });
    h.mustSend([deregisterKeeperInstruction({ authority: keeper.keypair.publicKey, programId: h.programId })], [keeper.keypair]);
    moveTo(14_000_000_000n);
    expect(liquidate().error).toBe('KeeperDeregistering');
    h.setTime(h.now + 30n, h.slot + KEEPER_COOLDOWN_SLOTS);
    h.mustSend([withdrawKeeperStakeInstruction({ authority: keeper.keypair.publicKey, authorityTokenAccount: keeper.tokenAccount, programId: h.programId })], [keeper.keypair]);
    h.mustPush(sol, price({ price: 14_000_000_000n, conf: 0n, ageSec: 0 }, h.now));
    expect(liquidate().error).toBe('KeeperNotRegistered');
    expect(h.position(sol, alice.keypair.publicKey).size).toBe(10n * BASE);
  });

  it('refuses another authority\'s keeper account', async () => {
    const { h, keeper, liquidateIx, moveTo } = await setup();
    moveTo(14_000_000_000n);
    const other = h.keeper();
    const ix = liquidateIx({ by: other });
    ix.keys[4]!.pubkey = keeperAddress(keeper.keypair.publicKey, h.programId);
    expect(h.send([ix], [other.keypair]).error).toBe('WrongKeeper');
  });
});

describe('liquidate: accounts', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('requires the keeper to sign, and market, position and keeper account writable', async () => {
    const { h, keeper, liquidateIx, moveTo } = await setup();
    moveTo(14_000_000_000n);
    const unsigned = liquidateIx();
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
    for (const index of [2, 3, 4]) {
      const ix = liquidateIx();
      ix.keys[index]!.isWritable = false;
      expect(h.send([ix], [keeper.keypair]).error, `account ${index}`).toBe('AccountNotWritable');
    }
  });

  it('refuses a vault or insurance fund that is not the config\'s, and the wrong token program', async () => {
    const { h, keeper, liquidateIx, moveTo } = await setup();
    moveTo(14_000_000_000n);
    const wrongVault = liquidateIx();
    wrongVault.keys[6]!.pubkey = h.createTokenAccount(keeper.keypair.publicKey, 100n * USDC);
    expect(h.send([wrongVault], [keeper.keypair]).error).toBe('WrongVault');
    const wrongFund = liquidateIx();
    wrongFund.keys[7]!.pubkey = h.createTokenAccount(keeper.keypair.publicKey, 100n * USDC);
    expect(h.send([wrongFund], [keeper.keypair]).error).toBe('WrongInsuranceFund');
    const wrongProgram = liquidateIx();
    wrongProgram.keys[8]!.pubkey = Keypair.generate().publicKey;
    expect(h.send([wrongProgram], [keeper.keypair]).error).toBe('WrongProgramAccount');
  });

  it('refuses a position of another market, and one this program does not own', async () => {
    const { h, sol, alice, keeper, liquidate, liquidateIx, moveTo } = await setup();
    moveTo(14_000_000_000n);
    const btc = h.createMarket('BTC-PERP', BTC_FEED);
    h.mustPush(btc, price({ price: 9_500_000_000_000n, conf: 0n }, h.now));
    const ix = liquidateIx({ market: btc });
    ix.keys[3]!.pubkey = positionAddress(sol, alice.keypair.publicKey, h.programId);
    expect(h.send([ix], [keeper.keypair]).error).toBe('WrongMarket');
    const forged = Keypair.generate().publicKey;
    h.setAccount(forged, h.mustAccount(positionAddress(sol, alice.keypair.publicKey, h.programId)).data, Keypair.generate().publicKey);
    const forgedIx = liquidateIx();
    forgedIx.keys[3]!.pubkey = forged;
    expect(h.send([forgedIx], [keeper.keypair]).error).toBe('WrongAccountOwner');
    expect(liquidate().ok).toBe(true);
  });

  it('needs the keeper network', async () => {
    const h = await PerpHarness.create({ keeperNetwork: false });
    const sol = h.createMarket();
    h.mustPush(sol, price({ price: 15_000_000_000n, conf: 0n }, h.now));
    const alice = h.trader(1_000n);
    expect(h.openWith(alice, sol, 150n * USDC, 10n * BASE).ok).toBe(true);
    const keeper = h.trader(0n);
    const r = h.send(
      [liquidateInstruction({ keeper: keeper.keypair.publicKey, market: sol, owner: alice.keypair.publicKey, keeperTokenAccount: keeper.tokenAccount, programId: h.programId })],
      [keeper.keypair],
    );
    expect(r.error).toBe('KeeperNetworkNotInitialized');
  });

  it('refuses instruction data beyond the discriminator', async () => {
    const { h, keeper, liquidateIx, moveTo } = await setup();
    moveTo(14_000_000_000n);
    const ix = liquidateIx();
    ix.data = Buffer.concat([ix.data, Buffer.from([1])]);
    expect(h.send([ix], [keeper.keypair]).error).toBe('InstructionDataTooLong');
  });
});
