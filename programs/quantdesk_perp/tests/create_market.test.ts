import { beforeAll, describe, expect, it } from 'vitest';
import { Keypair } from '@solana/web3.js';
import { configAddress, createMarketInstruction, marketAddress, perpCoder } from '../../client/quantdesk-perp.ts';
import { BTC_FEED, MAJOR_PARAMS, PerpHarness, SOL_FEED, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

describe('create_market', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('stores the symbol, feed id and every bound, with no price yet', async () => {
    const h = await PerpHarness.create();
    const params = {
      ...MAJOR_PARAMS,
      expoMin: -12,
      expoMax: -2,
      maxFutureSkewSec: 7,
      maxAgeDisplaySec: 90,
      initialMarginBps: 2000,
      maintenanceMarginBps: 1000,
      liquidationFeeBps: 150,
      sanityBandBps: 1500,
      emaBandBps: 2500,
    };
    const key = h.createMarket('BTC-PERP', `0x${BTC_FEED}`, params);
    expect(key.equals(marketAddress('BTC-PERP', h.programId))).toBe(true);
    const m = h.market(key);
    expect(m.symbol).toBe('BTC-PERP');
    expect(m.feedId).toBe(BTC_FEED);
    expect(m.params).toEqual(params);
    expect([m.price, m.conf, m.expo, m.publishTime, m.priceSlot]).toEqual([0n, 0n, 0, 0n, 0n]);
    expect([m.oracle, m.lastUsedPrice, m.lastUsedExpo, m.lastUsedPublishTime]).toEqual([null, 0n, 0, 0n]);
    expect(m.bump).toBe(
      (await import('@solana/web3.js')).PublicKey.findProgramAddressSync([Buffer.from('market'), Buffer.from('BTC-PERP')], h.programId)[1],
    );
    expect(h.mustAccount(key).owner.equals(h.programId)).toBe(true);
  });

  it('is for the admin only, who must sign', async () => {
    const h = await PerpHarness.create();
    const intruder = Keypair.generate();
    h.airdrop(intruder.publicKey, 1_000_000_000n);
    const ix = createMarketInstruction({ admin: intruder.publicKey, symbol: 'SOL-PERP', feedId: SOL_FEED, params: MAJOR_PARAMS, programId: h.programId });
    expect(h.send([ix], [intruder]).error).toBe('Unauthorized');
    const unsigned = createMarketInstruction({ admin: h.admin.publicKey, symbol: 'SOL-PERP', feedId: SOL_FEED, params: MAJOR_PARAMS, programId: h.programId });
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
  });

  it('refuses inconsistent bounds and a fee above the config ceiling', async () => {
    const h = await PerpHarness.create({ maxKeeperFeeBps: 100 });
    const make = (params: typeof MAJOR_PARAMS) =>
      h.send([createMarketInstruction({ admin: h.admin.publicKey, symbol: 'SOL-PERP', feedId: SOL_FEED, params, programId: h.programId })], [h.admin]).error;
    expect(make({ ...MAJOR_PARAMS, maintenanceMarginBps: 1200 })).toBe('InvalidMarketParams');
    expect(make({ ...MAJOR_PARAMS, maxAgeLiquidationSec: 25 })).toBe('InvalidMarketParams');
    expect(make({ ...MAJOR_PARAMS, expoMin: -19 })).toBe('InvalidMarketParams');
    expect(make({ ...MAJOR_PARAMS, liquidationFeeBps: 101, maintenanceMarginBps: 600, initialMarginBps: 1000 })).toBe('InvalidMarketParams');
    expect(make({ ...MAJOR_PARAMS, maxAgeDisplaySec: 29 })).toBe('InvalidMarketParams');
    expect(make({ ...MAJOR_PARAMS, sanityBandBps: 10_001 })).toBe('InvalidMarketParams');
    expect(make({ ...MAJOR_PARAMS, emaBandBps: 10_001 })).toBe('InvalidMarketParams');
    expect(make(MAJOR_PARAMS)).toBeUndefined();
  });

  it('refuses a symbol that is not upper-case ASCII padded with zeros', async () => {
    const h = await PerpHarness.create();
    const ix = createMarketInstruction({ admin: h.admin.publicKey, symbol: 'SOL-PERP', feedId: SOL_FEED, params: MAJOR_PARAMS, programId: h.programId });
    const args = perpCoder.instruction.decode(ix.data)!.data as { symbol: number[] };
    const lower = [...Buffer.from('sol-perp'), ...new Array(8).fill(0)];
    ix.data = perpCoder.instruction.encode('create_market', { ...args, symbol: lower });
    expect(h.send([ix], [h.admin]).error).toBe('InvalidSymbol');
  });

  it('refuses an address that is not the symbol\'s PDA, and a second market with the same symbol', async () => {
    const h = await PerpHarness.create();
    const ix = createMarketInstruction({ admin: h.admin.publicKey, symbol: 'SOL-PERP', feedId: SOL_FEED, params: MAJOR_PARAMS, programId: h.programId });
    ix.keys[2]!.pubkey = marketAddress('ETH-PERP', h.programId);
    expect(h.send([ix], [h.admin]).error).toBe('InvalidPda');
    h.createMarket('SOL-PERP');
    const again = createMarketInstruction({ admin: h.admin.publicKey, symbol: 'SOL-PERP', feedId: SOL_FEED, params: MAJOR_PARAMS, programId: h.programId });
    expect(h.send([again], [h.admin]).error).toBe('AlreadyInitialized');
  });

  it('refuses a config copy owned by another program', async () => {
    const h = await PerpHarness.create();
    const forged = Keypair.generate().publicKey;
    h.setAccount(forged, h.mustAccount(configAddress(h.programId)).data, Keypair.generate().publicKey);
    const ix = createMarketInstruction({ admin: h.admin.publicKey, symbol: 'SOL-PERP', feedId: SOL_FEED, params: MAJOR_PARAMS, programId: h.programId });
    ix.keys[1]!.pubkey = forged;
    expect(h.send([ix], [h.admin]).error).toBe('WrongAccountOwner');
  });
});
