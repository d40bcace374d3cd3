import { beforeAll, describe, expect, it } from 'vitest';
import { Keypair } from '@solana/web3.js';
import { marketAddress, perpCoder, updateOraclePriceInstruction } from '../../client/quantdesk-perp.ts';
import { BTC_FEED, ETH_FEED, MAJOR_PARAMS, PerpHarness, price, BUILD_TIMEOUT_MS, loadProgram } from './harness.ts';

async function withMarket() {
  const h = await PerpHarness.create();
  return { h, sol: h.createMarket() };
}

describe('update_oracle_price', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('stores the price, its confidence, exponent, publish time and the slot', async () => {
    const { h, sol } = await withMarket();
    const p = price({ price: 15_012_345_678n, conf: 2_000_000n, expo: -8, ageSec: 3 }, h.now);
    h.mustPush(sol, p);
    const m = h.market(sol);
    expect([m.price, m.conf, m.expo, m.publishTime, m.priceSlot]).toEqual([p.price, p.conf, p.expo, p.publishTime, h.slot]);
  });

  it('updates several markets in one instruction', async () => {
    const { h, sol } = await withMarket();
    const btc = h.createMarket('BTC-PERP', BTC_FEED);
    const eth = h.createMarket('ETH-PERP', ETH_FEED);
    const updates = [
      { market: sol, price: price({ price: 15_000_000_000n }, h.now) },
      { market: btc, price: price({ price: 9_500_000_000_000n, conf: 1_000_000_000n }, h.now) },
      { market: eth, price: price({ price: 300_000_000_000n, conf: 10_000_000n, expo: -8, ageSec: 2 }, h.now) },
    ];
    h.mustSend([h.pushIx(updates)], [h.oracle]);
    for (const u of updates) {
      const m = h.market(u.market);
      expect([m.price, m.conf, m.expo, m.publishTime]).toEqual([u.price.price, u.price.conf, u.price.expo, u.price.publishTime]);
    }
  });

  it('applies a batch all or nothing', async () => {
    const { h, sol } = await withMarket();
    const btc = h.createMarket('BTC-PERP', BTC_FEED);
    const r = h.send([h.pushIx([{ market: sol, price: price({}, h.now) }, { market: btc, price: price({ price: 0n }, h.now) }])], [h.oracle]);
    expect(r.error).toBe('NonPositivePrice');
    expect(h.market(sol).price).toBe(0n);
  });

  it('accepts only the oracle authority, signing', async () => {
    const { h, sol } = await withMarket();
    const intruder = Keypair.generate();
    h.airdrop(intruder.publicKey, 1_000_000_000n);
    const forged = updateOraclePriceInstruction({ oracleAuthority: intruder.publicKey, updates: [{ market: sol, price: price({}, h.now) }], programId: h.programId });
    expect(h.send([forged], [intruder]).error).toBe('Unauthorized');
    const unsigned = h.pushIx([{ market: sol, price: price({}, h.now) }]);
    unsigned.keys[0]!.isSigner = false;
    expect(h.send([unsigned], [h.payer]).error).toBe('MissingSignature');
    expect(h.market(sol).price).toBe(0n);
  });

  it('refuses a market account this program does not own, or passed read-only', async () => {
    const { h, sol } = await withMarket();
    const copy = Keypair.generate().publicKey;
    h.setAccount(copy, h.mustAccount(sol).data, Keypair.generate().publicKey);
    expect(h.push(copy).error).toBe('WrongAccountOwner');
    const readOnly = h.pushIx([{ market: sol, price: price({}, h.now) }]);
    readOnly.keys[2]!.isWritable = false;
    expect(h.send([readOnly], [h.oracle]).error).toBe('AccountNotWritable');
  });

  it('moves publish time strictly forward', async () => {
    const { h, sol } = await withMarket();
    h.mustPush(sol, price({ publishTime: h.now - 5n }, h.now));
    expect(h.push(sol, price({ publishTime: h.now - 5n }, h.now)).error).toBe('PublishTimeDuplicate');
    expect(h.push(sol, price({ publishTime: h.now - 6n }, h.now)).error).toBe('PublishTimeRegressed');
    expect(h.push(sol, price({ publishTime: h.now - 4n }, h.now)).ok).toBe(true);
  });

  it('refuses stale and future publish times at the push bounds (30 s old, 5 s ahead)', async () => {
    const { h, sol } = await withMarket();
    expect(h.push(sol, price({ ageSec: 31 }, h.now)).error).toBe('PriceStale');
    expect(h.push(sol, price({ ageSec: -6 }, h.now)).error).toBe('PriceInFuture');
    expect(h.push(sol, price({ ageSec: 30 }, h.now)).ok).toBe(true);
    expect(h.push(sol, price({ ageSec: -5 }, h.now)).ok).toBe(true);
  });

  it('refuses confidence wider than 100 bps of price', async () => {
    const { h, sol } = await withMarket();
    expect(h.push(sol, price({ price: 15_000_000_000n, conf: 150_000_001n }, h.now)).error).toBe('ConfidenceTooWide');
    expect(h.push(sol, price({ price: 15_000_000_000n, conf: 150_000_000n }, h.now)).ok).toBe(true);
  });

  it('refuses zero and negative prices and exponents outside the market range', async () => {
    const { h, sol } = await withMarket();
    expect(h.push(sol, price({ price: 0n, conf: 0n }, h.now)).error).toBe('NonPositivePrice');
    expect(h.push(sol, price({ price: -15_000_000_000n, conf: 0n }, h.now)).error).toBe('NonPositivePrice');
    expect(h.push(sol, price({ expo: 1 }, h.now)).error).toBe('ExponentOutOfRange');
    expect(h.push(sol, price({ expo: -19 }, h.now)).error).toBe('ExponentOutOfRange');
    const narrow = h.createMarket('N-PERP', ETH_FEED, { ...MAJOR_PARAMS, expoMin: -10, expoMax: -6 });
    expect(h.push(narrow, price({ expo: -11 }, h.now)).error).toBe('ExponentOutOfRange');
    expect(h.push(narrow, price({ expo: -10 }, h.now)).ok).toBe(true);
  });

  it('needs one market per update and between 1 and 32 updates', async () => {
    const { h, sol } = await withMarket();
    const two = h.pushIx([{ market: sol, price: price({}, h.now) }, { market: marketAddress('BTC-PERP', h.programId), price: price({}, h.now) }]);
    two.keys.pop();
    expect(h.send([two], [h.oracle]).error).toBe('InvalidBatch');
    const none = h.pushIx([{ market: sol, price: price({}, h.now) }]);
    none.data = perpCoder.instruction.encode('update_oracle_price', { updates: [] });
    expect(h.send([none], [h.oracle]).error).toBe('InvalidBatch');
  });

  it('refuses truncated and oversized instruction data', async () => {
    const { h, sol } = await withMarket();
    const short = h.pushIx([{ market: sol, price: price({}, h.now) }]);
    short.data = short.data.subarray(0, short.data.length - 1);
    expect(h.send([short], [h.oracle]).error).toBe('InstructionDataTooShort');
    const long = h.pushIx([{ market: sol, price: price({}, h.now) }]);
    long.data = Buffer.concat([long.data, Buffer.from([0])]);
    expect(h.send([long], [h.oracle]).error).toBe('InstructionDataTooLong');
  });
});
