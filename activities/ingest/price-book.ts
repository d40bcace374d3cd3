import type { Source, ValidPrice } from '../../domain/price.ts';
import type { ValidationContext } from '../../domain/validation.ts';
import { fromLatestDoc, isNewer } from '../../store/price-docs.ts';
import type { AcceptedPrice, LastAccepted, LatestPrices } from '../../store/roles.ts';

/**
 * What validation needs to know of each feed's recent past: the last accepted update per source,
 * the latest good price per source, and the served (latest good) price. Kept in memory by the
 * ingest worker and seeded from the store when an activity starts, so a restarted worker resumes
 * exactly where the stored history ends.
 */
export class PriceBook {
  private readonly lastAccepted = new Map<string, LastAccepted>();
  private readonly bySource = new Map<string, AcceptedPrice>();
  private readonly served = new Map<string, AcceptedPrice>();

  private static key(feedId: string, source: Source): string {
    return `${feedId}:${source}`;
  }

  /** Seeds from the store; anything newer already in memory wins. */
  async load(store: LatestPrices, feedIds: readonly string[]): Promise<void> {
    const [latest, accepted] = await Promise.all([store.latest(feedIds), store.lastAccepted(feedIds)]);
    for (const [key, last] of accepted) {
      if (isNewer(last, this.lastAccepted.get(key))) this.lastAccepted.set(key, last);
    }
    for (const doc of latest) {
      const p = fromLatestDoc(doc);
      this.remember(this.served, p.feedId, p);
      this.remember(this.bySource, PriceBook.key(p.feedId, p.source), p);
    }
  }

  /** Keeps `p` unless what is there is as new; true when `p` was kept. */
  private remember(map: Map<string, AcceptedPrice>, key: string, p: AcceptedPrice): boolean {
    if (!isNewer(p, map.get(key))) return false;
    map.set(key, p);
    return true;
  }

  context(feedId: string, source: Source): Omit<ValidationContext, 'market' | 'now'> {
    const other: Source = source === 'pyth' ? 'coingecko' : 'pyth';
    const last = this.lastAccepted.get(PriceBook.key(feedId, source));
    const lastGood = this.served.get(feedId);
    const otherSource = this.bySource.get(PriceBook.key(feedId, other));
    return {
      ...(last !== undefined && { lastAccepted: last }),
      ...(lastGood && { lastGood }),
      ...(otherSource && { otherSource }),
    };
  }

  /**
   * Records an accepted price. With `serve`, it becomes the feed's served price unless one as new
   * is served already (a fallback price of the same second never replaces Pyth's); returns whether it did.
   */
  accept(p: AcceptedPrice, serve: boolean): boolean {
    const key = PriceBook.key(p.feedId, p.source);
    if (isNewer(p, this.lastAccepted.get(key))) this.lastAccepted.set(key, { publishTime: p.publishTime, ...(p.slot !== undefined && { slot: p.slot }) });
    this.remember(this.bySource, key, p);
    return serve && this.remember(this.served, p.feedId, p);
  }

  latest(feedId: string, source: Source): ValidPrice | undefined {
    return this.bySource.get(PriceBook.key(feedId, source));
  }
}
