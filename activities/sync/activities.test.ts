import { Keypair, type PublicKey } from '@solana/web3.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { PriceFollower } from '../../bus/follower.ts';
import { createMemoryBus } from '../../bus/memory.ts';
import type { GradedPrice } from '../../bus/roles.ts';
import { toBusPrice } from '../../bus/wire.ts';
import type { SyncProgress } from '../../contracts/temporal.ts';
import type { OnChainPrice } from '../../domain/push-policy.ts';
import { gradePrice } from '../../domain/validation.ts';
import { marketAddress } from '../../programs/client/quantdesk-perp.ts';
import { createLogger } from '../../runtime/logger.ts';
import { createMemoryStore } from '../../store/memory.ts';
import type { InflightUpdate } from '../../store/roles.ts';
import { testMarkets, waitFor } from '../../tests/support.ts';
import { createSyncActivities } from './activities.ts';
import type { BatchOutcome, OracleChain, PushUpdate } from './chain.ts';
import { PushDecider } from './decisions.ts';
import { syncMetrics } from './metrics.ts';
import { OnChainBook } from './onchain.ts';
import { PricePusher } from './pusher.ts';

/**
 * The sync's roles one by one, and composed in the activity, on an in-memory bus and store and a
 * chain held in memory (the real chain path is tests/oracle-sync.test.ts on the localnet).
 */
const markets = testMarkets();
const SOL = markets.bySymbol('SOL-PERP')!;
const BTC = markets.bySymbol('BTC-PERP')!;
const programId = Keypair.generate().publicKey;
const log = createLogger('sync-test', 'silent');
const nowSec = () => Math.floor(Date.now() / 1000);

const price = (market: typeof SOL, publishTime: number, mantissa: bigint): GradedPrice => {
  const p = { symbol: market.symbol, feedId: market.pythFeedId, source: 'pyth' as const, price: mantissa, conf: 1_000_000n, expo: -8, publishTime, hasConfidence: true, receivedAt: publishTime * 1000 };
  return { ...p, grades: gradePrice(p, publishTime, market.validation) };
};

/** A chain in memory: market accounts, every batch landed, and what the program would refuse. */
function memoryChain() {
  const accounts = new Map<string, OnChainPrice>();
  const landed: PushUpdate[][] = [];
  let reads = 0;
  let refuse: ((u: PushUpdate) => string | undefined) | undefined;
  const chain: OracleChain = {
    async readMarkets(keys) {
      reads += 1;
      return keys.map((k) => {
        const a = accounts.get(k.toBase58());
        return a && { ...a, slot: 1 };
      });
    },
    async sign(updates) {
      return { signature: `sig-${landed.length}-${Math.random().toString(36).slice(2)}`, raw: Buffer.from(JSON.stringify(updates.map((u) => u.market.toBase58()))), lastValidBlockHeight: 100, updates } as never;
    },
    async land(batch): Promise<BatchOutcome> {
      const updates = (batch as unknown as { updates: PushUpdate[] }).updates;
      const why = updates.map((u) => refuse?.(u)).find(Boolean);
      if (why) return { status: 'rejected', name: why, detail: why };
      for (const u of updates) {
        const had = accounts.get(u.market.toBase58());
        if (had && u.publishTime <= had.publishTime) return { status: 'rejected', name: 'PublishTimeDuplicate', detail: 'replay' };
      }
      for (const u of updates) accounts.set(u.market.toBase58(), { price: u.price, conf: u.conf, expo: u.expo, publishTime: u.publishTime });
      landed.push([...updates]);
      return { status: 'confirmed', slot: landed.length, feeLamports: 5_000, computeUnits: 700 };
    },
  };
  return {
    chain,
    accounts,
    landed,
    get reads() {
      return reads;
    },
    refuse: (f: typeof refuse) => (refuse = f),
  };
}

describe('sync roles', () => {
  it('PushDecider: pushes the initial and deviating prices, holds within thresholds and while stale, records a hold once', () => {
    const decider = new PushDecider();
    const t = nowSec();
    const latest = new Map([['SOL-PERP', toBusPrice(price(SOL, t, 15_000_000_000n))]]);
    const live = (s: string) => latest.get(s);
    const first = decider.decide([SOL, BTC], live, () => undefined, t * 1000);
    expect(first.due.map((u) => [u.symbol, u.triggers])).toEqual([['SOL-PERP', ['initial']]]);
    const onChain = { price: 15_000_000_000n, conf: 1_000_000n, expo: -8, publishTime: t - 1 };
    expect(decider.decide([SOL], live, () => onChain, t * 1000).due).toEqual([]);
    const stale = decider.decide([SOL], live, () => onChain, t * 1000, () => true);
    expect(stale.skipped.map((s) => s.error)).toEqual(['not pushable: stale']);
    expect(decider.decide([SOL], live, () => onChain, t * 1000, () => true).skipped).toEqual([]); // once per change
    latest.set('SOL-PERP', toBusPrice(price(SOL, t + 1, 15_100_000_000n)));
    expect(decider.decide([SOL], live, () => onChain, (t + 1) * 1000).due[0]?.triggers).toEqual(['deviation']);
  });

  it('PushDecider: a refused batch of several is split up, and a market rejoins once it lands alone', () => {
    const decider = new PushDecider();
    const u = (symbol: string) => ({ symbol }) as InflightUpdate;
    expect(decider.batches([u('A'), u('B'), u('C')], 2).map((b) => b.map((x) => x.symbol))).toEqual([['A', 'B'], ['C']]);
    decider.outcome([u('A'), u('B')], 'rejected');
    expect(decider.batches([u('A'), u('B'), u('C')], 8).map((b) => b.map((x) => x.symbol))).toEqual([['A'], ['B'], ['C']]);
    decider.outcome([u('A')], 'confirmed');
    expect(decider.batches([u('A'), u('B'), u('C')], 8).map((b) => b.map((x) => x.symbol))).toEqual([['B'], ['A', 'C']]);
  });

  it('OnChainBook: reads the chain only when in doubt or on its slow timer, and takes confirmed pushes without reading back', async () => {
    const c = memoryChain();
    let clock = 0;
    const addresses = new Map([['SOL-PERP', marketAddress('SOL-PERP', programId)]]);
    const book = new OnChainBook(c.chain, addresses, 30_000, () => clock);
    expect(book.needsVerify).toBe(true);
    await book.verify();
    expect(book.needsVerify).toBe(false);
    book.confirmed('SOL-PERP', { price: 1n, conf: 0n, expo: -8, publishTime: 10 });
    expect(book.get('SOL-PERP')?.publishTime).toBe(10);
    expect(book.needsVerify).toBe(false);
    book.distrust();
    expect(book.needsVerify).toBe(true);
    await book.verify();
    clock = 31_000;
    expect(book.needsVerify).toBe(true);
    expect(c.reads).toBe(2);
  });

  it('PricePusher: lands a batch and keeps its audit trail, retrying the records while the database is away', async () => {
    const c = memoryChain();
    const store = createMemoryStore();
    const addresses = new Map<string, PublicKey>([['SOL-PERP', marketAddress('SOL-PERP', programId)]]);
    const pusher = new PricePusher(c.chain, store.pushes, addresses, Date.now);
    store.state.down = true;
    const update: InflightUpdate = { symbol: 'SOL-PERP', feedId: SOL.pythFeedId, price: '15000000000', conf: '1000', expo: -8, publishTime: nowSec(), receivedAt: new Date(), triggers: ['initial'] };
    const r = await pusher.push([update]);
    expect(r.kind).toBe('confirmed');
    expect(c.landed).toHaveLength(1); // the push did not wait for the database
    expect(pusher.backlog).toBe(1);
    store.state.down = false;
    await waitFor('the record', async () => (await store.pushes.recent('SOL-PERP', 5)).length === 1 || undefined, 5_000);
    expect((await store.pushes.recent('SOL-PERP', 5))[0]).toMatchObject({ outcome: 'confirmed', slot: 1, feeLamports: 5_000, triggers: ['initial'] });
    await pusher.close();
  });
});

describe('runOracleSync (the roles composed)', () => {
  let env: MockActivityEnvironment | undefined;
  afterEach(() => env?.cancel());

  it('is woken by a bus update, not a poll, and does not read the chain back after its own pushes', async () => {
    const c = memoryChain();
    const bus = createMemoryBus();
    const store = createMemoryStore();
    const prices = new PriceFollower({ subscriber: bus.subscriber(), store: store.latest, markets, log });
    await prices.start();
    const activities = createSyncActivities({
      markets,
      prices,
      pushes: store.pushes,
      chain: c.chain,
      programId,
      bus: bus.publisher,
      reportProgress: async () => undefined,
      metrics: syncMetrics(new Registry()),
      log,
      // No timer to wake it: only the bus can.
      options: { tickMs: 3_600_000, verifyEveryMs: 3_600_000 },
    });
    const progress: SyncProgress[] = [];
    env = new MockActivityEnvironment();
    env.on('heartbeat', (d: SyncProgress) => progress.push(d));
    const running = env.run(activities.runOracleSync, { symbols: ['SOL-PERP'] }).catch(() => undefined);
    await waitFor('the first round', () => progress.length > 0 || undefined);
    const t = nowSec();
    for (let i = 0; i < 5; i++) {
      const before = c.landed.length;
      const sentAt = Date.now();
      bus.publisher.publishPrices([price(SOL, t + i, 15_000_000_000n + BigInt(i) * 200_000_000n)]);
      await waitFor(`push ${i}`, () => c.landed.length > before || undefined, 2_000, 5);
      expect(Date.now() - sentAt).toBeLessThan(1_000);
    }
    expect(c.accounts.get(marketAddress('SOL-PERP', programId).toBase58())?.publishTime).toBe(t + 4);
    expect(c.reads).toBe(1); // verified once at start, then it knew what it pushed
    // A refused push puts it in doubt: it reads the chain before deciding again.
    c.refuse(() => 'OracleBoundsViolated');
    bus.publisher.publishPrices([price(SOL, t + 5, 16_000_000_000n)]);
    await waitFor('the refused push recorded', async () => (await store.pushes.recent('SOL-PERP', 20)).some((d) => d.outcome === 'rejected') || undefined, 3_000);
    c.refuse(undefined);
    bus.publisher.publishPrices([price(SOL, t + 6, 16_100_000_000n)]);
    await waitFor('the next push', () => c.landed.length === 6 || undefined, 3_000);
    expect(c.reads).toBe(2);
    env.cancel();
    await running;
    await prices.stop();
  });
});
