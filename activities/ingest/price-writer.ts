import type { Logger } from 'pino';
import type { AcceptedPrice, PriceStore, RejectionDoc } from '../store/prices.ts';

/**
 * Batches writes: prices are broadcast at once but stored in small batches (every `flushMs`, or
 * sooner when `maxBatch` accumulate). A failed write keeps its batch and retries with backoff; the
 * backlog is bounded, and exceeding it is an error the activity surfaces (nothing is dropped silently).
 */
export interface PriceWriterOptions {
  flushMs: number;
  maxBatch: number;
  maxBacklog: number;
}

interface Pending {
  price: AcceptedPrice;
  /** Becomes the feed's served (latest) price. */
  served: boolean;
}

export class BacklogOverflow extends Error {
  readonly code = 'WRITE_BACKLOG_OVERFLOW';
}

export class PriceWriter {
  private prices: Pending[] = [];
  private rejections: RejectionDoc[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  stored = 0;
  lastError: Error | undefined;

  constructor(
    private readonly store: PriceStore,
    private readonly log: Logger,
    private readonly opts: PriceWriterOptions = { flushMs: 100, maxBatch: 1_000, maxBacklog: 200_000 },
  ) {}

  get backlog(): number {
    return this.prices.length + this.rejections.length;
  }

  addPrice(price: AcceptedPrice, served: boolean): void {
    this.prices.push({ price, served });
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

  private schedule(): void {
    if (this.backlog >= this.opts.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs);
  }

  /** Writes everything pending; concurrent calls share one flush loop. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.prices.length > 0 || this.rejections.length > 0) {
      const prices = this.prices.splice(0, this.opts.maxBatch);
      const rejections = this.rejections.splice(0, this.opts.maxBatch);
      try {
        await Promise.all([
          this.store.writeAccepted(
            prices.map((p) => p.price),
            prices.filter((p) => p.served).map((p) => p.price),
          ),
          this.store.writeRejections(rejections),
        ]);
        this.stored += prices.length;
        this.failures = 0;
      } catch (e) {
        // Put the batch back in front and retry later; the activity decides when it is too much.
        this.prices.unshift(...prices);
        this.rejections.unshift(...rejections);
        this.lastError = e as Error;
        this.failures += 1;
        const delay = Math.min(5_000, 100 * 2 ** this.failures);
        this.log.warn({ err: (e as Error).message, backlog: this.backlog, retryInMs: delay }, 'store_write_failed');
        this.timer ??= setTimeout(() => void this.flush(), delay);
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
  }
}
