/**
 * When each update left the simulator (wall clock, ms), for latency benchmarks: sim publish → client
 * receipt. Keyed by feed and publish time; several updates can share a publish time (Pyth publish
 * times are whole seconds and a feed updates every 400 ms), so each is also keyed by its price.
 * Bounded per feed: the oldest entries go first.
 */
export class PublishLog {
  readonly #perFeed = new Map<string, Map<string, number>>();
  readonly #limitPerFeed: number;

  constructor(limitPerFeed = 4_096) {
    this.#limitPerFeed = limitPerFeed;
  }

  record(feedId: string, publishTime: number, price: string, atMs: number): void {
    let entries = this.#perFeed.get(feedId);
    if (entries === undefined) {
      entries = new Map();
      this.#perFeed.set(feedId, entries);
    }
    const first = String(publishTime);
    if (!entries.has(first)) entries.set(first, atMs);
    const exact = `${publishTime}/${price}`;
    if (!entries.has(exact)) entries.set(exact, atMs);
    while (entries.size > this.#limitPerFeed) {
      const oldest = entries.keys().next();
      if (oldest.done === true) break;
      entries.delete(oldest.value);
    }
  }

  /**
   * Wall-clock ms at which the update with this publish time (and price mantissa, if given) was
   * published; without a price, the first update carrying that publish time.
   */
  publishedAt(feedId: string, publishTime: number, price?: string): number | undefined {
    const entries = this.#perFeed.get(feedId);
    return entries?.get(price === undefined ? String(publishTime) : `${publishTime}/${price}`);
  }
}
