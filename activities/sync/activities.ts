import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PublicKey } from '@solana/web3.js';
import type { Logger } from 'pino';
import type { PriceFollower } from '../../bus/follower.ts';
import type { PriceBusPublisher } from '../../bus/roles.ts';
import type { ChainHealth } from '../../contracts/status.ts';
import { CHAIN_UNAVAILABLE, type MarketSyncState, type SyncProgress } from '../../contracts/temporal.ts';
import type { Market, MarketIndex } from '../../domain/markets.ts';
import { marketAddress } from '../../programs/client/quantdesk-perp.ts';
import type { PushLog } from '../../store/roles.ts';
import type { OracleChain } from './chain.ts';
import { PushDecider } from './decisions.ts';
import type { SyncMetrics } from './metrics.ts';
import { OnChainBook } from './onchain.ts';
import { PricePusher, type PushResult } from './pusher.ts';

/**
 * The on-chain sync, composed of the roles of Pyth's price pusher: the price source (the bus,
 * through a `PriceFollower`), what the chain holds (`OnChainBook`), the decision (`PushDecider`)
 * and the pusher (`PricePusher`). Woken by each price update on the bus (and once a second, for
 * heartbeats), it decides per market, lands the batches, resends what a crashed predecessor left in
 * flight, and reports health. Never pushes a stale, rejected or older price.
 */
export interface SyncOptions {
  maxMarketsPerTx: number;
  /** Without a successful RPC round trip for this long the sync is `down`. */
  downAfterMs: number;
  /** ... and after this long the activity fails, so operators see it in Temporal (which retries it). */
  failAfterMs: number;
  progressEveryMs: number;
  /** The chain is read back at least this often (else only on start and after failures). */
  verifyEveryMs: number;
  /** Decisions are made at least this often without a price update (heartbeats). */
  tickMs: number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = { maxMarketsPerTx: 8, downAfterMs: 3_000, failAfterMs: 15_000, progressEveryMs: 5_000, verifyEveryMs: 30_000, tickMs: 1_000 };

export interface SyncDeps {
  markets: MarketIndex;
  prices: PriceFollower;
  /** Keepers' requests to push a market now (the bus); returns a function that stops listening. */
  pushRequests?: (handler: (symbol: string) => void) => () => void;
  pushes: PushLog;
  chain: OracleChain;
  programId: PublicKey;
  bus: PriceBusPublisher;
  reportProgress: (workflowId: string, progress: SyncProgress) => Promise<void>;
  metrics: SyncMetrics;
  log: Logger;
  now?: () => number;
  options?: Partial<SyncOptions>;
}

export function createSyncActivities(deps: SyncDeps) {
  const now = deps.now ?? Date.now;
  const opts = { ...DEFAULT_SYNC_OPTIONS, ...deps.options };

  return {
    async runOracleSync(input: { symbols?: string[] }): Promise<never> {
      const ctx = Context.current();
      const workflowId = ctx.info.workflowExecution?.workflowId;
      const markets: Market[] = input.symbols ? input.symbols.flatMap((s) => deps.markets.bySymbol(s) ?? []) : [...deps.markets.all];
      const addresses = new Map(markets.map((m) => [m.symbol, marketAddress(m.symbol, deps.programId)]));
      const log = deps.log.child({ module: 'oracle-sync' });
      const onChain = new OnChainBook(deps.chain, addresses, opts.verifyEveryMs, now);
      const pusher = new PricePusher(deps.chain, deps.pushes, addresses, now);
      const decider = new PushDecider();
      const state = new Map<string, MarketSyncState>(markets.map((m) => [m.symbol, { onChainPublishTime: 0 }]));
      let lastOk = now();
      let health: ChainHealth = 'ok';
      let reason = 'starting';
      let pushes = 0;
      let failures = 0;
      let lastReport = 0;
      let failure: Error | undefined;

      const progress = (): SyncProgress => ({ health, reason, bus: deps.prices.busState, markets: Object.fromEntries(state), pushes, failures });
      const report = (force = false) => {
        const p = progress();
        ctx.heartbeat(p);
        if (workflowId && (force || now() - lastReport >= opts.progressEveryMs)) {
          lastReport = now();
          deps.reportProgress(workflowId, p).catch((e) => log.warn({ err: (e as Error).message }, 'progress_signal_failed'));
        }
      };
      const setHealth = (h: ChainHealth, why: string) => {
        if (h === health && why === reason) return;
        const changed = h !== health;
        health = h;
        reason = why;
        deps.metrics.health.set(h === 'ok' ? 0 : h === 'degraded' ? 1 : 2);
        if (changed) {
          log[h === 'ok' ? 'info' : 'warn']({ health: h, reason: why }, 'sync_health');
          deps.bus.publishStatus({ kind: 'chain', scope: 'chain:oracle-sync', symbols: markets.map((m) => m.symbol), health: h, reason: why });
          report(true);
        }
      };
      const rpcFailed = (call: string, e: unknown) => {
        failures += 1;
        deps.metrics.rpcFailures.inc({ call });
        onChain.distrust();
        const silentFor = now() - lastOk;
        setHealth(silentFor >= opts.downAfterMs ? 'down' : 'degraded', `${call} failed: ${(e as Error).message.slice(0, 200)}`);
        if (silentFor >= opts.failAfterMs) {
          failure = ApplicationFailure.create({ type: CHAIN_UNAVAILABLE, message: `no successful RPC call for ${silentFor} ms: ${(e as Error).message.slice(0, 200)}` });
        }
      };

      const took = (r: PushResult) => {
        for (const u of r.updates) {
          const s = state.get(u.symbol)!;
          s.lastOutcome = r.kind;
          s.lastTrigger = u.triggers.join('+');
          deps.metrics.pushes.inc({ symbol: u.symbol, outcome: r.kind });
          if (r.sentAt !== undefined) deps.metrics.stages.observe('pushed', r.sentAt - u.receivedAt.getTime());
          if (r.outcome.status === 'confirmed') {
            s.lastPushAt = r.at;
            onChain.confirmed(u.symbol, { price: BigInt(u.price), conf: BigInt(u.conf), expo: u.expo, publishTime: u.publishTime });
            deps.metrics.latency.observe((r.at - u.receivedAt.getTime()) / 1000);
            deps.metrics.stages.observe('confirmed', r.at - u.receivedAt.getTime());
          }
        }
        if (r.outcome.status === 'confirmed') {
          pushes += r.updates.length;
          lastOk = r.at;
          if (health !== 'ok') setHealth('ok', 'pushes land');
        } else if (r.outcome.status === 'unreachable') rpcFailed('sendTransaction', new Error(r.outcome.detail));
        else onChain.distrust(); // refused or expired: read what the chain holds before deciding again
        decider.outcome(r.updates, r.outcome.status === 'confirmed' ? 'confirmed' : r.outcome.status === 'rejected' ? 'rejected' : 'other');
        log[r.outcome.status === 'confirmed' ? 'debug' : 'warn']({ batchId: r.batchId, outcome: r.kind, markets: r.updates.map((u) => u.symbol), signature: r.signature }, 'push_outcome');
      };

      // What a predecessor signed but never saw the end of: send it again. If it had landed, the
      // program refuses the replay (recorded as replay_rejected); if not, it lands now.
      try {
        for (const batch of await deps.pushes.pendingInflight()) {
          const updates = batch.updates.filter((u) => addresses.has(u.symbol)).map((u) => ({ ...u, receivedAt: new Date(u.receivedAt), triggers: ['recovery' as const] }));
          log.warn({ batchId: batch._id, markets: updates.map((u) => u.symbol) }, 'resending_inflight_batch');
          if (updates.length > 0) took(await pusher.push(updates, batch.attempt + 1, batch._id, ctx.cancellationSignal));
          else await deps.pushes.clearInflight(batch._id);
        }
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'inflight_recovery_skipped');
      }

      /** One round: verify the chain if in doubt, decide for every market, land the due batches. */
      async function round(): Promise<void> {
        if (onChain.needsVerify) {
          try {
            await onChain.verify();
            lastOk = now();
            if (health !== 'ok') setHealth('ok', 'RPC answers');
          } catch (e) {
            rpcFailed('getMultipleAccounts', e);
            return;
          }
        }
        const nowMs = now();
        const nowSec = Math.floor(nowMs / 1000);
        for (const m of markets) {
          const chainPrice = onChain.get(m.symbol);
          const latest = deps.prices.get(m.symbol);
          const s = state.get(m.symbol)!;
          s.onChainPublishTime = chainPrice?.publishTime ?? 0;
          deps.metrics.onChainAge.set({ symbol: m.symbol }, chainPrice?.publishTime ? nowSec - chainPrice.publishTime : Number.NaN);
          if (latest) deps.metrics.onChainLag.set({ symbol: m.symbol }, Math.max(0, latest.publishTime - (chainPrice?.publishTime ?? 0)));
        }
        const { due, skipped } = decider.decide(markets, (s) => deps.prices.get(s), (s) => onChain.get(s), nowMs, (s) => deps.prices.modeOf(s) === 'stale');
        for (const m of markets) {
          const s = state.get(m.symbol)!;
          s.holding = decider.holding.get(m.symbol);
        }
        for (const d of skipped) deps.metrics.pushes.inc({ symbol: d.symbol, outcome: 'skipped' });
        if (skipped.length > 0) deps.pushes.record(skipped).catch((e) => log.warn({ err: (e as Error).message }, 'skip_record_failed'));
        const results = await Promise.all(decider.batches(due, opts.maxMarketsPerTx).map((b) => pusher.push(b, 1, undefined, ctx.cancellationSignal)));
        for (const r of results) took(r);
      }

      // Rounds run one at a time: a price update during a round asks for another right after it.
      let wanted = true;
      let wake: (() => void) | undefined;
      const poke = () => {
        wanted = true;
        wake?.();
      };
      const offPrices = deps.prices.onPrices(poke);
      const offRequests = deps.pushRequests?.((symbol) => {
        if (!addresses.has(symbol)) return;
        decider.request(symbol);
        poke();
      });
      const offBus = deps.prices.onBusState(() => report(true));
      const ticker = setInterval(poke, opts.tickMs);
      ctx.cancellationSignal.addEventListener('abort', poke, { once: true });
      try {
        for (;;) {
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
          if (failure) throw failure;
          if (!wanted) await new Promise<void>((r) => (wake = r));
          wake = undefined;
          wanted = false;
          await round();
          report();
        }
      } finally {
        clearInterval(ticker);
        offPrices();
        offRequests?.();
        offBus();
        await pusher.close();
      }
    },
  };
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;
