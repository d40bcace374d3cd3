import type { Source, ValidPrice } from '../../domain/price.ts';
import { orderAgainst, type PublishMark, type ValidationContext } from '../../domain/validation.ts';
import { fromLatestDoc, type AcceptedPrice, type PriceStore } from '../store/prices.ts';

/**
 * What validation needs to know of each feed's recent past: the last accepted publish time (and
 * slot) per source, the latest good price per source, and the served (latest good) price. Kept in
 * memory by the ingest worker and seeded from the store when an activity starts, so a restarted
 * worker resumes exactly where the stored history ends.
 */
export class PriceBook {
  private readonly lastPublish = new Map<string, PublishMark>();
  private readonly bySource = new Map<string, AcceptedPrice>();
  private readonly served = new Map<string, AcceptedPrice>();

  private static key(feedId: string, source: Source): string {
    return `${feedId}:${source}`;
  }

  /** Seeds from the store; anything newer already in memory wins. */
  async load(store: PriceStore, feedIds: readonly string[]): Promise<void> {
    const [latest, published] = await Promise.all([store.latest(feedIds), store.lastPublishTimes(feedIds)]);
    for (const [key, publishTime] of published) {
      // The store keeps no slot: the first update of that second after a restart counts as a duplicate.
      if ((this.lastPublish.get(key)?.publishTime ?? 0) < publishTime) this.lastPublish.set(key, { publishTime });
    }
    for (const doc of latest) {
      const p = fromLatestDoc(doc);
      this.remember(this.served, p.feedId, p);
      this.remember(this.bySource, PriceBook.key(p.feedId, p.source), p);
    }
  }

  /** Keeps `p` unless something newer is there; true when `p` was kept. */
  private remember(map: Map<string, AcceptedPrice>, key: string, p: AcceptedPrice): boolean {
    const prev = map.get(key);
    if (prev && prev.publishTime > p.publishTime) return false;
    map.set(key, p);
    return true;
  }

  context(feedId: string, source: Source): Omit<ValidationContext, 'market' | 'now'> {
    const other: Source = source === 'pyth' ? 'coingecko' : 'pyth';
    const last = this.lastPublish.get(PriceBook.key(feedId, source));
    const lastGood = this.served.get(feedId);
    const otherSource = this.bySource.get(PriceBook.key(feedId, other));
    return {
      ...(last !== undefined && { lastAccepted: last }),
      ...(lastGood && { lastGood }),
      ...(otherSource && { otherSource }),
    };
  }

  /**
   * Records an accepted price. With `serve`, it becomes the feed's served price unless a newer one
   * (from the other source) is served already; returns whether it did.
   */
  accept(p: AcceptedPrice, serve: boolean): boolean {
    const key = PriceBook.key(p.feedId, p.source);
    const last = this.lastPublish.get(key);
    if (!last || orderAgainst(p, last) === 'newer') {
      this.lastPublish.set(key, { publishTime: p.publishTime, ...(p.slot !== undefined && { slot: p.slot }) });
    }
    this.remember(this.bySource, key, p);
    return serve && this.remember(this.served, p.feedId, p);
  }

  latest(feedId: string, source: Source): ValidPrice | undefined {
    return this.bySource.get(PriceBook.key(feedId, source));
  }
}
