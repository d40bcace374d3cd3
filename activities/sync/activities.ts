import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PublicKey } from '@solana/web3.js';
import type { Logger } from 'pino';
import type { Market, MarketIndex } from '../../domain/markets.ts';
import { decidePush, type OnChainPrice } from '../../domain/push-policy.ts';
import { marketAddress } from '../../programs/client/quantdesk-perp.ts';
import type { ChainHealth } from '../../server/events.ts';
import { CHAIN_UNAVAILABLE } from '../../temporal/contracts.ts';
import type { PricePublisher } from '../ingest/publisher.ts';
import { fromLatestDoc, type PriceStore } from '../store/prices.ts';
import type { InflightUpdate, PushDoc, PushOutcome, PushStore } from '../store/pushes.ts';
import type { BatchOutcome, OracleChain } from './chain.ts';
import type { SyncMetrics } from './metrics.ts';

/**
 * The on-chain sync: watches the served prices in the store and pushes `update_oracle_price` when
 * the push policy (domain/push-policy.ts) says so, several markets per transaction; records every
 * decision and outcome; resends what a crashed predecessor left in flight. Never pushes a stale,
 * rejected or older price: only served prices are candidates, and the policy grades them for `push`.
 */

export interface SyncOptions {
  pollMs: number;
  maxMarketsPerTx: number;
  /** Without a successful RPC round trip for this long the sync is `down`. */
  downAfterMs: number;
  /** ... and after this long the activity fails, so operators see it in Temporal (which retries it). */
  failAfterMs: number;
  progressEveryMs: number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = { pollMs: 200, maxMarketsPerTx: 8, downAfterMs: 3_000, failAfterMs: 15_000, progressEveryMs: 5_000 };

export interface MarketSyncState {
  onChainPublishTime: number;
  lastTrigger?: string;
  lastOutcome?: PushOutcome;
  /** Epoch ms of the last confirmed push. */
  lastPushAt?: number;
  /** Why the newest price is not being pushed, while that is so. */
  holding?: string;
}

export interface SyncProgress {
  health: ChainHealth;
  reason: string;
  markets: Record<string, MarketSyncState>;
  pushes: number;
  failures: number;
}

export interface SyncDeps {
  markets: MarketIndex;
  prices: PriceStore;
  pushes: PushStore;
  chain: OracleChain;
  programId: PublicKey;
  publisher: PricePublisher;
  reportProgress: (workflowId: string, progress: SyncProgress) => Promise<void>;
  metrics: SyncMetrics;
  log: Logger;
  now?: () => number;
  options?: Partial<SyncOptions>;
}

const REPLAY_ERRORS = new Set(['PublishTimeDuplicate', 'PublishTimeRegressed']);
const SKIP_REASONS_RECORDED = new Set(['stale', 'confidence_too_wide', 'source_not_allowed']);

const outcomeOf = (o: BatchOutcome): PushOutcome =>
  o.status === 'confirmed' ? 'confirmed' : o.status === 'expired' ? 'expired' : o.status === 'unreachable' ? 'send_failed' : o.name && REPLAY_ERRORS.has(o.name) ? 'replay_rejected' : 'rejected';

export function createSyncActivities(deps: SyncDeps) {
  const now = deps.now ?? Date.now;
  const opts = { ...DEFAULT_SYNC_OPTIONS, ...deps.options };

  return {
    async runOracleSync(input: { symbols?: string[] }): Promise<never> {
      const ctx = Context.current();
      const workflowId = ctx.info.workflowExecution?.workflowId;
      const markets: Market[] = input.symbols ? input.symbols.map((s) => deps.markets.bySymbol(s)!).filter(Boolean) : [...deps.markets.all];
      const addresses = new Map(markets.map((m) => [m.symbol, marketAddress(m.symbol, deps.programId)]));
      const log = deps.log.child({ module: 'oracle-sync' });
      const state = new Map<string, MarketSyncState>(markets.map((m) => [m.symbol, { onChainPublishTime: 0 }]));
      const onChain = new Map<string, OnChainPrice>();
      const isolate = new Set<string>();
      let lastOk = now();
      let health: ChainHealth = 'ok';
      let reason = 'starting';
      let pushes = 0;
      let failures = 0;
      let lastReport = 0;

      const setHealth = (h: ChainHealth, why: string) => {
        if (h === health && why === reason) return;
        const changed = h !== health;
        health = h;
        reason = why;
        deps.metrics.health.set(h === 'ok' ? 0 : h === 'degraded' ? 1 : 2);
        if (changed) {
          log[h === 'ok' ? 'info' : 'warn']({ health: h, reason: why }, 'sync_health');
          deps.publisher.status({ kind: 'chain', symbols: markets.map((m) => m.symbol), health: h, reason: why });
          report(true);
        }
      };
      const report = (force = false) => {
        const progress: SyncProgress = { health, reason, markets: Object.fromEntries(state), pushes, failures };
        ctx.heartbeat(progress);
        if (workflowId && (force || now() - lastReport >= opts.progressEveryMs)) {
          lastReport = now();
          deps.reportProgress(workflowId, progress).catch((e) => log.warn({ err: (e as Error).message }, 'progress_signal_failed'));
        }
      };
      const rpcFailed = (call: string, e: unknown) => {
        failures += 1;
        deps.metrics.rpcFailures.inc({ call });
        const silentFor = now() - lastOk;
        setHealth(silentFor >= opts.downAfterMs ? 'down' : 'degraded', `${call} failed: ${(e as Error).message.slice(0, 200)}`);
        if (silentFor >= opts.failAfterMs) {
          throw ApplicationFailure.create({ type: CHAIN_UNAVAILABLE, message: `no successful RPC call for ${silentFor} ms: ${(e as Error).message.slice(0, 200)}` });
        }
      };

      /** Signs, records in flight, lands, records the outcome per market. */
      async function pushBatch(updates: InflightUpdate[], attempt: number, batchId: string = randomUUID()): Promise<BatchOutcome> {
        const decidedAt = new Date(now());
        const signed = await deps.chain.sign(
          updates.map((u) => ({ market: addresses.get(u.symbol)!, price: BigInt(u.price), conf: BigInt(u.conf), expo: u.expo, publishTime: u.publishTime })),
        );
        await deps.pushes.markInflight({ _id: batchId, attempt, signature: signed.signature, decidedAt, updates });
        const outcome = await deps.chain.land(signed, ctx.cancellationSignal);
        const at = now();
        const kind = outcomeOf(outcome);
        const records: Omit<PushDoc, 'recordedAt'>[] = updates.map((u) => ({
          ...u,
          batchId,
          attempt,
          decidedAt,
          signature: signed.signature,
          outcome: kind,
          ...(outcome.status === 'confirmed' && {
            slot: outcome.slot,
            ...(outcome.feeLamports !== undefined && { feeLamports: outcome.feeLamports }),
            ...(outcome.computeUnits !== undefined && { computeUnits: outcome.computeUnits }),
            latencyMs: at - u.receivedAt.getTime(),
          }),
          ...((outcome.status === 'rejected' || outcome.status === 'unreachable') && { error: outcome.status === 'rejected' && outcome.name ? `${outcome.name}: ${outcome.detail}` : outcome.detail }),
        }));
        await deps.pushes.record(records);
        await deps.pushes.clearInflight(batchId);
        for (const u of updates) {
          const s = state.get(u.symbol)!;
          s.lastOutcome = kind;
          s.lastTrigger = u.triggers.join('+');
          deps.metrics.pushes.inc({ symbol: u.symbol, outcome: kind });
          if (outcome.status === 'confirmed') {
            s.lastPushAt = at;
            s.onChainPublishTime = u.publishTime;
            onChain.set(u.symbol, { price: BigInt(u.price), conf: BigInt(u.conf), expo: u.expo, publishTime: u.publishTime });
            deps.metrics.latency.observe((at - u.receivedAt.getTime()) / 1000);
          }
        }
        if (outcome.status === 'confirmed') pushes += updates.length;
        // A batch the program refused may hold one bad market: send them one by one next time.
        if (outcome.status === 'rejected' && updates.length > 1) for (const u of updates) isolate.add(u.symbol);
        if (outcome.status === 'confirmed' && updates.length === 1) isolate.delete(updates[0]!.symbol);
        log[outcome.status === 'confirmed' ? 'debug' : 'warn']({ batchId, attempt, outcome: kind, markets: updates.map((u) => u.symbol), signature: signed.signature }, 'push_outcome');
        return outcome;
      }

      // What a predecessor signed but never saw the end of: send it again. If it had landed, the
      // program refuses the replay (recorded as replay_rejected); if not, it lands now.
      for (const batch of await deps.pushes.pendingInflight()) {
        const updates = batch.updates.filter((u) => addresses.has(u.symbol)).map((u) => ({ ...u, receivedAt: new Date(u.receivedAt), triggers: ['recovery' as const] }));
        log.warn({ batchId: batch._id, markets: updates.map((u) => u.symbol) }, 'resending_inflight_batch');
        await deps.pushes.clearInflight(batch._id);
        if (updates.length > 0) await pushBatch(updates, batch.attempt + 1, batch._id);
      }

      for (;;) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        try {
          const accounts = await deps.chain.readMarkets([...addresses.values()]);
          markets.forEach((m, i) => {
            const a = accounts[i];
            if (a && a.publishTime >= (onChain.get(m.symbol)?.publishTime ?? 0)) onChain.set(m.symbol, a);
            state.get(m.symbol)!.onChainPublishTime = onChain.get(m.symbol)?.publishTime ?? 0;
          });
          lastOk = now();
          if (health !== 'ok') setHealth('ok', 'RPC answers');
        } catch (e) {
          rpcFailed('getMultipleAccounts', e);
          report();
          await sleep(opts.pollMs, ctx.cancellationSignal);
          continue;
        }

        const nowMs = now();
        const nowSec = Math.floor(nowMs / 1000);
        const latest = new Map((await deps.prices.latest(markets.map((m) => m.pythFeedId))).map((d) => [d.feedId, d]));
        const due: InflightUpdate[] = [];
        const skipped: Omit<PushDoc, 'recordedAt'>[] = [];
        for (const m of markets) {
          const s = state.get(m.symbol)!;
          const chainPrice = onChain.get(m.symbol);
          deps.metrics.onChainAge.set({ symbol: m.symbol }, chainPrice?.publishTime ? nowSec - chainPrice.publishTime : Number.NaN);
          const doc = latest.get(m.pythFeedId);
          if (!doc) continue;
          deps.metrics.onChainLag.set({ symbol: m.symbol }, Math.max(0, doc.publishTime - (chainPrice?.publishTime ?? 0)));
          const candidate = fromLatestDoc(doc);
          const decision = doc.stale
            ? ({ push: false, reason: 'stale' } as const)
            : decidePush({ candidate, onChain: chainPrice, now: nowSec, policy: m.push, bounds: m.validation });
          const update = { symbol: m.symbol, feedId: m.pythFeedId, price: doc.price, conf: doc.conf, expo: doc.expo, publishTime: doc.publishTime, receivedAt: doc.receivedAt };
          if (!decision.push) {
            const holding = SKIP_REASONS_RECORDED.has(decision.reason) ? decision.reason : undefined;
            if (holding && holding !== s.holding) {
              skipped.push({ ...update, batchId: 'none', attempt: 0, triggers: [], decidedAt: new Date(nowMs), outcome: 'skipped', error: `not pushable: ${holding}` });
              deps.metrics.pushes.inc({ symbol: m.symbol, outcome: 'skipped' });
            }
            s.holding = holding;
            continue;
          }
          s.holding = undefined;
          due.push({ ...update, triggers: decision.triggers });
        }
        await deps.pushes.record(skipped);

        const alone = due.filter((u) => isolate.has(u.symbol)).map((u) => [u]);
        const together = due.filter((u) => !isolate.has(u.symbol));
        const batches = [...alone];
        for (let i = 0; i < together.length; i += opts.maxMarketsPerTx) batches.push(together.slice(i, i + opts.maxMarketsPerTx));
        const outcomes = await Promise.all(
          batches.map((b) =>
            pushBatch(b, 1).catch((e): BatchOutcome => ({ status: 'unreachable', detail: (e as Error).message })),
          ),
        );
        const unreachable = outcomes.find((o): o is Extract<BatchOutcome, { status: 'unreachable' }> => o.status === 'unreachable');
        if (unreachable) rpcFailed('sendTransaction', new Error(unreachable.detail));
        report();
        await sleep(opts.pollMs, ctx.cancellationSignal);
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;
