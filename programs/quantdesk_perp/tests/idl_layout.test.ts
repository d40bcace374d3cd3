// The IDL and the Rust layouts agree: accounts the program wrote decode with the IDL's coder to the
// values each field was given (all distinct, so a shifted or swapped field shows), and re-encode to
// the same bytes.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PublicKey } from '@solana/web3.js';
import {
  ACCOUNT_SIZE,
  QUANTDESK_PERP_IDL,
  configAddress,
  deregisterKeeperInstruction,
  insuranceFundAddress,
  keeperAddress,
  keeperStakeVaultAddress,
  openPositionInstruction,
  perpCoder,
  positionAddress,
  vaultAddress,
  type MarketParams,
} from '../../client/quantdesk-perp.ts';
import { BTC_FEED, KEEPER_COOLDOWN_SLOTS, MIN_KEEPER_STAKE, PerpHarness, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

const sha8 = (s: string) => [...createHash('sha256').update(s).digest().subarray(0, 8)];

/** Re-encodes what the coder decoded and compares with the bytes on chain. */
async function roundTrips(name: 'Config' | 'Market' | 'Position' | 'Keeper', data: Uint8Array) {
  const decoded = perpCoder.accounts.decode(name, Buffer.from(data));
  const encoded = await perpCoder.accounts.encode(name, decoded);
  expect(Buffer.from(encoded).equals(Buffer.from(data)), name).toBe(true);
}

describe('IDL ↔ Rust layouts', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('states Anchor discriminators, and the program writes them', async () => {
    const h = await PerpHarness.create();
    for (const a of QUANTDESK_PERP_IDL.accounts ?? []) expect(a.discriminator, a.name).toEqual(sha8(`account:${a.name}`));
    for (const ix of QUANTDESK_PERP_IDL.instructions) expect(ix.discriminator, ix.name).toEqual(sha8(`global:${ix.name}`));
    expect([...h.mustAccount(configAddress(h.programId)).data.subarray(0, 8)]).toEqual(sha8('account:Config'));
  });

  it('decodes the config field by field', async () => {
    const h = await PerpHarness.create({ maxKeeperFeeBps: 1234 });
    const data = h.mustAccount(configAddress(h.programId)).data;
    expect(data.length).toBe(ACCOUNT_SIZE.Config);
    const c = h.config();
    expect([c.admin, c.oracleAuthority, c.pythReceiver, c.mint, c.vault].map((k) => k.toBase58())).toEqual(
      [h.admin.publicKey, h.oracle.publicKey, h.pythReceiver, h.mint.publicKey, vaultAddress(h.programId)].map((k) => k.toBase58()),
    );
    expect([c.insuranceFund, c.keeperStakeVault].map((k) => k!.toBase58())).toEqual([insuranceFundAddress(h.programId), keeperStakeVaultAddress(h.programId)].map((k) => k.toBase58()));
    expect([c.minKeeperStake, c.keeperCooldownSlots]).toEqual([MIN_KEEPER_STAKE, KEEPER_COOLDOWN_SLOTS]);
    const bump = (seed: string) => PublicKey.findProgramAddressSync([Buffer.from(seed)], h.programId)[1];
    expect([c.maxKeeperFeeBps, c.bump, c.vaultBump, c.insuranceFundBump, c.keeperStakeVaultBump]).toEqual([
      1234,
      bump('config'),
      bump('vault'),
      bump('insurance_fund'),
      bump('keeper_stake'),
    ]);
    await roundTrips('Config', data);
  });

  it('decodes a market field by field', async () => {
    const h = await PerpHarness.create({ maxKeeperFeeBps: 1234 });
    const params: MarketParams = {
      expoMin: -17,
      expoMax: -3,
      maxFutureSkewSec: 7,
      maxAgeDisplaySec: 59,
      maxAgePushSec: 29,
      maxAgeMarginSec: 19,
      maxAgeLiquidationSec: 9,
      maxConfPushBps: 99,
      maxConfMarginBps: 74,
      maxConfLiquidationBps: 49,
      initialMarginBps: 1111,
      maintenanceMarginBps: 555,
      liquidationFeeBps: 77,
      sanityBandBps: 1111,
      emaBandBps: 2222,
      liquidationBufferBps: 333,
      insuranceFeeShareBps: 4444,
      minPositionNotional: 5_555_555n,
      permissionlessLiquidation: true,
      permissionlessAfterSlots: 66n,
    };
    const key = h.createMarket('XYZ-PERP', BTC_FEED, params);
    const oracle = h.pinOracle(key, BTC_FEED);
    h.advance(3);
    h.mustPush(key, { price: 123_456_789n, conf: 12_345n, expo: -7, publishTime: h.now - 2n });
    // An open with the pinned account (newer, at another exponent) records it as the last used.
    const t = h.trader(1_000n);
    expect(h.deposit(t, key, 100n * 1_000_000n).ok).toBe(true);
    h.writePythUpdate({ feedId: BTC_FEED, price: 1_234_567_901n, conf: 0n, exponent: -8, publishTime: h.now - 1n });
    h.mustSend([openPositionInstruction({ owner: t.keypair.publicKey, market: key, size: 1_000_000n, priceUpdate: oracle, programId: h.programId })], [t.keypair]);
    const data = h.mustAccount(key).data;
    expect(data.length).toBe(ACCOUNT_SIZE.Market);
    const m = h.market(key);
    expect(m).toEqual({
      symbol: 'XYZ-PERP',
      feedId: BTC_FEED,
      oracle,
      price: 123_456_789n,
      conf: 12_345n,
      expo: -7,
      publishTime: h.now - 2n,
      priceSlot: h.slot,
      lastUsedPrice: 1_234_567_901n,
      lastUsedExpo: -8,
      lastUsedPublishTime: h.now - 1n,
      badDebt: 0n,
      insuranceCovered: 0n,
      params,
      bump: PublicKey.findProgramAddressSync([Buffer.from('market'), Buffer.from('XYZ-PERP')], h.programId)[1],
    });
    await roundTrips('Market', data);
  });

  it('decodes a position field by field', async () => {
    const h = await PerpHarness.create();
    const key = h.createMarket('XYZ-PERP', BTC_FEED);
    h.mustPush(key, { price: 98_765_432_123n, conf: 0n, expo: -9, publishTime: h.now - 1n });
    const t = h.trader(1_000n);
    h.advance(1);
    expect(h.deposit(t, key, 123_456_789n).ok).toBe(true);
    h.mustSend([openPositionInstruction({ owner: t.keypair.publicKey, market: key, size: -987_654_321n, programId: h.programId })], [t.keypair]);
    const address = positionAddress(key, t.keypair.publicKey, h.programId);
    const data = h.mustAccount(address).data;
    expect(data.length).toBe(ACCOUNT_SIZE.Position);
    const p = h.position(key, t.keypair.publicKey);
    expect(p.owner.equals(t.keypair.publicKey) && p.market.equals(key)).toBe(true);
    expect([p.collateral, p.size, p.entryPrice, p.openSlot, p.liquidatableSinceSlot, p.lastLiquidationSlot, p.bump]).toEqual([
      123_456_789n,
      -987_654_321n,
      98_765_432_123n,
      h.slot,
      0n,
      0n,
      PublicKey.findProgramAddressSync([Buffer.from('position'), key.toBuffer(), t.keypair.publicKey.toBuffer()], h.programId)[1],
    ]);
    expect(h.tokenBalance(vaultAddress(h.programId))).toBe(123_456_789n);
    await roundTrips('Position', data);
  });

  it('decodes a keeper field by field', async () => {
    const h = await PerpHarness.create();
    const registered = h.slot;
    const k = h.keeper(123_456_789n);
    h.advance(4);
    h.mustSend([deregisterKeeperInstruction({ authority: k.keypair.publicKey, programId: h.programId })], [k.keypair]);
    const data = h.mustAccount(keeperAddress(k.keypair.publicKey, h.programId)).data;
    expect(data.length).toBe(ACCOUNT_SIZE.Keeper);
    expect(h.keeperAccount(k.keypair.publicKey)).toEqual({
      authority: k.keypair.publicKey,
      stake: 123_456_789n,
      registeredSlot: registered,
      deregisteredSlot: h.slot,
      liquidations: 0n,
      volumeLiquidated: 0n,
      rewardsEarned: 0n,
      lastActiveSlot: 0n,
      status: 'deregistering',
      bump: PublicKey.findProgramAddressSync([Buffer.from('keeper'), k.keypair.publicKey.toBuffer()], h.programId)[1],
    });
    await roundTrips('Keeper', data);
  });

  it('states the events with Anchor discriminators', () => {
    expect(QUANTDESK_PERP_IDL.events?.map((e) => [e.name, e.discriminator])).toEqual([
      ['LiquidationEvent', sha8('event:LiquidationEvent')],
      ['LiquidationDeferred', sha8('event:LiquidationDeferred')],
    ]);
  });

  it('lists dense error codes from 6000, as the program returns them', () => {
    const errors = QUANTDESK_PERP_IDL.errors ?? [];
    expect(errors.map((e) => e.code)).toEqual(errors.map((_, i) => 6000 + i));
    expect(new Set(errors.map((e) => e.name)).size).toBe(errors.length);
  });
});
