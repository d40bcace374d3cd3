import type { PublishedUpdate } from './hermes-wire.ts';

/** One feed's remembered updates, in publish order, with the lookups `publishedAt` answers from. */
interface FeedLog {
  /** Live entries are `updates[start..]`; the slots before `start` are evicted, compacted now and then. */
  updates: PublishedUpdate[];
  start: number;
  /** `<publishTime>` → the first update with that publish time; `<publishTime>/<price>` → the first with both. */
  byKey: Map<string, PublishedUpdate>;
}

/**
 * The updates the simulated Hermes published, per feed: when each left the simulator (wall clock,
 * ms), for latency benchmarks (sim publish → client receipt), and the served update itself, for
 * `/v2/updates/price/{publish_time}`. Several updates can share a publish time (Pyth publish times
 * are whole seconds and a feed updates every 400 ms), so each is also keyed by its price.
 * Bounded per feed (`limitPerFeed` updates): the oldest go first.
 */
export class PublishLog {
  readonly #perFeed = new Map<string, FeedLog>();
  readonly #limitPerFeed: number;

  constructor(limitPerFeed = 4_096) {
    this.#limitPerFeed = limitPerFeed;
  }

  record(update: PublishedUpdate): void {
    let log = this.#perFeed.get(update.feedId);
    if (log === undefined) {
      log = { updates: [], start: 0, byKey: new Map() };
      this.#perFeed.set(update.feedId, log);
    }
    log.updates.push(update);
    for (const key of keysOf(update)) if (!log.byKey.has(key)) log.byKey.set(key, update);
    while (log.updates.length - log.start > this.#limitPerFeed) {
      const oldest = log.updates[log.start]!;
      log.start += 1;
      for (const key of keysOf(oldest)) if (log.byKey.get(key) === oldest) log.byKey.delete(key);
    }
    // Drop the evicted slots once they are as many as the live ones (amortised O(1) per update).
    if (log.start >= this.#limitPerFeed) {
      log.updates = log.updates.slice(log.start);
      log.start = 0;
    }
  }

  /**
   * Wall-clock ms at which the update with this publish time (and price mantissa, if given) was
   * published; without a price, the first update carrying that publish time.
   */
  publishedAt(feedId: string, publishTime: number, price?: string): number | undefined {
    const log = this.#perFeed.get(feedId);
    return log?.byKey.get(price === undefined ? String(publishTime) : `${publishTime}/${price}`)?.publishedAtMs;
  }

  /** The feed's remembered updates, in publish order (the oldest may have been evicted). */
  updatesOf(feedId: string): readonly PublishedUpdate[] {
    const log = this.#perFeed.get(feedId);
    return log === undefined ? [] : log.updates.slice(log.start);
  }

  /**
   * As Hermes answers `/v2/updates/price/{publish_time}`: the first remembered update of the feed
   * whose publish time is at or after `publishTime` (the earliest such second; of its updates, the
   * first published). A stale-/future-time injection shifts an update's publish time, so the log is
   * not sorted by it: this scans the feed's window.
   */
  firstAtOrAfter(feedId: string, publishTime: number): PublishedUpdate | undefined {
    const log = this.#perFeed.get(feedId);
    if (log === undefined) return undefined;
    let best: PublishedUpdate | undefined;
    for (let i = log.start; i < log.updates.length; i++) {
      const u = log.updates[i]!;
      if (u.publishTime >= publishTime && (best === undefined || u.publishTime < best.publishTime)) best = u;
    }
    return best;
  }
}

const keysOf = (u: PublishedUpdate) => [String(u.publishTime), `${u.publishTime}/${u.price}`];
