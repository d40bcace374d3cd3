import { Connection, PublicKey } from '@solana/web3.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeKeeper, keeperAddress } from '../programs/client/quantdesk-perp.ts';
import type { LiquidationDoc } from '../store/roles.ts';
import { liquidationSystem } from './liquidation-system.ts';
import { waitFor } from './support.ts';

/**
 * Keepers that scale by adding workers, and sagas that hold up under faults, on the real path
 * (simulator, ingest and sync workers, the localnet with the keeper network, keeper workers):
 *  - two keeper workers with two scanners race over 50 underwater positions, one of them killed
 *    mid-way: every position is liquidated, each trade once;
 *  - the price recovers before the transaction lands: the program refuses, compensation runs,
 *    the outcome is `healthy-again`;
 *  - the RPC fails on the send step: retries, then compensation; the claim is released, a later
 *    scan liquidates.
 */
const CROWD = 50;

describe('keepers racing', () => {
  let s: Awaited<ReturnType<typeof liquidationSystem>>;
  beforeAll(async () => {
    s = await liquidationSystem({ crowd: CROWD, keepers: 2 });
  }, 300_000);
  afterAll(() => s?.stop(), 60_000);
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') for (const k of s.keepers) console.error(`keeper output (tail):\n${k.output().split('\n').slice(-30).join('\n')}`);
  });

  it('two keepers and two scanners over 50 underwater positions: every one liquidated, each trade once, even with a keeper killed mid-way', async () => {
    const crowd = s.manifest.quantdesk.positions.filter((p) => p.symbol === 'SOL-PERP' && Number(p.trader.slice('trader-'.length)) > 3);
    expect(crowd).toHaveLength(CROWD);
    const connection = new Connection(s.localnet.rpcUrl, 'confirmed');
    const stats = async () =>
      Promise.all(s.manifest.quantdesk.keepers.map(async (k) => decodeKeeper((await connection.getAccountInfo(keeperAddress(new PublicKey(k.publicKey), new PublicKey(s.manifest.quantdesk.programId))))!.data).liquidations));
    const before = await stats();
    for (const k of s.keepers) await waitFor('keepers started', () => k.output().includes('worker_started') || undefined, 90_000);
    s.sim.control.bias('pyth', -600, ['SOL-PERP']);
    s.sim.control.bias('coingecko', -600, ['SOL-PERP']);
    const done = (docs: LiquidationDoc[]) => docs.filter((d) => d.state === 'done' && crowd.some((p) => p.position === d.position));
    // Kill the second keeper mid-way; its sagas in flight are taken over by the first (and by it once restarted).
    await waitFor('a few done', async () => done(await s.docsOf(crowd)).length >= 5 || undefined, 120_000, 500);
    await s.keepers[1]!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 3_000));
    s.restartKeeper(1);
    const all = await waitFor('every crowd position liquidated', async () => {
      const d = done(await s.docsOf(crowd));
      return new Set(d.map((x) => x.position)).size === CROWD ? d : undefined;
    }, 240_000, 1_000).catch(async (e: Error) => {
      // Say which were not, and what their sagas said.
      const docs = await s.docsOf(crowd);
      const missing = crowd.filter((p) => !docs.some((d) => d.position === p.position && d.state === 'done'));
      const summary = missing.map((p) => `${p.position}: ${docs.filter((d) => d.position === p.position).map((d) => `${d._id} ${d.state} ${d.result?.outcome ?? ''} ${d.attempts.map((a) => a.reason).join('|')}`).join('; ') || 'no saga'}`);
      throw new Error(`${e.message}; ${missing.length} not liquidated:\n${summary.slice(0, 10).join('\n')}`);
    });
    // Each trade (and liquidation round) once: as many done sagas as liquidations the keepers counted.
    const ids = all.map((d) => d._id);
    expect(new Set(ids).size).toBe(ids.length);
    // Demo positions in SOL go too (a trader's other near one): count every done saga.
    const everyDone = (await s.docsOf(s.manifest.quantdesk.positions)).filter((d) => d.state === 'done');
    const after = await stats();
    const counted = after.reduce((n, x, i) => n + (x - before[i]!), 0n);
    expect(counted).toBe(BigInt(new Set(everyDone.map((d) => d._id)).size));
    // Both keepers liquidated: the queue is shared.
    expect(after.every((x, i) => x > before[i]!)).toBe(true);
  }, 420_000);
});

describe('sagas under faults', () => {
  let s: Awaited<ReturnType<typeof liquidationSystem>>;
  beforeAll(async () => {
    s = await liquidationSystem({ keepers: 1, proxied: true });
    await waitFor('keeper started', () => s.keepers[0]!.output().includes('worker_started') || undefined, 90_000);
  }, 300_000);
  afterAll(() => s?.stop(), 60_000);
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(`keeper output (tail):\n${s.keepers[0]!.output().split('\n').slice(-40).join('\n')}`);
  });

  const near = (symbol: string) => s.manifest.quantdesk.positions.find((p) => p.symbol === symbol && p.side === 'long' && p.nearLiquidation)!;

  it('the price recovers before the transaction lands: the program refuses, compensation runs, outcome healthy-again', async () => {
    const target = near('ETH-PERP');
    const owner = s.ownerOf(target.trader);
    // The keeper's transaction waits at the RPC while the price comes back.
    s.proxy!.setHold('simulateTransaction', 6_000);
    s.sim.control.bias('pyth', -600, ['ETH-PERP']);
    s.sim.control.bias('coingecko', -600, ['ETH-PERP']);
    await waitFor('the claim', async () => (await s.store.liquidations.byWallet(owner, 20)).find((d) => d.position === target.position && d.state === 'claimed'), 60_000, 200);
    s.sim.control.bias('pyth', 0, ['ETH-PERP']);
    s.sim.control.bias('coingecko', 0, ['ETH-PERP']);
    const doc = await waitFor('healthy again', async () => (await s.store.liquidations.byWallet(owner, 20)).find((d) => d.position === target.position && d.result?.outcome === 'healthy-again'), 60_000, 500);
    expect(doc.state).toBe('released');
    expect(doc.attempts.at(-1)?.reason).toBe('PositionHealthy');
    s.proxy!.setHold('simulateTransaction', 0);
  }, 150_000);

  it('the RPC fails on the send step: retries, compensation releases the claim, a later scan liquidates', async () => {
    const target = near('BTC-PERP');
    const owner = s.ownerOf(target.trader);
    s.proxy!.setFailing(['sendTransaction']);
    s.sim.control.bias('pyth', -600, ['BTC-PERP']);
    s.sim.control.bias('coingecko', -600, ['BTC-PERP']);
    const failed = await waitFor('a failed attempt, compensated', async () => (await s.store.liquidations.byWallet(owner, 20)).find((d) => d.position === target.position && d.attempts.length > 0), 90_000, 500);
    expect(failed.attempts[0]!.reason).toMatch(/503|overloaded|unreachable/i);
    s.proxy!.setFailing([]);
    const done = await waitFor('liquidated by a later saga', async () => (await s.store.liquidations.byWallet(owner, 20)).find((d) => d.position === target.position && d.state === 'done'), 90_000, 500);
    expect(['liquidated', 'partially-liquidated']).toContain(done.result?.outcome);
    expect(done.attempts.length).toBeGreaterThan(0);
  }, 200_000);
});
