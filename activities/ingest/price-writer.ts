import { readFileSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import type { MarketIndex } from '../../domain/markets.ts';
import { minuteOf } from '../../domain/candles.ts';
import type { AcceptedPrice, LatestPrices, PriceHistory, RejectionDoc, Rejections } from '../../store/roles.ts';
import { Journal, orphanJournals, readSegment } from './journal.ts';
import type { IngestMetrics } from './metrics.ts';

/**
 * Stores what ingestion accepted, and never loses any of it. Prices are published at once but
 * stored in batches every `flushMs`: the updates themselves (inserts, each exactly once), the
 * rejections, and — on a track of their own, since updates in place are the costly kind — the
 * served prices, source marks and stale flags. Every entry is first appended to the journal, so a
 * worker killed mid-batch, or a database that stays away, costs nothing: a failed write is retried
 * with backoff until it lands, memory holds at most `maxInMemory` entries (beyond that they wait in
 * the journal only and are read back from it), a clean stop writes what it can, and the next worker
 * adopts what a dead one left. Once a minute is over and all of its updates are stored, its candle
 * is sealed.
 */
export interface PriceWriterOptions {
  /** Root folder of the journals (one per worker process of this machine). */
  journalDir: string;
  flushMs?: number;
  /**
   * Entries per insert. The event loop is free between inserts, and serializing one is synchronous:
   * smaller inserts keep a large backlog from holding up the live path for long.
   */
  batchMax?: number;
  /** Entries kept in memory while the database is behind; the rest wait in the journal. */
  maxInMemory?: number;
  /** How long after its end a minute is sealed (late updates of it still count), ms. */
  sealGraceMs?: number;
  /** Longest pause between retries of a failed write, ms. */
  retryMaxMs?: number;
}

const DEFAULTS = { flushMs: 100, batchMax: 1_000, maxInMemory: 200_000, sealGraceMs: 5_000, retryMaxMs: 5_000 };

type EntryValue = { kind: 'price'; price: AcceptedPrice } | { kind: 'rejection'; rejection: RejectionDoc };
type Entry = EntryValue & { n: number };

type JournalValue = { k: 'p'; v: AcceptedPrice } | { k: 'r'; v: RejectionDoc };

/** Journal lines back to values: mantissas were written as decimal strings, dates as ISO strings. */
function revive(value: unknown): EntryValue | undefined {
  const j = value as { k?: string; v?: Record<string, unknown> };
  if (!j.v) return undefined;
  if (j.k === 'p') {
    const v = j.v;
    const price: AcceptedPrice = {
      ...(v as unknown as AcceptedPrice),
      price: BigInt(v.price as string),
      conf: BigInt(v.conf as string),
      ...(v.emaPrice !== undefined && { emaPrice: BigInt(v.emaPrice as string), emaConf: BigInt((v.emaConf as string) ?? '0') }),
    };
    return { kind: 'price', price };
  }
  if (j.k === 'r') return { kind: 'rejection', rejection: { ...(j.v as unknown as RejectionDoc), receivedAt: new Date(j.v.receivedAt as string) } };
  return undefined;
}

export interface WriterStore {
  latest: LatestPrices;
  history: PriceHistory;
  rejections: Rejections;
}

export class PriceWriter {
  private readonly o: Required<PriceWriterOptions>;
  private readonly journal: Journal;
  /** Entries in memory, oldest first. */
  private queue: Entry[] = [];
  /** Entries from this number on are in the journal only (memory was full); 0 when none. */
  private diskFrom = 0;
  /** Newest accepted price per feed and source, newest served per feed, stale flags: not yet written. */
  private accepted = new Map<string, AcceptedPrice>();
  private served = new Map<string, AcceptedPrice>();
  private stale = new Map<string, { stale: boolean; at: Date }>();
  private latestInFlight: Promise<void> | undefined;
  private lastLatestWrite = 0;
  private lastLatestMs = 0;
  /** Minutes (per feed group) with updates this writer stored, not yet sealed. */
  private readonly unsealed = new Map<string, Set<number>>();
  /** Minutes this writer sealed lately (a late update — CoinGecko's lag by tens of seconds — seals one again). */
  private readonly sealed = new Map<string, Set<number>>();
  private timer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout;
  private draining: Promise<void> = Promise.resolve();
  private failures = 0;
  private retryAt = 0;
  private orphans: { dir: string; segments: { first: number; file: string; entries: number }[] }[];
  private closed = false;
  lastError: Error | undefined;

  constructor(
    private readonly store: WriterStore,
    private readonly markets: MarketIndex,
    private readonly log: Logger,
    private readonly metrics: IngestMetrics,
    opts: PriceWriterOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.o = { ...DEFAULTS, ...opts };
    this.journal = new Journal({ root: this.o.journalDir });
    this.orphans = orphanJournals(this.o.journalDir, this.journal.dir).map((j) => ({
      dir: j.dir,
      segments: j.segments.map((s) => ({ ...s, entries: readFileSync(s.file, 'utf8').split('\n').filter(Boolean).length })),
    }));
    if (this.orphans.length > 0) {
      log.warn({ journals: this.orphans.map((j) => j.dir), entries: this.backlog }, 'journal_adopted');
      this.schedule(0);
    }
    this.syncTimer = setInterval(() => this.journal.syncInBackground(), 1_000);
    this.syncTimer.unref();
  }

  /** Entries accepted and not yet in the database: in memory, in the journal only, in flight, and adopted. */
  get backlog(): number {
    return this.journal.pending + this.orphans.reduce((n, j) => n + j.segments.reduce((m, s) => m + s.entries, 0), 0);
  }

  private updateGauge(): void {
    this.metrics.writeBacklog.set(this.backlog);
  }

  private enqueue(entry: EntryValue, journal: JournalValue): void {
    const n = this.journal.append(journal);
    if (this.diskFrom === 0 && this.queue.length >= this.o.maxInMemory) {
      this.diskFrom = n;
      this.log.warn({ inMemory: this.queue.length, from: n }, 'writer_memory_full_journal_only');
    }
    if (this.diskFrom === 0) this.queue.push({ ...entry, n });
    this.updateGauge();
    this.schedule();
  }

  /**
   * Puts what was added since in the journal, in one write: call it before anyone is told of those
   * prices (the pipeline does, per batch, before it publishes them).
   */
  persist(): void {
    this.journal.write();
  }

  /** An accepted price; `served` when it became its feed's served price. */
  addPrice(price: AcceptedPrice, served: boolean): void {
    const { grades: _g, ...stored } = price;
    this.enqueue({ kind: 'price', price: stored }, { k: 'p', v: stored });
    this.accepted.set(`${price.feedId}:${price.source}`, stored);
    if (served) this.served.set(price.feedId, stored);
  }

  /**
   * A past price for history only (a backfilled gap): neither the feed's served price nor its last
   * accepted mark moves, since the live stream is past it.
   */
  addHistory(price: AcceptedPrice): void {
    const { grades: _g, ...stored } = price;
    this.enqueue({ kind: 'price', price: stored }, { k: 'p', v: stored });
  }

  addRejection(rejection: RejectionDoc): void {
    this.enqueue({ kind: 'rejection', rejection }, { k: 'r', v: rejection });
  }

  /** Marks feeds stale (both sources failing) or fresh, on the served-prices track. */
  markStale(feedIds: readonly string[], stale: boolean, at: Date): void {
    for (const f of feedIds) this.stale.set(f, { stale, at });
    this.schedule();
  }

  private schedule(delay = this.o.flushMs): void {
    if (this.closed && delay > 0) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, Math.max(delay, this.retryAt - this.now()));
  }

  /** Writes what is pending once the drains before it are done; `all` also seals the minutes not yet due. */
  flush(all = false): Promise<void> {
    this.journal.write();
    this.draining = this.draining.then(() => this.drain(all));
    return this.draining;
  }

  private fail(e: Error, what: string): void {
    this.lastError = e;
    this.failures += 1;
    const delay = Math.min(this.o.retryMaxMs, 100 * 2 ** this.failures);
    this.retryAt = this.now() + delay;
    this.metrics.writeFailures.inc({ what });
    this.log.warn({ what, err: e.message.slice(0, 200), backlog: this.backlog, retryInMs: delay, failures: this.failures }, 'store_write_failed');
  }

  /** The next batch: from memory, else read back from the journal (memory was full), else an adopted journal. */
  private nextBatch(): { entries: Entry[]; commit?: () => void } {
    if (this.queue.length > 0) return { entries: this.queue.slice(0, this.o.batchMax) };
    if (this.diskFrom > 0) {
      const read = this.journal.read(this.diskFrom, this.o.batchMax);
      const entries = read.flatMap((e) => {
        const r = revive(e.value);
        return r ? [{ ...r, n: e.n } as Entry] : [];
      });
      const last = read.at(-1)?.n ?? this.diskFrom - 1;
      this.diskFrom = last + 1 >= this.journal.nextNumber ? 0 : last + 1;
      // Put them in memory: from here on they are written like any other.
      this.queue.push(...entries);
      if (this.diskFrom === 0) this.log.info('writer_caught_up_with_journal');
      return { entries: this.queue.slice(0, this.o.batchMax) };
    }
    const orphan = this.orphans[0];
    const segment = orphan?.segments[0];
    if (orphan && segment) {
      const entries = readSegment(segment.file, segment.first).flatMap((e) => {
        const r = revive(e.value);
        return r ? [{ ...r, n: 0 } as Entry] : [];
      });
      return {
        entries,
        commit: () => {
          orphan.segments.shift();
          rmSync(segment.file, { force: true });
          if (orphan.segments.length === 0) {
            this.orphans.shift();
            rmSync(orphan.dir, { recursive: true, force: true });
            this.log.info({ journal: orphan.dir }, 'adopted_journal_written');
          }
        },
      };
    } else if (orphan) this.orphans.shift();
    return { entries: [] };
  }

  private async drain(all: boolean): Promise<void> {
    if (this.now() < this.retryAt && !all) return this.schedule();
    const latest = this.writeLatest(all);
    for (;;) {
      const { entries, commit } = this.nextBatch();
      if (entries.length === 0) break;
      const prices = entries.flatMap((e) => (e.kind === 'price' ? [e.price] : []));
      const rejections = entries.flatMap((e) => (e.kind === 'rejection' ? [e.rejection] : []));
      try {
        const [written] = await Promise.all([this.store.history.append(prices), this.store.rejections.write(rejections)]);
        this.metrics.stored.inc(written);
        const storedAt = this.now();
        for (const p of prices) this.metrics.stages.observe('stored', storedAt - p.receivedAt);
        this.failures = 0;
        this.retryAt = 0;
      } catch (e) {
        this.fail(e as Error, 'history');
        break;
      }
      for (const p of prices) this.trackMinute(p);
      if (commit) commit();
      else {
        this.queue.splice(0, entries.length);
        this.journal.commit(entries.at(-1)!.n);
      }
      this.updateGauge();
      if (!all && entries.length < this.o.batchMax) break;
    }
    if (this.failures === 0) await this.seal(all);
    if (all) await latest;
    this.updateGauge();
    if (this.backlog > 0 || this.accepted.size + this.served.size + this.stale.size > 0) this.schedule();
  }

  private trackMinute(p: AcceptedPrice): void {
    const group = this.markets.byFeedId(p.feedId)?.feedGroup;
    if (!group) return;
    const set = this.unsealed.get(group) ?? new Set<number>();
    set.add(minuteOf(p.publishTime));
    this.unsealed.set(group, set);
  }

  /**
   * Seals each minute that is over (plus the grace) and whose updates are all stored: nothing older
   * than the minute's end waits in the backlog. With `all`, every minute this writer touched.
   */
  private async seal(all: boolean): Promise<void> {
    const first = this.queue[0];
    const oldestPending =
      this.orphans.length > 0 || this.diskFrom > 0 ? 0 : first === undefined ? Number.POSITIVE_INFINITY : first.kind === 'price' ? first.price.receivedAt : first.rejection.receivedAt.getTime();
    const due = Math.floor((Math.min(this.now(), oldestPending) - this.o.sealGraceMs) / 1000) - 60;
    for (const [group, minutes] of this.unsealed) {
      const feedIds = this.markets.groups().get(group)!.map((m) => m.pythFeedId);
      for (const minute of [...minutes].sort((a, b) => a - b)) {
        if (!all && minute > due) break;
        const done = this.sealed.get(group) ?? new Set<number>();
        try {
          await this.store.history.seal(feedIds, minute, done.has(minute));
          minutes.delete(minute);
          done.add(minute);
          // Two hours of them are enough to tell a seal from a reseal.
          for (const m of done) if (m < minute - 7_200) done.delete(m);
          this.sealed.set(group, done);
        } catch (e) {
          this.fail(e as Error, 'seal');
          return;
        }
      }
    }
  }

  /**
   * Served prices, marks and stale flags are updates in place, the costly kind on FerretDB: they
   * are written on a track of their own (never holding up the inserts), at most a third of the time.
   */
  private writeLatest(all: boolean): Promise<void> {
    if (this.latestInFlight) return this.latestInFlight;
    const now = this.now();
    if (this.accepted.size + this.stale.size === 0 || (!all && now - this.lastLatestWrite < Math.max(this.o.flushMs, 2 * this.lastLatestMs))) return Promise.resolve();
    const accepted = [...this.accepted.values()];
    const served = [...this.served.values()];
    const stale = [...this.stale];
    this.accepted.clear();
    this.served.clear();
    this.stale.clear();
    const byFlag = (flag: boolean) => stale.filter(([, s]) => s.stale === flag);
    this.latestInFlight = (async () => {
      await this.store.latest.writeLatest(accepted, served);
      for (const flag of [true, false]) {
        const feeds = byFlag(flag);
        if (feeds.length > 0) await this.store.latest.markStale(feeds.map(([f]) => f), flag, feeds[0]![1].at);
      }
    })()
      .then(() => {
        this.lastLatestWrite = now;
        this.lastLatestMs = this.now() - now;
      })
      .catch((e: Error) => {
        // Newer values that arrived meanwhile win; these go again with the next write.
        for (const p of accepted) if (!this.accepted.has(`${p.feedId}:${p.source}`)) this.accepted.set(`${p.feedId}:${p.source}`, p);
        for (const p of served) if (!this.served.has(p.feedId)) this.served.set(p.feedId, p);
        for (const [f, s] of stale) if (!this.stale.has(f)) this.stale.set(f, s);
        this.fail(e, 'latest');
      })
      .finally(() => {
        this.latestInFlight = undefined;
      });
    return this.latestInFlight;
  }

  /**
   * Writes everything it can within `deadlineMs` (a worker stopping). What the database did not take
   * stays in the journal, for the next worker on this machine.
   */
  async close(deadlineMs = 10_000): Promise<void> {
    const deadline = this.now() + deadlineMs;
    this.closed = true;
    clearTimeout(this.timer);
    do {
      this.retryAt = 0;
      await this.flush(true);
      if (this.backlog === 0 && this.accepted.size + this.stale.size === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (this.now() < deadline);
    clearInterval(this.syncTimer);
    if (this.backlog > 0) this.log.warn({ backlog: this.backlog, journal: this.journal.dir }, 'writer_closed_with_backlog_in_journal');
    this.journal.close();
  }
}
