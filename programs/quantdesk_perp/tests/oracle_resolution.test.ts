// How open_position, close_position, withdraw and liquidate find their price (processor/shared/
// oracle.rs and oracle/resolve.rs): the market's pinned PriceUpdateV2 account must be the one
// passed, genuine; the newer of it and the pushed price is used, never a publish time below the
// market's watermark, and a Pyth price outside the sanity or EMA band falls back to the pushed one.
import { beforeAll, describe, expect, it } from 'vitest';
import { Keypair, type PublicKey, type TransactionInstruction } from '@solana/web3.js';
import {
  closePositionInstruction,
  liquidateInstruction,
  openPositionInstruction,
  withdrawInstruction,
} from '../../client/quantdesk-perp.ts';
import { PRICE_UPDATE_V2_DISCRIMINATOR } from '../../client/pyth-price-update.ts';
import { BASE, BTC_FEED, PerpHarness, USDC, logged, price, BUILD_TIMEOUT_MS, loadProgram, type Trader } from './harness.ts';

const P150 = 15_000_000_000n;

/** SOL-PERP with a pinned account, $150 pushed a second ago, alice with $500 and no position. */
async function setup() {
  const h = await PerpHarness.create();
  const sol = h.createMarket('SOL-PERP', undefined, undefined, { pinOracle: true });
  h.mustPush(sol, price({ price: P150, conf: 1_000_000n }, h.now));
  const alice = h.trader(1_000n);
  expect(h.deposit(alice, sol, 500n * USDC).ok).toBe(true);
  const open = (priceUpdate: PublicKey | undefined = h.oracleOf(), who: Trader = alice, size = BASE) =>
    h.send([openPositionInstruction({ owner: who.keypair.publicKey, market: sol, size, priceUpdate, programId: h.programId })], [who.keypair]);
  const entry = () => h.position(sol, alice.keypair.publicKey).entryPrice;
  return { h, sol, alice, open, entry };
}

describe('oracle resolution', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('uses the pinned account when it is newer than the pushed price, and records it as the last used', async () => {
    const { h, sol, open, entry } = await setup();
    const r = open(h.writePythUpdate({ price: 15_123_456_789n, conf: 1_000_000n, exponent: -8, publishTime: h.now }));
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pyth')).toBe(true);
    expect(entry()).toBe(151_234_567_890n);
    const m = h.market(sol);
    expect([m.lastUsedPrice, m.lastUsedExpo, m.lastUsedPublishTime]).toEqual([15_123_456_789n, -8, h.now]);
  });

  it('uses the pushed price when it is newer than the pinned account', async () => {
    const { h, open, entry } = await setup();
    const r = open(h.writePythUpdate({ price: 15_500_000_000n, publishTime: h.now - 5n }));
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pushed')).toBe(true);
    expect(entry()).toBe(150n * 1_000_000_000n);
  });

  it('rescales Pyth exponents below -9 toward zero', async () => {
    const { h, open, entry } = await setup();
    expect(open(h.writePythUpdate({ price: 151_234_567_899_999n, conf: 0n, exponent: -12, publishTime: h.now })).ok).toBe(true);
    expect(entry()).toBe(151_234_567_899n);
  });

  it('falls back to the pushed price when the newer Pyth update is in the future, too uncertain, non-positive or out of exponent range', async () => {
    const cases: [Parameters<PerpHarness['writePythUpdate']>[0], string][] = [
      [{ publishTime: 1_800_000_006n }, 'PriceInFuture'],
      [{ price: P150, conf: 112_500_001n }, 'ConfidenceTooWide'],
      [{ price: 0n, conf: 0n }, 'NonPositivePrice'],
      [{ price: -P150, conf: 0n }, 'NonPositivePrice'],
      [{ exponent: 3 }, 'ExponentOutOfRange'],
    ];
    for (const [update, reason] of cases) {
      const { h, open, entry } = await setup();
      const r = open(h.writePythUpdate({ publishTime: h.now, ...update }));
      expect(r.ok, reason).toBe(true);
      expect(logged(r.logs, 'pyth price unusable:') && logged(r.logs, reason), reason).toBe(true);
      expect(logged(r.logs, 'price source: pushed'), reason).toBe(true);
      expect(entry(), reason).toBe(150n * 1_000_000_000n);
    }
  });

  it('refuses a Pyth price 30 % below the last good price or at half its EMA, and uses the pushed one', async () => {
    for (const [update, reason] of [
      [{ price: 10_500_000_000n, conf: 0n }, 'SanityBandExceeded'],
      [{ price: P150, conf: 0n, emaPrice: 2n * P150 }, 'EmaBandExceeded'],
    ] as const) {
      const { h, sol, open, entry } = await setup();
      const r = open(h.writePythUpdate({ ...update, publishTime: h.now }));
      expect(r.ok, reason).toBe(true);
      expect(logged(r.logs, reason), reason).toBe(true);
      expect(entry(), reason).toBe(150n * 1_000_000_000n);
      // The refused price moved nothing: the pushed one is the last used.
      expect(h.market(sol).lastUsedPublishTime, reason).toBe(h.now - 1n);
    }
  });

  it('measures the band from the last price the market used', async () => {
    const { h, sol, open } = await setup();
    // 150 → 164 (9.3 %) is within the band, and becomes the last good price …
    expect(open(h.writePythUpdate({ price: 16_400_000_000n, conf: 0n, publishTime: h.now })).ok).toBe(true);
    // … so 164 → 180 (9.8 %) is too, though 20 % above the pushed $150.
    h.advance(5);
    const bob = h.trader(1_000n);
    expect(h.deposit(bob, sol, 500n * USDC).ok).toBe(true);
    h.writePythUpdate({ price: 18_000_000_000n, conf: 0n, publishTime: h.now });
    expect(open(h.oracleOf(), bob).ok).toBe(true);
    expect(h.position(sol, bob.keypair.publicKey).entryPrice).toBe(180n * 1_000_000_000n);
    // 150 → 166 (10.7 %) in one step is not, and the pushed price is too old to fall back on.
    const { h: h2, open: open2 } = await setup();
    h2.advance(25);
    expect(open2(h2.writePythUpdate({ price: 16_600_000_000n, conf: 0n, publishTime: h2.now })).error).toBe('SanityBandExceeded');
  });

  it('falls back when the Pyth price cannot be rescaled to 10^-9', async () => {
    const { h, sol, open, entry } = await setup();
    // $18e9 (exponent 0) fits u64 at 10^-9, $19e9 does not; 5.6 % apart, within the band.
    h.advance(1);
    h.mustPush(sol, { price: 18_000_000_000n, conf: 0n, expo: 0, publishTime: h.now - 1n });
    const r = open(h.writePythUpdate({ price: 19_000_000_000n, conf: 0n, exponent: 0, publishTime: h.now }), undefined, 1n);
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'MathOverflow')).toBe(true);
    expect(logged(r.logs, 'price source: pushed')).toBe(true);
    expect(entry()).toBe(18_000_000_000n * 1_000_000_000n);
  });

  it('fails with the newest candidate\'s reason when none is usable', async () => {
    const { h, open } = await setup();
    h.advance(25);
    expect(open(h.writePythUpdate({ publishTime: h.now - 30n })).error).toBe('PriceStale');
  });

  it('refuses a forged account at the pinned address: another owner, partial verification, another feed, not a PriceUpdateV2', async () => {
    const { h, open } = await setup();
    expect(open(h.writePythUpdate({ owner: Keypair.generate().publicKey })).error).toBe('PythWrongOwner');
    expect(open(h.writePythUpdate({ verification: { kind: 'partial', numSignatures: 5 } })).error).toBe('PythNotFullyVerified');
    expect(open(h.writePythUpdate({ feedId: BTC_FEED, key: h.oracleOf() })).error).toBe('PythFeedMismatch');
    const key = h.writePythUpdate({});
    const data = h.mustAccount(key).data;
    data[0] = data[0]! ^ 0xff;
    h.setAccount(key, data, h.pythReceiver);
    expect(open(key).error).toBe('PythInvalidAccount');
    h.setAccount(key, Buffer.concat([PRICE_UPDATE_V2_DISCRIMINATOR, Buffer.alloc(40, 1)]), h.pythReceiver);
    expect(open(key).error).toBe('PythInvalidAccount');
  });

  it('takes no price account for a market that pins none', async () => {
    const h = await PerpHarness.create();
    const sol = h.createMarket();
    h.mustPush(sol, price({ price: P150 }, h.now));
    const alice = h.trader(1_000n);
    h.deposit(alice, sol, 500n * USDC);
    const open = (priceUpdate?: PublicKey) =>
      h.send([openPositionInstruction({ owner: alice.keypair.publicKey, market: sol, size: BASE, priceUpdate, programId: h.programId })], [alice.keypair]);
    expect(open(h.writePythUpdate({ publishTime: h.now })).error).toBe('OracleNotPinned');
    // Anchor's placeholder for an omitted optional account is no account.
    const r = open(h.programId);
    expect(r.ok).toBe(true);
    expect(logged(r.logs, 'price source: pushed')).toBe(true);
  });
});

/**
 * Each instruction that needs a price, in a state where it would succeed: the caller cannot leave
 * the pinned account out, pass a genuine update from elsewhere, or bring back an older update.
 */
describe('price pinning: open, close, withdraw, liquidate', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  type Build = (priceUpdate?: PublicKey) => TransactionInstruction;
  const cases: { name: string; mark: bigint; prepare(h: PerpHarness, sol: PublicKey, alice: Trader): { build: Build; signer: Trader } }[] = [
    {
      name: 'open_position',
      mark: P150,
      prepare: (h, sol, alice) => ({
        build: (priceUpdate) => openPositionInstruction({ owner: alice.keypair.publicKey, market: sol, size: BASE, priceUpdate, programId: h.programId }),
        signer: alice,
      }),
    },
    {
      name: 'close_position',
      mark: P150,
      prepare: (h, sol, alice) => {
        h.mustSend([openPositionInstruction({ owner: alice.keypair.publicKey, market: sol, size: BASE, priceUpdate: h.oracleOf(), programId: h.programId })], [alice.keypair]);
        return { build: (priceUpdate) => closePositionInstruction({ owner: alice.keypair.publicKey, market: sol, priceUpdate, programId: h.programId }), signer: alice };
      },
    },
    {
      name: 'withdraw',
      mark: P150,
      prepare: (h, sol, alice) => {
        h.mustSend([openPositionInstruction({ owner: alice.keypair.publicKey, market: sol, size: BASE, priceUpdate: h.oracleOf(), programId: h.programId })], [alice.keypair]);
        return {
          build: (priceUpdate) => withdrawInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount: USDC, priceUpdate, programId: h.programId }),
          signer: alice,
        };
      },
    },
    {
      name: 'liquidate',
      // 10 SOL long from $150 with $150 is liquidatable at $140 (6.7 % down: within the band).
      mark: 14_000_000_000n,
      prepare: (h, sol, alice) => {
        const bob = h.trader(1_000n);
        expect(h.deposit(bob, sol, 150n * USDC).ok).toBe(true);
        h.mustSend([openPositionInstruction({ owner: bob.keypair.publicKey, market: sol, size: 10n * BASE, priceUpdate: h.oracleOf(), programId: h.programId })], [bob.keypair]);
        const keeper = h.keeper();
        void alice;
        return {
          build: (priceUpdate) =>
            liquidateInstruction({ keeper: keeper.keypair.publicKey, market: sol, owner: bob.keypair.publicKey, keeperTokenAccount: keeper.tokenAccount, priceUpdate, programId: h.programId }),
          signer: keeper,
        };
      },
    },
  ];

  for (const c of cases) {
    it(`${c.name}: refuses an omitted, a foreign and a held-back update, then takes the pinned current one`, async () => {
      const { h, sol, alice } = await setup();
      h.writePythUpdate({ price: P150, conf: 0n, publishTime: h.now });
      const { build, signer } = c.prepare(h, sol, alice);
      h.advance(2);
      const send = (priceUpdate?: PublicKey) => h.send([build(priceUpdate)], [signer.keypair]);

      expect(send(undefined).error).toBe('OracleAccountMissing');
      expect(send(h.programId).error).toBe('OracleAccountMissing');
      const foreign = h.writePythUpdate({ key: Keypair.generate().publicKey, price: c.mark, conf: 0n, publishTime: h.now });
      expect(send(foreign).error).toBe('OracleAccountMismatch');

      // Carol's open uses an update published now: the watermark moves to it.
      const carol = h.trader(10_000n);
      expect(h.deposit(carol, sol, 5_000n * USDC).ok).toBe(true);
      h.writePythUpdate({ price: c.mark, conf: 0n, publishTime: h.now });
      h.mustSend([openPositionInstruction({ owner: carol.keypair.publicKey, market: sol, size: BASE, priceUpdate: h.oracleOf(), programId: h.programId })], [carol.keypair]);
      expect(h.market(sol).lastUsedPublishTime).toBe(h.now);
      // A genuine update one second older, back at the pinned address; the pushed price is older still.
      h.writePythUpdate({ price: c.mark, conf: 0n, publishTime: h.now - 1n });
      expect(send(h.oracleOf()).error).toBe('PriceOlderThanUsed');

      h.advance(1);
      h.writePythUpdate({ price: c.mark, conf: 0n, publishTime: h.now });
      const r = send(h.oracleOf());
      expect(r.ok, r.logs.join('\n')).toBe(true);
      expect(logged(r.logs, 'price source: pyth')).toBe(true);
      expect(h.market(sol).lastUsedPublishTime).toBe(h.now);
    });
  }
});
