import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { HermesClient } from '@pythnetwork/hermes-client';
import type { Logger } from 'pino';
import type { Market, MarketIndex } from '../../domain/markets.ts';
import { parseCoinGeckoPrices, parseHermesMessage } from '../../domain/payload.ts';
import type { Source } from '../../domain/price.ts';
import { validateObservation } from '../../domain/validation.ts';
import type { IngestMode } from '../../server/events.ts';
import { SOURCE_UNAVAILABLE } from '../../temporal/contracts.ts';
import type { PriceStore } from '../store/prices.ts';
import type { CoinGeckoSource } from './coingecko.ts';
import type { IngestMetrics } from './metrics.ts';
import { IngestPipeline, type Role } from './pipeline.ts';
import { PriceBook } from './price-book.ts';
import { PriceWriter } from './price-writer.ts';
import type { PricePublisher } from './publisher.ts';

/** What a source activity tells its workflow while it runs (by signal), and when it ends. */
export interface SourceProgress {
  source: Source;
  /** Whether the source is delivering good prices right now. */
  healthy: boolean;
  /** Newest accepted publish time (unix seconds). */
  lastPublishTime?: number;
  accepted: number;
  rejected: number;
  failures: number;
  detail?: string;
}

export interface IngestOptions {
  /** No accepted Pyth price for this long: the stream counts as silent. */
  silenceMs: number;
  /** CoinGecko poll interval while it is the primary source, and while it only cross-checks Pyth. */
  pollPrimaryMs: number;
  pollCrosscheckMs: number;
  /** CoinGecko without a good poll for this long counts as down. */
  fallbackDownMs: number;
  /** How often a running source activity reports progress to its workflow. */
  progressEveryMs: number;
}

export const DEFAULT_INGEST_OPTIONS: IngestOptions = {
  silenceMs: 3_000,
  pollPrimaryMs: 1_000,
  pollCrosscheckMs: 10_000,
  fallbackDownMs: 3_000,
  progressEveryMs: 5_000,
};

export interface IngestDeps {
  markets: MarketIndex;
  store: PriceStore;
  publisher: PricePublisher;
  hermes: HermesClient;
  coingecko: CoinGeckoSource;
  /** Signals the running workflow (the worker builds it on a Temporal client). */
  reportProgress: (workflowId: string, progress: SourceProgress) => Promise<void>;
  metrics: IngestMetrics;
  log: Logger;
  now?: () => number;
  options?: Partial<IngestOptions>;
}


const sourceUnavailable = (message: string) => ApplicationFailure.create({ type: SOURCE_UNAVAILABLE, message, nonRetryable: true });

function groupMarkets(markets: MarketIndex, feedGroup: string): Market[] {
  const group = markets.groups().get(feedGroup);
  if (!group) throw ApplicationFailure.create({ type: 'UnknownFeedGroup', message: `no markets in feed group ${feedGroup}`, nonRetryable: true });
  return group;
}

export function createIngestActivities(deps: IngestDeps) {
  const now = deps.now ?? Date.now;
  const opts = { ...DEFAULT_INGEST_OPTIONS, ...deps.options };
  const book = new PriceBook();
  // One writer per process: a batch that failed keeps retrying even after its activity ended.
  const writer = new PriceWriter(deps.store, deps.log.child({ module: 'price-writer' }));
  const pipeline = new IngestPipeline({ markets: deps.markets, book, writer, publisher: deps.publisher, metrics: deps.metrics, log: deps.log, now });

  /** Heartbeats, backlog checks and throttled progress signals for a long-running source activity. */
  function supervise(source: Source, tally: Omit<SourceProgress, 'source'>) {
    const ctx = Context.current();
    const workflowId = ctx.info.workflowExecution?.workflowId;
    let lastReport = 0;
    let lastHealthy: boolean | undefined;
    return {
      tick(force = false): void {
        ctx.heartbeat({ ...tally, backlog: writer.backlog });
        deps.metrics.writeBacklog.set(writer.backlog);
        writer.assertHealthy();
        const due = now() - lastReport >= opts.progressEveryMs || tally.healthy !== lastHealthy || force;
        if (workflowId && due) {
          lastReport = now();
          lastHealthy = tally.healthy;
          deps.reportProgress(workflowId, { source, ...tally }).catch((e) => deps.log.warn({ err: (e as Error).message }, 'progress_signal_failed'));
        }
      },
      cancelled: ctx.cancelled,
      signal: ctx.cancellationSignal,
    };
  }

  return {
    /**
     * Consumes the Hermes SSE stream for a feed group until it fails or goes silent (then throws
     * SourceUnavailable for the workflow to fall back) or the workflow cancels it.
     */
    async streamPyth(input: { feedGroup: string }): Promise<SourceProgress> {
      const group = groupMarkets(deps.markets, input.feedGroup);
      const ids = group.map((m) => m.pythFeedId);
      await book.load(deps.store, ids);
      const tally: Omit<SourceProgress, 'source'> = { healthy: false, accepted: 0, rejected: 0, failures: 0 };
      const watch = supervise('pyth', tally);
      const stream = await deps.hermes.getPriceUpdatesStream(ids, { parsed: true, encoding: 'hex' });
      let lastAcceptedAt = now();
      let timer: NodeJS.Timeout | undefined;
      const log = deps.log.child({ module: 'pyth-stream', feedGroup: input.feedGroup });
      try {
        return await new Promise<SourceProgress>((_resolve, reject) => {
          const fail = (kind: string, message: string) => {
            deps.metrics.sourceFailures.inc({ source: 'pyth', kind });
            log.warn({ kind, detail: message }, 'pyth_stream_failed');
            reject(sourceUnavailable(message));
          };
          stream.onopen = () => log.info({ feeds: ids.length }, 'pyth_stream_open');
          stream.onmessage = (event: MessageEvent) => {
            const data = String(event.data);
            const r = pipeline.handle('pyth', parseHermesMessage(data), data, 'primary');
            tally.accepted += r.accepted.length;
            tally.rejected += r.rejected;
            if (r.accepted.length > 0) {
              lastAcceptedAt = now();
              tally.lastPublishTime = Math.max(tally.lastPublishTime ?? 0, ...r.accepted.map((p) => p.publishTime));
              if (!tally.healthy) {
                tally.healthy = true;
                watch.tick(true);
              }
            }
          };
          stream.onerror = (event: Event & { code?: number; message?: string }) => {
            fail('stream_error', `Hermes stream failed${event.code ? ` (HTTP ${event.code})` : ''}: ${event.message ?? 'connection lost'}`);
          };
          timer = setInterval(() => {
            if (now() - lastAcceptedAt > opts.silenceMs) {
              fail('silence', `no accepted Pyth price for ${now() - lastAcceptedAt} ms`);
              return;
            }
            try {
              watch.tick();
            } catch (e) {
              reject(e);
            }
          }, 250);
          // Cancellation (the workflow switching source, pausing) ends the activity as cancelled.
          watch.cancelled.catch((e) => reject(e));
        });
      } finally {
        clearInterval(timer);
        stream.close();
        await writer.flush(true);
      }
    },

    /**
     * Polls CoinGecko until cancelled: as the primary source while Pyth is down (its prices are
     * served), or as a cross-check while Pyth is live (stored and compared, not served). Reports
     * itself unhealthy when no poll has succeeded for `fallbackDownMs`.
     */
    async pollCoinGecko(input: { feedGroup: string; role: Role }): Promise<SourceProgress> {
      const group = groupMarkets(deps.markets, input.feedGroup);
      const ids = group.map((m) => m.coingeckoId);
      await book.load(deps.store, group.map((m) => m.pythFeedId));
      const tally: Omit<SourceProgress, 'source'> = { healthy: true, accepted: 0, rejected: 0, failures: 0 };
      const watch = supervise('coingecko', tally);
      const log = deps.log.child({ module: 'coingecko-poll', feedGroup: input.feedGroup, role: input.role });
      const interval = input.role === 'primary' ? opts.pollPrimaryMs : opts.pollCrosscheckMs;
      let lastGoodPoll = now();
      let cancelled = false;
      watch.cancelled.catch(() => (cancelled = true));
      try {
        while (!cancelled) {
          try {
            const body = await deps.coingecko.simplePrice(ids, watch.signal);
            const parsed = parseCoinGeckoPrices(body, deps.markets, ids);
            const r = pipeline.handle('coingecko', parsed, body, input.role);
            tally.accepted += r.accepted.length;
            tally.rejected += r.rejected;
            if (r.accepted.length + r.duplicates > 0) lastGoodPoll = now();
            if (r.accepted.length > 0) tally.lastPublishTime = Math.max(tally.lastPublishTime ?? 0, ...r.accepted.map((p) => p.publishTime));
            if (parsed.ok && parsed.missing && parsed.missing.length > 0) log.warn({ missing: parsed.missing }, 'coingecko_ids_missing');
          } catch (e) {
            if (cancelled) break;
            tally.failures += 1;
            deps.metrics.sourceFailures.inc({ source: 'coingecko', kind: 'poll' });
            tally.detail = (e as Error).message.slice(0, 200);
            log.warn({ err: tally.detail }, 'coingecko_poll_failed');
          }
          tally.healthy = now() - lastGoodPoll <= opts.fallbackDownMs;
          watch.tick();
          await Promise.race([new Promise((r) => setTimeout(r, interval)), watch.cancelled.catch(() => undefined)]);
        }
        throw watch.signal.reason ?? new Error('cancelled');
      } finally {
        await writer.flush(true);
      }
    },

    /** One request for the latest Pyth prices: healthy when at least one is valid and fresh. */
    async probePyth(input: { feedGroup: string }): Promise<{ healthy: boolean; detail: string }> {
      const group = groupMarkets(deps.markets, input.feedGroup);
      try {
        const update = await deps.hermes.getLatestPriceUpdates(
          group.map((m) => m.pythFeedId),
          { parsed: true, encoding: 'hex' },
          { signal: AbortSignal.timeout(3_000) },
        );
        const payload = parseHermesMessage(JSON.stringify(update));
        if (!payload.ok) return { healthy: false, detail: payload.detail };
        const nowSec = Math.floor(now() / 1000);
        const fresh = payload.observations.filter((o) => {
          const market = deps.markets.byFeedId(o.feedId);
          const r = validateObservation(o, { market, now: nowSec });
          return r.ok && nowSec - r.price.publishTime <= Math.ceil(opts.silenceMs / 1000) + 1;
        });
        return fresh.length > 0
          ? { healthy: true, detail: `${fresh.length}/${group.length} feeds fresh` }
          : { healthy: false, detail: 'no fresh valid price' };
      } catch (e) {
        deps.metrics.sourceFailures.inc({ source: 'pyth', kind: 'probe' });
        return { healthy: false, detail: (e as Error).message.slice(0, 200) };
      }
    },

    /** Tells the gateway (and through it, traders) what the group's prices are based on now. */
    async publishIngestStatus(input: { feedGroup: string; mode: IngestMode; reason: string }): Promise<void> {
      const group = groupMarkets(deps.markets, input.feedGroup);
      const stale = input.mode === 'stale';
      await deps.store.markStale(group.map((m) => m.pythFeedId), stale, new Date(now()));
      deps.publisher.status({ kind: 'ingest', symbols: group.map((m) => m.symbol), mode: input.mode, stale, reason: input.reason });
      deps.log.info({ feedGroup: input.feedGroup, mode: input.mode, reason: input.reason }, 'ingest_mode');
    },

    /** Retention (FerretDB has no TTL indexes): drops history and rejections past their age. */
    async pruneHistory(input: { historyDays: number; rejectionDays: number }): Promise<{ updates: number; minutes: number; rejections: number }> {
      const nowMs = now();
      return deps.store.prune(Math.floor(nowMs / 1000) - input.historyDays * 86_400, new Date(nowMs - input.rejectionDays * 86_400_000));
    },
  };
}

export type IngestActivities = ReturnType<typeof createIngestActivities>;
