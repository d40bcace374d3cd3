/**
 * Filling the gap a stream interruption leaves in history, pure: which seconds to fetch per feed
 * (`planGaps`), and how to walk them with Hermes' `/v2/updates/price/{publish_time}`, which answers,
 * per feed, the first update published at or after a second (`GapWalk`). Times are Unix seconds.
 *
 * That endpoint gives one update per feed per call, the first of its second: when a feed publishes
 * several updates within one second (Pythnet does, 2–3 per second), only the first of each second
 * can be fetched back.
 */

/** What is known of a feed when its stream (re)starts. */
export interface FeedTimes {
  feedId: string;
  /** The publish time of the last update history holds (the book's last accepted); none: nothing to continue from. */
  lastKnown?: number;
  /** The publish time of the first update the new stream delivered; none yet: up to now. */
  firstLive?: number;
}

/** The seconds of a feed missing from history, both ends included. */
export interface Gap {
  feedId: string;
  from: number;
  to: number;
}

export const gapSeconds = (g: Gap): number => g.to - g.from + 1;

/**
 * Per feed, the seconds strictly after its last known update and before its first live one (or up to
 * `now`, included, when the stream delivered none yet). Gaps longer than `maxGapSec` are `skipped`:
 * too old to fetch (and to hold the source with), whole. A feed without a last known update has no gap.
 */
export function planGaps(feeds: readonly FeedTimes[], now: number, maxGapSec: number): { gaps: Gap[]; skipped: Gap[] } {
  const gaps: Gap[] = [];
  const skipped: Gap[] = [];
  for (const f of feeds) {
    if (f.lastKnown === undefined) continue;
    const gap = { feedId: f.feedId, from: f.lastKnown + 1, to: f.firstLive === undefined ? now : f.firstLive - 1 };
    if (gap.to < gap.from) continue;
    (gapSeconds(gap) > maxGapSec ? skipped : gaps).push(gap);
  }
  return { gaps, skipped };
}

/** One request of a walk: the second to ask for, and the feeds to ask about. */
export interface WalkStep {
  at: number;
  feedIds: string[];
}

/**
 * Walks gaps with "first update at or after t": ask for the earliest second any open feed still
 * needs (only the feeds that need it); each answer p ≥ t inside its feed's gap is kept, and that feed
 * goes on from p + 1. A feed closes when its answer lies past its gap, when it has no answer (nothing
 * published at or after t), or when the answer does not move it forward (p < t: a source not
 * keeping its contract must not loop us). Every step moves every asked feed forward or closes it, so
 * a walk makes at most one request per second of its longest gap and feed.
 */
export class GapWalk {
  /** Open feeds: the next second each needs, and where its gap ends. */
  private readonly open = new Map<string, { next: number; to: number }>();

  constructor(gaps: readonly Gap[]) {
    for (const g of gaps) if (g.to >= g.from) this.open.set(g.feedId, { next: g.from, to: g.to });
  }

  get done(): boolean {
    return this.open.size === 0;
  }

  next(): WalkStep | undefined {
    let at = Number.POSITIVE_INFINITY;
    for (const f of this.open.values()) at = Math.min(at, f.next);
    if (this.open.size === 0) return undefined;
    return { at, feedIds: [...this.open].filter(([, f]) => f.next === at).map(([id]) => id) };
  }

  /**
   * Takes the answer to `step`: the publish time Hermes answered per asked feed (a feed without one
   * had no update at or after `step.at`). Returns the feeds whose answer is inside their gap: keep it.
   */
  answer(step: WalkStep, publishTimes: ReadonlyMap<string, number>): Set<string> {
    const keep = new Set<string>();
    for (const id of step.feedIds) {
      const f = this.open.get(id);
      if (f === undefined || f.next !== step.at) continue;
      const p = publishTimes.get(id);
      if (p === undefined || !Number.isSafeInteger(p) || p < step.at || p > f.to) {
        this.open.delete(id);
        continue;
      }
      keep.add(id);
      this.moveOn(id, f, p + 1);
    }
    return keep;
  }

  /**
   * Gives `step`'s second up for its feeds (its answer could not be read, however often asked): they
   * go on from the next second, so one bad answer costs that second, not the rest of the gap.
   */
  skip(step: WalkStep): void {
    for (const id of step.feedIds) {
      const f = this.open.get(id);
      if (f !== undefined && f.next === step.at) this.moveOn(id, f, step.at + 1);
    }
  }

  /** A feed's walk goes on from `next`, or ends when that is past its gap. */
  private moveOn(id: string, f: { next: number; to: number }, next: number): void {
    f.next = next;
    if (next > f.to) this.open.delete(id);
  }
}
