import type { Logger } from 'pino';
import { minuteOf, minuteId, toTick, type AcceptedPrice, type MinuteRollup, type PriceStore, type RejectionDoc } from '../store/prices.ts';

/**
 * Batches writes: prices are broadcast at once but stored in batches every `flushMs` — the updates
 * themselves (inserts), the served prices and source marks (one small update per 32 feeds), the
 * rejections. Each feed's minute document is written once, when its minute is over (plus a grace
 * for late arrivals). A failed write keeps its batch and retries with backoff; the backlog is
 * bounded, and exceeding it is an error the activity surfaces (nothing is dropped silently).
 */
export interface PriceWriterOptions {
  flushMs: number;
  /** How long after its end a minute's document is written. */
  minuteGraceMs: number;
  maxBacklog: number;
}

export const DEFAULT_WRITER_OPTIONS: PriceWriterOptions = { flushMs: 100, minuteGraceMs: 5_000, maxBacklog: 500_000 };

export class BacklogOverflow extends Error {
  readonly code = 'WRITE_BACKLOG_OVERFLOW';
}

export class PriceWriter {
  /** Newest accepted price per feed and source, and newest served price per feed, not yet written. */
  private accepted = new Map<string, AcceptedPrice>();
  private served = new Map<string, AcceptedPrice>();
  private history: AcceptedPrice[] = [];
  private lastLatestWrite = 0;
  private lastLatestMs = 0;
  private latestInFlight: Promise<void> | undefined;
  private rejections: RejectionDoc[] = [];
  private readonly minutes = new Map<string, MinuteRollup>();
  /** A minute that began before this writer existed is one it cannot have seen whole. */
  private readonly startedAtSec: number;
  private timer: NodeJS.Timeout | undefined;
  /** Drains run one after another, in the order they were asked for. */
  private queue: Promise<void> = Promise.resolve();
  private failures = 0;
  lastError: Error | undefined;

  constructor(
    private readonly store: PriceStore,
    private readonly log: Logger,
    private readonly opts: PriceWriterOptions = DEFAULT_WRITER_OPTIONS,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAtSec = Math.floor(now() / 1000);
  }

  get backlog(): number {
    return this.history.length + this.rejections.length;
  }

  /** An accepted price; `served` when it became its feed's served price. */
  addPrice(price: AcceptedPrice, served: boolean): void {
    this.accepted.set(`${price.feedId}:${price.source}`, price);
    this.history.push(price);
    if (served) this.served.set(price.feedId, price);
    const minute = minuteOf(price.publishTime);
    const id = minuteId(price.feedId, price.source, minute);
    const rollup = this.minutes.get(id) ?? { feedId: price.feedId, symbol: price.symbol, source: price.source, minute, ticks: {}, complete: this.startedAtSec <= minute };
    rollup.ticks[`t${price.publishTime}`] = toTick(price);
    this.minutes.set(id, rollup);
    this.schedule();
  }

  addRejection(r: RejectionDoc): void {
    this.rejections.push(r);
    this.schedule();
  }

  /** Throws when the database has been failing long enough for the backlog to pass its bound. */
  assertHealthy(): void {
    if (this.backlog > this.opts.maxBacklog) {
      throw new BacklogOverflow(`${this.backlog} unwritten updates: the store has been failing (${this.lastError?.message ?? 'unknown'})`);
    }
  }

  private schedule(delay = this.opts.flushMs): void {
    this.timer ??= setTimeout(() => void this.flush(), delay);
  }

  private get pending(): number {
    return this.accepted.size + this.history.length + this.rejections.length + this.minutes.size;
  }

  /** Writes what is pending once the drains before it are done; `all` also writes minutes not yet over. */
  flush(all = false): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = this.queue.then(() => this.drain(all)).then(() => {
      if (this.pending > 0) this.schedule();
    });
    return this.queue;
  }

  /**
   * Served prices are updates in place, the costly kind on FerretDB: they are written on a track of
   * their own (never holding up the inserts of the updates themselves), at most a third of the time.
   */
  private writeLatest(all: boolean): Promise<void> {
    if (this.latestInFlight) return this.latestInFlight;
    const now = this.now();
    if (this.accepted.size === 0 || (!all && now - this.lastLatestWrite < Math.max(this.opts.flushMs, 2 * this.lastLatestMs))) return Promise.resolve();
    const accepted = [...this.accepted.values()];
    const served = [...this.served.values()];
    this.accepted.clear();
    this.served.clear();
    this.latestInFlight = this.store
      .writeLatest(accepted, served)
      .then(() => {
        this.lastLatestWrite = now;
        this.lastLatestMs = this.now() - now;
      })
      .catch((e: Error) => {
        // Newer prices that arrived meanwhile win; these go again with the next write.
        for (const p of accepted) if (!this.accepted.has(`${p.feedId}:${p.source}`)) this.accepted.set(`${p.feedId}:${p.source}`, p);
        for (const p of served) if (!this.served.has(p.feedId)) this.served.set(p.feedId, p);
        this.fail(e);
      })
      .finally(() => {
        this.latestInFlight = undefined;
      });
    return this.latestInFlight;
  }

  private fail(e: Error): void {
    this.lastError = e;
    this.failures += 1;
    const delay = Math.min(5_000, 100 * 2 ** this.failures);
    this.log.warn({ err: e.message, backlog: this.backlog, retryInMs: delay }, 'store_write_failed');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), delay);
  }

  private async drain(all: boolean): Promise<void> {
    const latest = this.writeLatest(all);
    const nowSec = Math.floor(this.now() / 1000);
    const dueBefore = Math.floor((this.now() - this.opts.minuteGraceMs) / 1000) - 60;
    // A minute written before it is over (`all`: an activity ending) is incomplete whoever wrote it:
    // its later updates come in a second write, and reads must not trust the first one alone.
    const minutes = [...this.minutes.entries()]
      .filter(([, r]) => all || r.minute <= dueBefore)
      .map(([id, r]): [string, MinuteRollup] => [id, r.minute + 60 <= nowSec ? r : { ...r, complete: false }]);
    const rejections = this.rejections.splice(0);
    const history = this.history.splice(0);
    try {
      await Promise.all([this.store.writeTicks(history), this.store.writeRejections(rejections)]);
      // After the updates themselves: a minute document never holds an update the store lacks.
      if (minutes.length > 0) await this.store.writeMinutes(minutes.map(([, r]) => r));
      for (const [id] of minutes) this.minutes.delete(id);
      this.failures = 0;
    } catch (e) {
      this.history.unshift(...history);
      this.rejections.unshift(...rejections);
      this.fail(e as Error);
    }
    if (all) await latest;
  }

  /** Writes everything, minutes included (an activity ending, a worker stopping), unless the store fails. */
  async close(): Promise<void> {
    do await this.flush(true);
    while (this.pending > 0 && this.failures === 0);
  }
}
