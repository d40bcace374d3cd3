import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { LivePrice, PriceFollower } from '../../bus/follower.ts';
import type { PriceBusPublisher } from '../../bus/roles.ts';
import type { WalletAlerts } from '../../bus/wallet-alerts.ts';
import type { LiquidationResult, LiquidationSagaInput } from '../../contracts/temporal.ts';
import { format, PRICE_DECIMALS } from '../../domain/decimal.ts';
import type { MarketIndex } from '../../domain/markets.ts';
import type { Liquidations, WalletAlertLog } from '../../store/roles.ts';
import { PositionScanner, type ScanDecisions, type TrackedPosition } from './scanner.ts';

/**
 * The saga's steps (workflows/liquidation-saga.ts), each an activity with its clients injected:
 * the claim in the store, the price's freshness on-chain (asking the sync to push when it is not),
 * the `liquidate` transaction, the record and the trader's alert. The program's refusals are
 * non-retryable failures typed by the program's error name; RPC failures are plain errors Temporal
 * retries with backoff.
 */

/** What a landed (or refused) `liquidate` tells. */
export type LiquidateOutcome =
  | {
      status: 'confirmed';
      /** How long the simulation and the landing took, ms (for the log). */
      timings?: { simulatedMs: number; landedMs: number };
      signature: string;
      slot: number;
      /** From the program's liquidation log. */
      sizeLiquidated: bigint;
      remainingSize: bigint;
      price: bigint;
      keeperFee: bigint;
      insuranceFee: bigint;
      badDebt: bigint;
    }
  | { status: 'refused'; name: string; detail: string };

/** The chain as a keeper sees it (`chain.ts` implements it on @solana/web3.js). */
export interface LiquidationChain {
  /** This keeper's identity (its authority, base58). */
  readonly keeper: string;
  /** Every open position of the program, read now. */
  loadPositions(): Promise<TrackedPosition[]>;
  /** Follows position accounts as they change; resolves to a function that stops. */
  watchPositions(onChange: (p: TrackedPosition) => void): Promise<() => Promise<void>>;
  /** The newest publish time the program can use for the market's price now (pushed or pinned Pyth). */
  usablePublishTime(symbol: string): Promise<number | undefined>;
  /** Simulates, sends with a compute-unit limit from the simulation and the priority fee, confirms; resends on blockhash expiry. Throws on RPC failure. */
  liquidate(p: { position: string; owner: string; symbol: string }): Promise<LiquidateOutcome>;
  /**
   * The liquidation that ended this round of the trade, if one happened since the scanner saw it
   * (`lastLiquidationSlot` moved): by this keeper (an attempt that landed before its worker died) or another.
   */
  landedSince(p: { position: string; openSlot: string; lastLiquidationSlot: string }): Promise<(Extract<LiquidateOutcome, { status: 'confirmed' }> & { keeper: string }) | undefined>;
}

export interface LiquidationDeps {
  markets: MarketIndex;
  chain: LiquidationChain;
  liquidations: Liquidations;
  alertLog: WalletAlertLog;
  alerts: WalletAlerts;
  bus: PriceBusPublisher;
  registry: Registry;
  log: Logger;
  now?: () => number;
  /** How long to wait for the sync to push a fresh price, ms. */
  freshWaitMs?: number;
  /** The live prices (the bus, through the store when it is down). */
  prices: PriceFollower;
  /** Starts `liquidationSaga` with id `liquidate-<position>-<open slot>`; a second start of a running one is a no-op. */
  startSaga: (input: LiquidationSagaInput) => Promise<void>;
  /** How close to maintenance a trader is warned, basis points. */
  warnBufferBps?: number;
  /** A full read of the chain's positions at least this often, ms (the subscriptions are the fast path). */
  resyncEveryMs?: number;
}

export const PRICE_NOT_FRESH = 'PriceNotFresh';

export function keeperMetrics(registry: Registry) {
  return {
    attempts: new Counter({ name: 'qd_keeper_liquidation_attempts_total', help: 'liquidate transactions sent by this keeper', registers: [registry] }),
    outcomes: new Counter({ name: 'qd_keeper_liquidation_outcomes_total', help: 'Saga outcomes seen by this keeper, by name', labelNames: ['outcome'] as const, registers: [registry] }),
    latency: new Histogram({ name: 'qd_keeper_liquidation_latency_seconds', help: 'From detection to confirmed liquidation', buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10], registers: [registry] }),
    fees: new Counter({ name: 'qd_keeper_fees_earned_quote_total', help: 'Keeper fees earned, quote units (10⁻⁶ USD)', registers: [registry] }),
  };
}

const usd = (price: bigint) => format({ mantissa: price, scale: PRICE_DECIMALS }, 4);

export function createLiquidationActivities(deps: LiquidationDeps) {
  const now = deps.now ?? Date.now;
  const metrics = keeperMetrics(deps.registry);
  const log = deps.log.child({ module: 'liquidation', keeper: deps.chain.keeper });

  /**
   * Sagas this process started lately: a position stays underwater for several price ticks (until
   * the chain shows it liquidated), and each would ask Temporal again for a saga that is running.
   */
  const started = new Map<string, number>();
  const RESTART_AFTER_MS = 15_000;

  /** Starts the sagas and sends the warnings a scan decided. */
  async function act(d: ScanDecisions): Promise<void> {
    const t = now();
    for (const [id, at] of started) if (t - at > RESTART_AFTER_MS) started.delete(id);
    const fresh = d.sagas.filter((input) => {
      const id = `${input.position}:${input.openSlot}:${input.lastLiquidationSlot}`;
      if (started.has(id)) return false;
      started.set(id, t);
      return true;
    });
    await Promise.all(
      fresh.map((input) =>
        deps.startSaga(input).catch((e: Error) => {
          started.delete(`${input.position}:${input.openSlot}:${input.lastLiquidationSlot}`);
          log.warn({ position: input.position, err: e.message }, 'saga_start_failed');
        }),
      ),
    );
    for (const w of d.warnings) {
      deps.alerts.marginWarning(w);
      await deps.alertLog.record({ wallet: w.wallet, kind: 'margin-warning', alert: w, at: new Date(w.at) }).catch((e: Error) => log.warn({ err: e.message }, 'alert_record_failed'));
    }
  }

  return {
    /**
     * The scanner (run by the long-lived `liquidationScanner` workflow): every open position in
     * memory from the chain, re-valued on each price the bus brings; below maintenance → a saga.
     */
    async runScanner(): Promise<never> {
      const ctx = Context.current();
      const scanner = new PositionScanner(deps.markets, deps.warnBufferBps ?? 250, now);
      scanner.reset(await deps.chain.loadPositions());
      const pending: LivePrice[][] = [];
      let wake: (() => void) | undefined;
      const offPrices = deps.prices.onPrices((prices) => {
        pending.push(prices);
        wake?.();
      });
      const stopWatching = await deps.chain.watchPositions((p) => {
        scanner.upsert(p);
        // A changed position is judged at once against the latest prices.
        const latest = deps.prices.get(p.symbol);
        if (latest) pending.push([latest]);
        wake?.();
      });
      let lastResync = now();
      const ticker = setInterval(() => wake?.(), 1_000);
      ctx.cancellationSignal.addEventListener('abort', () => wake?.(), { once: true });
      try {
        await act(scanner.evaluate(deps.prices.all()));
        for (;;) {
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
          if (pending.length === 0) await new Promise<void>((r) => (wake = r));
          wake = undefined;
          if (now() - lastResync >= (deps.resyncEveryMs ?? 60_000)) {
            scanner.reset(await deps.chain.loadPositions());
            lastResync = now();
            pending.push(deps.prices.all());
          }
          const batch = pending.splice(0).flat();
          if (batch.length > 0) await act(scanner.evaluate(batch));
          ctx.heartbeat({ positions: scanner.size });
        }
      } finally {
        clearInterval(ticker);
        offPrices();
        await stopWatching();
      }
    },

    /** One full scan (the `liquidation-scan` schedule's backstop): the chain's positions against the latest prices. */
    async scanOnce(): Promise<{ positions: number; sagas: number }> {
      const scanner = new PositionScanner(deps.markets, deps.warnBufferBps ?? 250, now);
      scanner.reset(await deps.chain.loadPositions());
      const d = scanner.evaluate(deps.prices.all());
      // Warnings belong to the live scanner, which knows the crossings; the backstop only liquidates.
      await act({ sagas: d.sagas, warnings: [] });
      return { positions: scanner.size, sagas: d.sagas.length };
    },

    async claimLiquidation(p: { id: string; input: LiquidationSagaInput }): Promise<boolean> {
      const { input } = p;
      log.debug({ position: input.position, sinceDetectionMs: now() - input.detectedAt }, 'liquidation_claiming');
      return deps.liquidations.claim({ _id: p.id, position: input.position, owner: input.owner, symbol: input.symbol, openSlot: input.openSlot, detectedAt: new Date(input.detectedAt), claimant: deps.chain.keeper });
    },

    /** Compensation of the claim: gives it back, with why the attempt failed. */
    async releaseLiquidation(p: { id: string; reason: string }): Promise<void> {
      await deps.liquidations.release(p.id, { keeper: deps.chain.keeper, reason: p.reason.slice(0, 300) });
    },

    /**
     * The program refuses a price older than the market's liquidation bound: when neither the pushed
     * price nor the pinned Pyth account is that fresh, ask the sync to push, and wait a little.
     */
    async ensureFreshPrice(p: { symbol: string }): Promise<{ ageSec: number }> {
      const market = deps.markets.bySymbol(p.symbol);
      if (!market) throw ApplicationFailure.create({ type: 'UnknownMarket', message: p.symbol, nonRetryable: true });
      const maxAge = market.validation.maxAgeSec.liquidation;
      const deadline = now() + (deps.freshWaitMs ?? 8_000);
      let asked = false;
      for (;;) {
        const t = await deps.chain.usablePublishTime(p.symbol);
        const age = t === undefined ? Number.POSITIVE_INFINITY : Math.floor(now() / 1000) - t;
        if (age <= maxAge) {
          log.debug({ symbol: p.symbol, ageSec: age, asked }, 'liquidation_price_fresh');
          return { ageSec: age };
        }
        if (now() > deadline) throw ApplicationFailure.create({ type: PRICE_NOT_FRESH, message: `${p.symbol}: the on-chain price is ${age} s old (liquidation bound ${maxAge} s)`, nonRetryable: true });
        if (!asked) {
          deps.bus.requestPush(p.symbol);
          asked = true;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },

    async sendLiquidation(p: { input: LiquidationSagaInput }): Promise<LiquidationResult> {
      const startedAfterMs = now() - p.input.detectedAt;
      // A retry (this step's worker died, or its answer was lost) first looks whether its
      // transaction — or another keeper's — already liquidated this round of the trade. A first
      // attempt need not: no other run of this saga can be running, and a finished one holds the claim.
      const info = Context.current().info;
      const id = info.workflowExecution?.workflowId;
      const landed = info.attempt > 1 ? await deps.chain.landedSince(p.input) : undefined;
      if (landed && landed.keeper !== deps.chain.keeper) {
        // This saga's own attempt on another keeper worker (it died after sending), or someone else's.
        const doc = id === undefined ? undefined : await deps.liquidations.get(id);
        if (!doc?.senders?.includes(landed.keeper)) {
          throw ApplicationFailure.create({ type: 'LiquidatedByAnother', message: `${landed.keeper} liquidated it (${landed.signature})`, nonRetryable: true });
        }
      }
      metrics.attempts.inc();
      const checkedAfterMs = now() - p.input.detectedAt;
      if (!landed && id !== undefined) await deps.liquidations.sending(id, deps.chain.keeper);
      const o = landed ?? (await deps.chain.liquidate(p.input));
      if (o.status === 'refused') {
        log.info({ position: p.input.position, refusal: o.name }, 'liquidation_refused');
        throw ApplicationFailure.create({ type: o.name, message: o.detail.slice(0, 300), nonRetryable: true });
      }
      const latencyMs = now() - p.input.detectedAt;
      metrics.latency.observe(latencyMs / 1000);
      const keeper = landed?.keeper ?? deps.chain.keeper;
      if (keeper === deps.chain.keeper) metrics.fees.inc(Number(o.keeperFee));
      const result: LiquidationResult = {
        outcome: o.remainingSize === 0n ? 'liquidated' : 'partially-liquidated',
        keeper,
        signature: o.signature,
        slot: o.slot,
        sizeLiquidated: o.sizeLiquidated.toString(),
        price: o.price.toString(),
        keeperFee: o.keeperFee.toString(),
        insuranceFee: o.insuranceFee.toString(),
        badDebt: o.badDebt.toString(),
        latencyMs,
      };
      log.info({ position: p.input.position, ...result, timings: { startedAfterMs, checkedAfterMs, ...o.timings } }, 'liquidated');
      return result;
    },

    async completeLiquidation(p: { id: string; input: LiquidationSagaInput; result: LiquidationResult }): Promise<void> {
      metrics.outcomes.inc({ outcome: p.result.outcome });
      await deps.liquidations.complete(p.id, p.result);
    },

    async recordOutcome(p: { id: string; result: LiquidationResult }): Promise<void> {
      metrics.outcomes.inc({ outcome: p.result.outcome.startsWith('failed:') ? 'failed' : p.result.outcome });
      await deps.liquidations.note(p.id, p.result);
    },

    /** Tells the trader live (their wallet room, on every gateway) and keeps it for their history. */
    async alertTrader(p: { input: LiquidationSagaInput; result: LiquidationResult }): Promise<void> {
      const alert = {
        wallet: p.input.owner,
        position: p.input.position,
        symbol: p.input.symbol,
        outcome: p.result.outcome,
        size: p.result.sizeLiquidated ?? '0',
        price: usd(BigInt(p.result.price ?? '0')),
        ...(p.result.signature && { signature: p.result.signature }),
        at: now(),
      };
      deps.alerts.liquidation(alert);
      await deps.alertLog.record({ wallet: alert.wallet, kind: 'liquidation', alert, at: new Date(alert.at) });
    },
  };
}

export type LiquidationActivities = ReturnType<typeof createLiquidationActivities>;
