import { setTimeout as sleep } from 'node:timers/promises';
import type { HermesClient } from '@pythnetwork/hermes-client';
import type { Logger } from 'pino';
import { GapWalk, gapSeconds, planGaps, type FeedTimes, type Gap, type WalkStep } from '../../domain/backfill.ts';
import type { MarketIndex } from '../../domain/markets.ts';
import { parseHermesMessage } from '../../domain/payload.ts';
import type { ValidPrice } from '../../domain/price.ts';
import type { IngestMetrics } from './metrics.ts';
import type { IngestPipeline } from './pipeline.ts';

/**
 * Fills, in history only, the gap a Pyth stream interruption left (a killed worker, a stream error
 * and its retry, a spell on the CoinGecko fallback): per feed, from its last known update to the
 * first the new stream delivered, walked with Hermes' `/v2/updates/price/{publish_time}` (domain/
 * backfill.ts). It runs beside the live stream and never holds it up; requests are paced process-
 * wide; a failing request is retried with backoff a few times, then the gap is logged and given
 * up. An answer that arrives and cannot be read (truncated JSON, not Hermes' shape), retried alike,
 * costs its second only, unless several seconds in a row do. It never throws: the stream activity
 * knows nothing of it.
 */
export interface BackfillOptions {
  /** Longer gaps (seconds) are skipped, whole, with one log line. */
  maxGapSec: number;
  /** Requests per second to Hermes, for every backfill of this process together. */
  requestsPerSec: number;
  /** Retries of a failed request (5xx, 429, timeout, connection) before the gap is given up. */
  retries: number;
  /** First pause between retries, doubled each time, ms. */
  retryBaseMs: number;
  requestTimeoutMs: number;
  /** How long to wait for the new stream's first update of every feed before the gaps are planned up to now, ms. */
  liveWaitMs: number;
}

export const DEFAULT_BACKFILL_OPTIONS: BackfillOptions = {
  maxGapSec: 600,
  // Public Hermes allows 30 requests per 10 s per address; leave room for the rest of the worker.
  requestsPerSec: 2,
  retries: 3,
  retryBaseMs: 500,
  requestTimeoutMs: 5_000,
  liveWaitMs: 3_000,
};

export interface BackfillDeps {
  hermes: HermesClient;
  pipeline: IngestPipeline;
  markets: MarketIndex;
  metrics: IngestMetrics;
  log: Logger;
  /** Epoch milliseconds. */
  now: () => number;
  options: BackfillOptions;
}

/** Where a feed's history stood when its stream started. */
export interface BackfillStart {
  feedId: string;
  /** The publish time of the last accepted Pyth update; none: nothing to continue from. */
  lastKnown?: number;
  /** The last good Pyth price, when known: the first sanity anchor of the gap. */
  anchor?: ValidPrice;
}

export interface BackfillSummary {
  gaps: Gap[];
  skipped: Gap[];
  requests: number;
  accepted: number;
  rejected: number;
  /** Steps (a second, some feeds) given up because their answer could not be read. */
  unreadable: number;
  failed?: string;
}

/** Unreadable answers in a row after which the source is taken as broken and the gap given up. */
const UNREADABLE_IN_A_ROW = 3;

/** An answer arrived but is not Hermes' (the body is not JSON, or not of the documented shape). */
const unreadable = (e: unknown) => e instanceof SyntaxError || (e as Error)?.name === 'ZodError';

/** The HTTP status in a `@pythnetwork/hermes-client` error ("HTTP error! status: 404, body: …"). */
export function httpStatusOf(e: unknown): number | undefined {
  const m = /\bstatus: (\d{3})\b/.exec((e as Error)?.message ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Worth another try: no answer, an answer that says "later", or one that did not arrive whole. */
const retryable = (status: number | undefined) => status === undefined || status === 408 || status === 429 || status >= 500;

export class Backfiller {
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  /** Per feed, the last second a walk of this process was given: a later start never fetches it again. */
  private readonly covered = new Map<string, number>();
  /** When the next request may start (epoch ms, wall clock: the pace is about the real source). */
  private nextRequestAt = 0;

  constructor(private readonly deps: BackfillDeps) {}

  /**
   * Starts filling the gaps of a feed group in the background: waits (at most `liveWaitMs`) for the
   * new stream's first update of each feed (`firstLive`), plans, walks. Resolves with what it did.
   */
  start(feedGroup: string, starts: readonly BackfillStart[], firstLive: () => ReadonlyMap<string, number>): Promise<BackfillSummary> {
    const run = this.fill(feedGroup, starts, firstLive).catch((e: Error): BackfillSummary => {
      // Stopped (the worker is shutting down), or a bug: never the stream's problem.
      if (!this.stopping.signal.aborted) this.deps.log.error({ feedGroup, err: e.message }, 'pyth_backfill_crashed');
      return { gaps: [], skipped: [], requests: 0, accepted: 0, rejected: 0, unreadable: 0, failed: e.message };
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  /** Ends every running walk (what they fetched is with the writer already). */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('backfill stopped'));
    await Promise.all(this.running);
  }

  /** Resolves once no walk runs. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private async fill(feedGroup: string, starts: readonly BackfillStart[], firstLive: () => ReadonlyMap<string, number>): Promise<BackfillSummary> {
    const { options: o, markets, metrics } = this.deps;
    const log = this.deps.log.child({ module: 'pyth-backfill', feedGroup });
    const signal = this.stopping.signal;
    const summary: BackfillSummary = { gaps: [], skipped: [], requests: 0, accepted: 0, rejected: 0, unreadable: 0 };
    const known = starts.filter((s) => s.lastKnown !== undefined);
    if (known.length === 0) return summary;

    const waitUntil = Date.now() + o.liveWaitMs;
    while (known.some((s) => !firstLive().has(s.feedId)) && Date.now() < waitUntil) await sleep(50, undefined, { signal });
    const live = firstLive();
    const times: FeedTimes[] = known.map((s) => {
      const last = Math.max(s.lastKnown!, this.covered.get(s.feedId) ?? Number.NEGATIVE_INFINITY);
      const first = live.get(s.feedId);
      return { feedId: s.feedId, lastKnown: last, ...(first !== undefined && { firstLive: first }) };
    });
    const { gaps, skipped } = planGaps(times, Math.floor(this.deps.now() / 1000), o.maxGapSec);
    Object.assign(summary, { gaps, skipped });
    const symbols = (list: readonly Gap[]) => list.map((g) => markets.byFeedId(g.feedId)?.symbol ?? g.feedId);
    if (skipped.length > 0) {
      metrics.backfillGaps.inc({ outcome: 'skipped' }, skipped.length);
      log.warn({ feeds: symbols(skipped), seconds: Math.max(...skipped.map(gapSeconds)), from: Math.min(...skipped.map((g) => g.from)), maxGapSec: o.maxGapSec }, 'pyth_backfill_skipped');
    }
    if (gaps.length === 0) return summary;
    for (const g of gaps) this.covered.set(g.feedId, Math.max(g.to, this.covered.get(g.feedId) ?? g.to));

    const anchors = new Map(known.flatMap((s) => (s.anchor ? [[s.feedId, s.anchor] as const] : [])));
    const walk = new GapWalk(gaps);
    const startedAt = Date.now();
    let unreadableInARow = 0;
    /** This step's second is lost for its feeds; the walk goes on, unless the source keeps answering so. */
    const giveUpSecond = (step: WalkStep, detail: string): boolean => {
      summary.unreadable += 1;
      unreadableInARow += 1;
      log.warn({ at: step.at, feeds: step.feedIds.map((id) => markets.byFeedId(id)?.symbol ?? id), err: detail.slice(0, 200) }, 'pyth_backfill_unreadable');
      if (unreadableInARow < UNREADABLE_IN_A_ROW) {
        walk.skip(step);
        return false;
      }
      summary.failed = `${UNREADABLE_IN_A_ROW} unreadable answers in a row: ${detail.slice(0, 200)}`;
      return true;
    };
    for (let step = walk.next(); step !== undefined; step = walk.next()) {
      let answer: { parsed?: unknown } | null;
      try {
        answer = await this.fetchAt(step, signal);
      } catch (e) {
        if (signal.aborted) throw e;
        if (unreadable(e)) {
          if (giveUpSecond(step, `unreadable answer: ${(e as Error).message}`)) break;
          continue;
        }
        summary.failed = (e as Error).message.slice(0, 200);
        break;
      }
      summary.requests += 1;
      if (answer === null) {
        // Hermes has nothing at or after this second for these feeds.
        walk.answer(step, new Map());
        continue;
      }
      // Only the parsed values are stored; the binary blob (verified by nobody here) is left out.
      const raw = JSON.stringify({ parsed: answer.parsed ?? [] });
      const payload = parseHermesMessage(raw);
      if (!payload.ok) {
        this.deps.pipeline.backfill(payload, raw, anchors);
        summary.rejected += 1;
        if (giveUpSecond(step, `unreadable answer: ${payload.detail}`)) break;
        continue;
      }
      unreadableInARow = 0;
      const asked = new Set(step.feedIds);
      const first = new Map<string, (typeof payload.observations)[number]>();
      for (const obs of payload.observations) if (asked.has(obs.feedId) && Number.isSafeInteger(obs.publishTime) && !first.has(obs.feedId)) first.set(obs.feedId, obs);
      const keep = walk.answer(step, new Map([...first].map(([id, obs]) => [id, obs.publishTime as number])));
      // An asked feed's answer counts if inside its gap; anything else in the answer (an id we did
      // not ask for, an unreadable publish time) is judged, and rejected with its reason.
      const judged = payload.observations.filter((obs) => (first.get(obs.feedId) === obs ? keep.has(obs.feedId) : true));
      const r = this.deps.pipeline.backfill({ ok: true, observations: judged }, raw, anchors);
      summary.accepted += r.accepted.length;
      summary.rejected += r.rejected;
    }

    const fields = {
      feeds: symbols(gaps),
      from: Math.min(...gaps.map((g) => g.from)),
      to: Math.max(...gaps.map((g) => g.to)),
      seconds: Math.max(...gaps.map(gapSeconds)),
      updates: summary.accepted,
      rejected: summary.rejected,
      unreadable: summary.unreadable,
      requests: summary.requests,
      tookMs: Date.now() - startedAt,
    };
    if (summary.failed !== undefined) {
      metrics.backfillGaps.inc({ outcome: 'failed' }, gaps.length);
      log.warn({ ...fields, err: summary.failed }, 'pyth_backfill_failed');
    } else if (summary.unreadable > 0) {
      metrics.backfillGaps.inc({ outcome: 'partial' }, gaps.length);
      log.warn(fields, 'pyth_backfilled_partly');
    } else {
      metrics.backfillGaps.inc({ outcome: 'filled' }, gaps.length);
      log.info(fields, 'pyth_backfilled');
    }
    return summary;
  }

  /** One step's request, paced and retried; null when Hermes has no update at or after that second (404). */
  private async fetchAt(step: WalkStep, signal: AbortSignal): Promise<{ parsed?: unknown } | null> {
    const o = this.deps.options;
    for (let attempt = 0; ; attempt++) {
      await this.pace(signal);
      try {
        return await this.deps.hermes.getPriceUpdatesAtTimestamp(
          step.at,
          step.feedIds,
          { parsed: true, encoding: 'hex', ignoreInvalidPriceIds: true },
          { signal: AbortSignal.any([signal, AbortSignal.timeout(o.requestTimeoutMs)]) },
        );
      } catch (e) {
        if (signal.aborted) throw e;
        const status = httpStatusOf(e);
        if (status === 404) return null;
        if (!retryable(status) || attempt >= o.retries) throw e;
        this.deps.log.debug({ at: step.at, status, attempt, err: (e as Error).message.slice(0, 200) }, 'pyth_backfill_retry');
        await sleep(o.retryBaseMs * 2 ** attempt, undefined, { signal });
      }
    }
  }

  private async pace(signal: AbortSignal): Promise<void> {
    const t = Date.now();
    const wait = this.nextRequestAt - t;
    this.nextRequestAt = Math.max(t, this.nextRequestAt) + 1_000 / this.deps.options.requestsPerSec;
    if (wait > 0) await sleep(wait, undefined, { signal });
  }
}
