import type { PriceMessage } from '$contracts/socket.ts';

/**
 * Whether a `prices` message continues what the client holds. The gateway numbers each market's
 * prices (`seq`); delivery is at most once and a slow client gets the latest value, so a jump
 * means prices were skipped — harmless for display, but the client then resyncs from REST so that
 * nothing derived from a skipped update (a status change) is missed. Pure.
 */
export type SeqVerdict = 'apply' | 'old' | 'gap';

export function judge(lastSeq: number | undefined, m: Pick<PriceMessage, 'seq'>): SeqVerdict {
  if (lastSeq === undefined) return 'apply';
  if (m.seq <= lastSeq) return 'old';
  return m.seq === lastSeq + 1 ? 'apply' : 'gap';
}

/** A snapshot (subscribe ack, REST) replaces what is held unless it is older than it. */
export function newer(held: Pick<PriceMessage, 'publishTime' | 'slot' | 'receivedAt'> | undefined, next: Pick<PriceMessage, 'publishTime' | 'slot' | 'receivedAt'>): boolean {
  if (!held) return true;
  if (next.publishTime !== held.publishTime) return next.publishTime > held.publishTime;
  if (next.slot !== undefined && held.slot !== undefined && next.slot !== held.slot) return next.slot > held.slot;
  return next.receivedAt >= held.receivedAt;
}

/** Counts of who wants a room: the first subscriber joins it, the last one leaves it. */
export class RoomCounts {
  private readonly counts = new Map<string, number>();

  /** Returns the names whose count went from 0 to 1 (to join). */
  add(names: readonly string[]): string[] {
    const joined: string[] = [];
    for (const n of names) {
      const c = this.counts.get(n) ?? 0;
      this.counts.set(n, c + 1);
      if (c === 0) joined.push(n);
    }
    return joined;
  }

  /** Returns the names whose count reached 0 (to leave). */
  remove(names: readonly string[]): string[] {
    const left: string[] = [];
    for (const n of names) {
      const c = this.counts.get(n) ?? 0;
      if (c <= 1) {
        this.counts.delete(n);
        if (c === 1) left.push(n);
      } else this.counts.set(n, c - 1);
    }
    return left;
  }

  get active(): string[] {
    return [...this.counts.keys()];
  }
}
