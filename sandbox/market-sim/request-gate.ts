import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultBoard, Source } from './faults.ts';

interface Pending {
  readonly source: Source;
  /** Feeds the request is about; null when it is about none in particular (feed lists). */
  readonly feedIds: ReadonlySet<string> | null;
  readonly res: ServerResponse;
  /** Runs the request again from the pause check (parked requests only). */
  readonly retry?: () => void;
  timer?: NodeJS.Timeout;
}

export interface AdmitOptions {
  /**
   * While the source is stalled as a whole: hold the request without answering (true), or let it
   * through so it can open a stream that stays silent (false).
   */
  readonly parkWhenStalled: boolean;
}

/**
 * Decides, per request, what a faulty upstream would do before answering: reset the connection when
 * killed, answer 503 when paused, hold the request while stalled, and answer late when delayed.
 * It keeps the held and delayed requests so a control action can release or drop them.
 */
export class RequestGate {
  readonly #board: FaultBoard;
  readonly #parked = new Set<Pending>();
  readonly #delayed = new Set<Pending>();
  /** Responses whose 'close' already un-parks them (a request can be parked again on redispatch). */
  readonly #watched = new WeakSet<ServerResponse>();

  constructor(board: FaultBoard) {
    this.#board = board;
  }

  admit(
    source: Source,
    feedIds: ReadonlySet<string> | null,
    req: IncomingMessage,
    res: ServerResponse,
    respond: () => void,
    options: AdmitOptions,
  ): void {
    if (this.#board.isKilled(source)) {
      req.socket.destroy();
      return;
    }
    if (this.#board.isPaused(source, feedIds)) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Service Unavailable: ${source} is paused`);
      return;
    }
    if (options.parkWhenStalled && this.#board.isStalledAll(source)) {
      const pending: Pending = {
        source,
        feedIds,
        res,
        retry: () => this.admit(source, feedIds, req, res, respond, options),
      };
      this.#parked.add(pending);
      if (!this.#watched.has(res)) {
        this.#watched.add(res);
        res.once('close', () => {
          for (const p of this.#parked) if (p.res === res) this.#parked.delete(p);
        });
      }
      return;
    }
    const delayMs = this.#board.delayMs(source, feedIds);
    if (delayMs === 0) {
      respond();
      return;
    }
    const pending: Pending = { source, feedIds, res };
    pending.timer = setTimeout(() => {
      this.#delayed.delete(pending);
      if (!res.destroyed) respond();
    }, delayMs);
    this.#delayed.add(pending);
    res.once('close', () => {
      clearTimeout(pending.timer);
      this.#delayed.delete(pending);
    });
  }

  /** Re-runs the source's held requests against the current faults (after a stall is lifted, a pause...). */
  redispatch(source: Source): void {
    for (const p of [...this.#parked]) {
      if (p.source !== source) continue;
      this.#parked.delete(p);
      p.retry?.();
    }
  }

  /** Resets the connections of held and delayed requests about these feeds (all when null). */
  destroy(source: Source, feedIds: ReadonlySet<string> | null): number {
    let n = 0;
    for (const set of [this.#parked, this.#delayed]) {
      for (const p of [...set]) {
        if (p.source !== source || !touches(p.feedIds, feedIds)) continue;
        set.delete(p);
        clearTimeout(p.timer);
        p.res.socket?.destroy();
        n += 1;
      }
    }
    return n;
  }

  counts(source: Source): { parked: number; delayed: number } {
    const count = (set: Set<Pending>) => [...set].filter((p) => p.source === source).length;
    return { parked: count(this.#parked), delayed: count(this.#delayed) };
  }

  /** Drops everything held, for shutdown. */
  clear(): void {
    for (const source of ['pyth', 'coingecko'] as const) this.destroy(source, null);
  }
}

/** Whether a request about `requestFeeds` is concerned by an action on `targetFeeds` (all when null). */
export function touches(
  requestFeeds: ReadonlySet<string> | null,
  targetFeeds: ReadonlySet<string> | null,
): boolean {
  if (targetFeeds === null) return true;
  if (requestFeeds === null) return false;
  for (const id of requestFeeds) if (targetFeeds.has(id)) return true;
  return false;
}
