// Dispatch and decoding, common to every instruction.
import { beforeAll, describe, expect, it } from 'vitest';
import anchor from '@coral-xyz/anchor';
import { TransactionInstruction } from '@solana/web3.js';
import { QUANTDESK_PERP_IDL, depositInstruction, perpCoder } from '../../client/quantdesk-perp.ts';
import { PerpHarness, USDC, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

describe('entrypoint', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('refuses unknown discriminators and data shorter than a discriminator', async () => {
    const h = await PerpHarness.create();
    const raw = (data: number[]) => new TransactionInstruction({ programId: h.programId, keys: [], data: Buffer.from(data) });
    expect(h.send([raw([1, 2, 3, 4, 5, 6, 7, 8])], [h.payer]).error).toBe('UnknownInstruction');
    expect(h.send([raw([])], [h.payer]).error).toBe('UnknownInstruction');
    expect(h.send([raw([...perpCoder.instruction.encode('deposit', { amount: new anchor.BN(0) }).subarray(0, 7)])], [h.payer]).error).toBe('UnknownInstruction');
  });

  it('decodes every instruction exactly: one byte short or one byte long is refused', async () => {
    const h = await PerpHarness.create();
    const { BN } = anchor;
    const key = h.payer.publicKey;
    const params = {
      expo_min: -8,
      expo_max: 0,
      max_future_skew_sec: 5,
      max_age_display_sec: 60,
      max_age_push_sec: 30,
      max_age_margin_sec: 20,
      max_age_liquidation_sec: 10,
      max_conf_push_bps: 100,
      max_conf_margin_bps: 75,
      max_conf_liquidation_bps: 50,
      initial_margin_bps: 1000,
      maintenance_margin_bps: 500,
      liquidation_fee_bps: 100,
      sanity_band_bps: 1000,
      ema_band_bps: 2000,
      liquidation_buffer_bps: 200,
      insurance_fee_share_bps: 2500,
      min_position_notional: new BN(10_000_000),
      permissionless_liquidation: true,
      permissionless_after_slots: new BN(150),
    };
    const args: Record<string, Record<string, unknown>> = {
      initialize: { oracle_authority: key, pyth_receiver: key, max_keeper_fee_bps: 100 },
      create_market: { symbol: new Array(16).fill(65), feed_id: new Array(32).fill(1), params },
      update_oracle_price: { updates: [{ price: new BN(1), conf: new BN(0), expo: -8, publish_time: new BN(1) }] },
      deposit: { amount: new BN(1) },
      withdraw: { amount: new BN(1) },
      open_position: { size: new BN(-1) },
      close_position: {},
      liquidate: {},
      set_market_oracle: { oracle: key },
      initialize_keeper_network: { min_keeper_stake: new BN(1), keeper_cooldown_slots: new BN(2) },
      register_keeper: { stake: new BN(1) },
      deregister_keeper: {},
      withdraw_keeper_stake: {},
    };
    // Every instruction of the IDL is exercised.
    expect(Object.keys(args).sort()).toEqual(QUANTDESK_PERP_IDL.instructions.map((i) => i.name).sort());
    for (const [name, a] of Object.entries(args)) {
      const data = perpCoder.instruction.encode(name, a);
      const send = (d: Buffer) => h.send([new TransactionInstruction({ programId: h.programId, keys: [], data: d })], [h.payer]).error;
      // Arguments are decoded before any account is looked at, so no accounts are needed here.
      expect(send(data.subarray(0, data.length - 1)), name).toBe(data.length === 8 ? 'UnknownInstruction' : 'InstructionDataTooShort');
      expect(send(Buffer.concat([data, Buffer.from([0])])), name).toBe('InstructionDataTooLong');
      expect(send(data), name).toBe('NotEnoughAccounts');
    }
  });

  it('refuses too few accounts', async () => {
    const h = await PerpHarness.create();
    const sol = h.createMarket();
    const t = h.trader(10n);
    const ix = depositInstruction({ owner: t.keypair.publicKey, market: sol, ownerTokenAccount: t.tokenAccount, amount: USDC, programId: h.programId });
    ix.keys = ix.keys.slice(0, 5);
    expect(h.send([ix], [t.keypair]).error).toBe('NotEnoughAccounts');
  });

  it('refuses a bool that is neither 0 nor 1', async () => {
    const h = await PerpHarness.create();
    const { BN } = anchor;
    const ix = perpCoder.instruction.encode('create_market', {
      symbol: new Array(16).fill(65),
      feed_id: new Array(32).fill(1),
      params: {
        expo_min: -8, expo_max: 0, max_future_skew_sec: 5, max_age_display_sec: 60, max_age_push_sec: 30, max_age_margin_sec: 20,
        max_age_liquidation_sec: 10, max_conf_push_bps: 100, max_conf_margin_bps: 75, max_conf_liquidation_bps: 50,
        initial_margin_bps: 1000, maintenance_margin_bps: 500, liquidation_fee_bps: 100, sanity_band_bps: 1000, ema_band_bps: 2000,
        liquidation_buffer_bps: 200, insurance_fee_share_bps: 2500, min_position_notional: new BN(1), permissionless_liquidation: true,
        permissionless_after_slots: new BN(1),
      },
    });
    // The bool sits just before the last u64.
    ix[ix.length - 9] = 2;
    expect(h.send([new TransactionInstruction({ programId: h.programId, keys: [], data: ix })], [h.payer]).error).toBe('InvalidArgument');
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
