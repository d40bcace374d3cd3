import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { HermesClient } from '@pythnetwork/hermes-client';
import type { Logger } from 'pino';
import type { PriceBusPublisher } from '../../bus/roles.ts';
import type { IngestMode } from '../../contracts/status.ts';
import { SOURCE_UNAVAILABLE, UNKNOWN_FEED_GROUP, type RetentionResult, type SourceProgress } from '../../contracts/temporal.ts';
import type { Market, MarketIndex } from '../../domain/markets.ts';
import { parseCoinGeckoPrices, parseHermesMessage } from '../../domain/payload.ts';
import type { Source } from '../../domain/price.ts';
import { validateObservation } from '../../domain/validation.ts';
import { repeatingLog } from '../../runtime/logger.ts';
import type { LatestPrices, PriceHistory, PushLog, Rejections } from '../../store/roles.ts';
import { SourceHttpError, type CoinGeckoSource } from './coingecko.ts';
import type { IngestMetrics } from './metrics.ts';
import { Backfiller, DEFAULT_BACKFILL_OPTIONS, type BackfillOptions, type BackfillStart } from './backfill.ts';
import { IngestPipeline, type Role } from './pipeline.ts';
import { PriceBook } from './price-book.ts';
import { PriceWriter, type PriceWriterOptions } from './price-writer.ts';
import { SourceHealth, problemOfStatus } from './source-health.ts';

export interface IngestOptions {
  /** No accepted Pyth price for this long: the stream counts as silent (a single feed: that feed). */
  silenceMs: number;
  /** CoinGecko poll interval while it is the primary source, and while it only cross-checks Pyth. */
  pollPrimaryMs: number;
  pollCrosscheckMs: number;
  /** CoinGecko without a good poll for this long counts as down. */
  fallbackDownMs: number;
  /** How often a running source activity reports progress to its workflow. */
  progressEveryMs: number;
  /** How long an activity waits for the store when it starts (a hung database must not stop the live path). */
  storeWaitMs: number;
  /** Filling the history gap a Pyth stream restart leaves (`liveWaitMs` defaults to `silenceMs`). */
  backfill: Partial<BackfillOptions>;
}

export const DEFAULT_INGEST_OPTIONS: IngestOptions = {
  silenceMs: 3_000,
  pollPrimaryMs: 1_000,
  pollCrosscheckMs: 10_000,
  fallbackDownMs: 3_000,
  progressEveryMs: 5_000,
  storeWaitMs: 2_000,
  backfill: {},
};

export interface IngestStore {
  latest: LatestPrices;
  history: PriceHistory;
  rejections: Rejections;
  /** Only for retention: the push log's days are dropped by the same schedule. */
  pushes: Pick<PushLog, 'prune'>;
}

export interface IngestDeps {
  markets: MarketIndex;
  store: IngestStore;
  bus: PriceBusPublisher;
  hermes: HermesClient;
  coingecko: CoinGeckoSource;
  /** Signals the running workflow (the worker builds it on a Temporal client). */
  reportProgress: (workflowId: string, progress: SourceProgress) => Promise<void>;
  metrics: IngestMetrics;
  log: Logger;
  /** The writer's journal folder and limits (the worker passes its own; tests may too). */
  writer: PriceWriterOptions;
  now?: () => number;
  options?: Partial<IngestOptions>;
}

/** How often a Pyth stream is checked for silence (and heartbeats). */
const SILENCE_TICK_MS = 250;

const sourceUnavailable = (message: string) => ApplicationFailure.create({ type: SOURCE_UNAVAILABLE, message, nonRetryable: true });

function groupMarkets(markets: MarketIndex, feedGroup: string): readonly Market[] {
  const group = markets.groups().get(feedGroup);
  if (!group) throw ApplicationFailure.create({ type: UNKNOWN_FEED_GROUP, message: `no markets in feed group ${feedGroup}`, nonRetryable: true });
  return group;
}

/** The source a mode serves: CoinGecko while on the fallback (or stale), Pyth otherwise. */
const servedBy = (mode: IngestMode): Source => (mode === 'coingecko' || mode === 'stale' ? 'coingecko' : 'pyth');

export function createIngestActivities(deps: IngestDeps) {
  const now = deps.now ?? Date.now;
  const opts = { ...DEFAULT_INGEST_OPTIONS, ...deps.options };
  const book = new PriceBook();
  // One writer per process: a batch that failed keeps retrying even after its activity ended.
  const writer = new PriceWriter(deps.store, deps.markets, deps.log.child({ module: 'price-writer' }), deps.metrics, deps.writer, now);
  const serving = new Map<string, Source>();
  const health = new Map<string, SourceHealth>();
  const logRepeated = repeatingLog(deps.log.child({ module: 'ingest' }));
  const pipeline = new IngestPipeline({
    markets: deps.markets,
    book,
    writer,
    bus: deps.bus,
    metrics: deps.metrics,
    log: deps.log,
    serving: (group) => serving.get(group) ?? 'pyth',
    now,
  });

  const backfiller = new Backfiller({
    hermes: deps.hermes,
    pipeline,
    markets: deps.markets,
    metrics: deps.metrics,
    log: deps.log,
    now,
    options: { ...DEFAULT_BACKFILL_OPTIONS, liveWaitMs: opts.silenceMs, ...opts.backfill },
  });

  const healthOf = (feedGroup: string) => {
    let h = health.get(feedGroup);
    if (!h) health.set(feedGroup, (h = new SourceHealth(feedGroup, groupMarkets(deps.markets, feedGroup), now)));
    return h;
  };
  const announceHealth = (feedGroup: string) => {
    const report = healthOf(feedGroup).changed();
    if (report) deps.bus.publishStatus(report);
  };

  /**
   * Seeds validation's memory from the store, waiting at most `storeWaitMs`: with the database down
   * or hung the live path goes on from what this process remembers, and the load finishes later.
   */
  async function loadBook(feedIds: readonly string[]): Promise<void> {
    const load = book.load(deps.store.latest, feedIds);
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([load.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), opts.storeWaitMs)))]).catch((e: Error) => {
      logRepeated('warn', `book:${e.message}`, { err: e.message }, 'price_book_load_failed');
      return true;
    });
    clearTimeout(timer);
    if (!waited) {
      deps.log.warn({ waitedMs: opts.storeWaitMs }, 'price_book_load_slow');
      load.catch(() => undefined);
    }
  }

  /**
   * Writes what a source activity accepted before it ends, waiting at most `ms`: with the database
   * hung, a source switch (Pyth failing over to CoinGecko) must not wait for it. What is not written
   * yet stays with the writer, which keeps retrying after the activity ended.
   */
  async function flushWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([writer.flush(true).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Heartbeats, writer checks and throttled progress signals for a long-running source activity. */
  function supervise(source: Source, tally: Omit<SourceProgress, 'source'>) {
    const ctx = Context.current();
    const workflowId = ctx.info.workflowExecution?.workflowId;
    let lastReport = 0;
    let lastHealthy: boolean | undefined;
    return {
      tick(force = false): void {
        ctx.heartbeat({ ...tally, backlog: writer.backlog });
        const due = now() - lastReport >= opts.progressEveryMs || tally.healthy !== lastHealthy || force;
        if (workflowId && due) {
          lastReport = now();
          lastHealthy = tally.healthy;
          deps.reportProgress(workflowId, { source, ...tally }).catch((e) => logRepeated('warn', `progress:${(e as Error).message}`, { err: (e as Error).message }, 'progress_signal_failed'));
        }
      },
      cancelled: ctx.cancelled,
      signal: ctx.cancellationSignal,
    };
  }

  /** Feeds Hermes does not carry (it answers only for known ids when asked to ignore the others). */
  async function unknownToHermes(ids: readonly string[]): Promise<string[]> {
    const update = await deps.hermes.getLatestPriceUpdates([...ids], { parsed: true, encoding: 'hex', ignoreInvalidPriceIds: true }, { signal: AbortSignal.timeout(3_000) });
    const known = new Set((update.parsed ?? []).map((p) => p.id.toLowerCase().replace(/^0x/, '')));
    return ids.filter((id) => !known.has(id));
  }

  const activities = {
    /**
     * Consumes the Hermes SSE stream for a feed group until it fails or goes silent (then throws
     * SourceUnavailable for the workflow to fall back) or the workflow cancels it.
     */
    async streamPyth(input: { feedGroup: string }): Promise<SourceProgress> {
      const group = groupMarkets(deps.markets, input.feedGroup);
      const ids = group.map((m) => m.pythFeedId);
      const h = healthOf(input.feedGroup);
      serving.set(input.feedGroup, 'pyth');
      await loadBook(ids);
      // Where history stands before the stream moves the book on: the gap is filled from here.
      const backfillFrom = ids.map((feedId): BackfillStart => {
        const anchor = book.latest(feedId, 'pyth');
        const last = book.context(feedId, 'pyth').lastAccepted;
        return { feedId, ...(last && { lastKnown: last.publishTime }), ...(anchor && { anchor }) };
      });
      const firstLive = new Map<string, number>();
      const tally: Omit<SourceProgress, 'source'> = { healthy: false, accepted: 0, rejected: 0, failures: 0 };
      const watch = supervise('pyth', tally);
      const log = deps.log.child({ module: 'pyth-stream', feedGroup: input.feedGroup });
      // Markets Hermes does not carry get no price from it, ever: say so per market, stream the rest.
      const unknown = new Set(await unknownToHermes(ids).catch(() => [] as string[]));
      h.set('pyth', group.filter((m) => unknown.has(m.pythFeedId)).map((m) => m.symbol), { reason: 'unknown_feed', detail: 'Hermes does not carry this feed id' });
      announceHealth(input.feedGroup);
      const stream = await deps.hermes.getPriceUpdatesStream(ids, { parsed: true, encoding: 'hex', ignoreInvalidPriceIds: true });
      // Beside the stream, never before it: it waits for the stream's first updates to know where the gap ends.
      void backfiller.start(input.feedGroup, backfillFrom, () => firstLive);
      const started = now();
      let lastAcceptedAt = started;
      const lastBySymbol = new Map<string, number>();
      let timer: NodeJS.Timeout | undefined;
      try {
        return await new Promise<SourceProgress>((_resolve, reject) => {
          const fail = (kind: string, message: string, status?: number) => {
            deps.metrics.sourceFailures.inc({ source: 'pyth', kind });
            logRepeated('warn', `pyth:${kind}:${status ?? ''}`, { kind, status, detail: message }, 'pyth_stream_failed');
            if (kind !== 'silence') h.set('pyth', group.filter((m) => !unknown.has(m.pythFeedId)).map((m) => m.symbol), problemOfStatus(status, message));
            else h.set('pyth', group.filter((m) => !unknown.has(m.pythFeedId)).map((m) => m.symbol), { reason: 'silent', detail: message });
            announceHealth(input.feedGroup);
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
              for (const p of r.accepted) {
                lastBySymbol.set(p.symbol, lastAcceptedAt);
                if (!firstLive.has(p.feedId)) firstLive.set(p.feedId, p.publishTime);
              }
              tally.lastPublishTime = Math.max(tally.lastPublishTime ?? 0, ...r.accepted.map((p) => p.publishTime));
              if (!tally.healthy) {
                tally.healthy = true;
                watch.tick(true);
              }
            }
          };
          stream.onerror = (event: Event & { code?: number; message?: string }) => {
            fail('stream_error', `Hermes stream failed${event.code ? ` (HTTP ${event.code})` : ''}: ${event.message ?? 'connection lost'}`, event.code);
          };
          let lastTick = now();
          timer = setInterval(() => {
            const t = now();
            // A tick far behind schedule means this process was stalled (a burst to work through, a
            // GC pause, a starved CPU), not that Pyth was silent: what it sent meanwhile is still
            // unread in the socket, and timers run before I/O. Silence counts only time we listened.
            const stalledMs = t - lastTick - SILENCE_TICK_MS;
            lastTick = t;
            if (stalledMs > SILENCE_TICK_MS) lastAcceptedAt = Math.min(t, lastAcceptedAt + stalledMs);
            if (t - lastAcceptedAt > opts.silenceMs) {
              fail('silence', `no accepted Pyth price for ${t - lastAcceptedAt} ms`);
              return;
            }
            // The stream lives, but single feeds may be quiet: each is a problem of its own market.
            for (const m of group) {
              if (unknown.has(m.pythFeedId)) continue;
              const quietFor = t - (lastBySymbol.get(m.symbol) ?? started);
              h.set('pyth', [m.symbol], quietFor > opts.silenceMs ? { reason: 'silent', detail: `no accepted Pyth price for ${Math.round(quietFor / 1000)} s` } : undefined);
            }
            announceHealth(input.feedGroup);
            try {
              watch.tick();
            } catch (e) {
              reject(e);
            }
          }, SILENCE_TICK_MS);
          // Cancellation (the workflow switching source, pausing) ends the activity as cancelled.
          watch.cancelled.catch((e) => reject(e));
        });
      } finally {
        clearInterval(timer);
        stream.close();
        await flushWithin(opts.storeWaitMs);
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
      const h = healthOf(input.feedGroup);
      if (input.role === 'primary') serving.set(input.feedGroup, 'coingecko');
      await loadBook(group.map((m) => m.pythFeedId));
      const tally: Omit<SourceProgress, 'source'> = { healthy: true, accepted: 0, rejected: 0, failures: 0 };
      const watch = supervise('coingecko', tally);
      const log = deps.log.child({ module: 'coingecko-poll', feedGroup: input.feedGroup, role: input.role });
      const logPoll = repeatingLog(log);
      const interval = input.role === 'primary' ? opts.pollPrimaryMs : opts.pollCrosscheckMs;
      let lastGoodPoll = now();
      let cancelled = false;
      watch.cancelled.catch(() => (cancelled = true));
      try {
        while (!cancelled) {
          try {
            const body = await deps.coingecko.simplePrice(ids, watch.signal);
            const parsed = parseCoinGeckoPrices(body, deps.markets, ids);
            // A fallback still polling after Pyth came back is only a cross-check now.
            const role: Role = input.role === 'primary' && serving.get(input.feedGroup) === 'coingecko' ? 'primary' : 'crosscheck';
            const r = pipeline.handle('coingecko', parsed, body, role);
            tally.accepted += r.accepted.length;
            tally.rejected += r.rejected;
            if (r.accepted.length + r.duplicates > 0) lastGoodPoll = now();
            if (r.accepted.length > 0) tally.lastPublishTime = Math.max(tally.lastPublishTime ?? 0, ...r.accepted.map((p) => p.publishTime));
            h.clear('coingecko');
            if (parsed.ok && parsed.missing && parsed.missing.length > 0) {
              const missing = new Set(parsed.missing);
              h.set('coingecko', group.filter((m) => missing.has(m.coingeckoId)).map((m) => m.symbol), { reason: 'unknown_feed', detail: 'CoinGecko returned no price for this id' });
              logPoll('warn', `missing:${parsed.missing.join(',')}`, { missing: parsed.missing }, 'coingecko_ids_missing');
            }
          } catch (e) {
            if (cancelled) break;
            tally.failures += 1;
            deps.metrics.sourceFailures.inc({ source: 'coingecko', kind: 'poll' });
            tally.detail = (e as Error).message.slice(0, 200);
            const status = e instanceof SourceHttpError ? e.status : undefined;
            h.set('coingecko', group.map((m) => m.symbol), problemOfStatus(status, tally.detail));
            logPoll('warn', `poll:${status ?? tally.detail}`, { status, err: tally.detail }, 'coingecko_poll_failed');
          }
          announceHealth(input.feedGroup);
          tally.healthy = now() - lastGoodPoll <= opts.fallbackDownMs;
          watch.tick();
          await Promise.race([new Promise((r) => setTimeout(r, interval)), watch.cancelled.catch(() => undefined)]);
        }
        throw watch.signal.reason ?? new Error('cancelled');
      } finally {
        await flushWithin(opts.storeWaitMs);
      }
    },

    /** One request for the latest Pyth prices: healthy when at least one is valid and fresh. */
    async probePyth(input: { feedGroup: string }): Promise<{ healthy: boolean; detail: string }> {
      const group = groupMarkets(deps.markets, input.feedGroup);
      try {
        const update = await deps.hermes.getLatestPriceUpdates(
          group.map((m) => m.pythFeedId),
          { parsed: true, encoding: 'hex', ignoreInvalidPriceIds: true },
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

    /**
     * Tells every consumer (through the bus) what the group's prices are based on now, and which
     * source this process serves from. The stale mark in the store is written by the writer, in the
     * background: a database that is down or hung must not hold up a switch of source.
     */
    async publishIngestStatus(input: { feedGroup: string; mode: IngestMode; reason: string }): Promise<void> {
      const group = groupMarkets(deps.markets, input.feedGroup);
      const stale = input.mode === 'stale';
      if (input.mode !== 'paused') serving.set(input.feedGroup, servedBy(input.mode));
      deps.bus.publishStatus({ kind: 'ingest', scope: `ingest:${input.feedGroup}`, symbols: group.map((m) => m.symbol), mode: input.mode, stale, reason: input.reason });
      writer.markStale(group.map((m) => m.pythFeedId), stale, new Date(now()));
      deps.log.info({ feedGroup: input.feedGroup, mode: input.mode, reason: input.reason }, 'ingest_mode');
    },

    /** Retention (FerretDB has no TTL indexes): drops the days of history, pushes and rejections past their age. */
    async pruneHistory(input: { historyDays: number; rejectionDays: number }): Promise<RetentionResult> {
      const nowMs = now();
      const [history, pushes, rejections] = await Promise.all([
        deps.store.history.prune(Math.floor(nowMs / 1000) - input.historyDays * 86_400),
        deps.store.pushes.prune(new Date(nowMs - input.historyDays * 86_400_000)),
        deps.store.rejections.prune(new Date(nowMs - input.rejectionDays * 86_400_000)),
      ]);
      return { historyDays: history.days, pushDays: pushes.days, rejectionDays: rejections.days };
    },
  };

  return {
    activities,
    writer,
    /** Gap filling after stream restarts: stop it before the writer closes. */
    backfill: backfiller,
    /** Learns of a mode switch decided elsewhere (another ingest process ran publishIngestStatus). */
    takeIngestMode(feedGroup: string, mode: IngestMode): void {
      if (mode !== 'paused') serving.set(feedGroup, servedBy(mode));
    },
  };
}

export type IngestActivities = ReturnType<typeof createIngestActivities>['activities'];
