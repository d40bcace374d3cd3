import { ACTIONS, type Market, type MarketIndex } from '../domain/markets.ts';
import { gradePrice } from '../domain/validation.ts';
import type { AcceptedPrice } from '../activities/store/prices.ts';
import { toWirePrice, type IngestMode, type PriceMessage, type StatusMessage, type WirePrice, type WorkerStatus } from './events.ts';

/**
 * The gateway's view of every market: the latest price (with a per-symbol sequence number), the
 * ingestion mode and stale flag the workers report, and any divergence alarm. Staleness is also
 * judged here from the price's age, so a silent pipeline cannot leave a price looking fresh.
 */
interface SymbolState {
  market: Market;
  price?: WirePrice;
  seq: number;
  mode: IngestMode;
  workerStale: boolean;
  reason?: string;
  divergence?: StatusMessage['divergence'];
  chain?: StatusMessage['chain'];
  /** The stale flag last announced, to emit `status` only on change. */
  announcedStale?: boolean;
}

export class PriceHub {
  private readonly symbols = new Map<string, SymbolState>();

  constructor(
    markets: MarketIndex,
    private readonly now: () => number = Date.now,
  ) {
    for (const market of markets.all) this.symbols.set(market.symbol, { market, seq: 0, mode: 'pyth', workerStale: false });
  }

  has(symbol: string): boolean {
    return this.symbols.has(symbol);
  }

  /** Seeds from the store at start (prices already known, with their stale flags). */
  seed(prices: readonly (AcceptedPrice & { stale?: boolean })[]): void {
    for (const p of prices) {
      const s = this.symbols.get(p.symbol);
      if (!s || (s.price && s.price.publishTime >= p.publishTime)) continue;
      s.price = toWirePrice(p);
      if (p.stale) s.workerStale = true;
      if (p.source === 'coingecko') s.mode = 'coingecko';
    }
  }

  /** Takes a newer price; returns the message to broadcast, or undefined for an older or unknown one. */
  update(p: WirePrice): PriceMessage | undefined {
    const s = this.symbols.get(p.symbol);
    if (!s || s.market.pythFeedId !== p.feedId) return undefined;
    if (s.price && (p.publishTime < s.price.publishTime || (p.publishTime === s.price.publishTime && p.source === s.price.source))) return undefined;
    s.price = p;
    s.seq += 1;
    s.workerStale = false;
    return this.message(s);
  }

  /** Applies a worker's status report; returns the status messages to broadcast. */
  report(status: WorkerStatus): StatusMessage[] {
    const out: StatusMessage[] = [];
    for (const symbol of status.symbols) {
      const s = this.symbols.get(symbol);
      if (!s) continue;
      switch (status.kind) {
        case 'ingest':
          s.mode = status.mode;
          s.workerStale = status.stale;
          s.reason = status.reason;
          break;
        case 'divergence':
          s.divergence = status.divergence;
          break;
        case 'chain':
          s.chain = { health: status.health, reason: status.reason };
          break;
      }
      out.push(this.status(s, true));
    }
    return out;
  }

  /** Status messages for symbols whose staleness changed since last announced (called every second). */
  staleChanges(): StatusMessage[] {
    const out: StatusMessage[] = [];
    for (const s of this.symbols.values()) {
      if (this.isStale(s) !== s.announcedStale) out.push(this.status(s, true));
    }
    return out;
  }

  private ageSec(s: SymbolState): number | undefined {
    return s.price ? Math.max(0, Math.floor(this.now() / 1000) - s.price.publishTime) : undefined;
  }

  private isStale(s: SymbolState): boolean {
    const age = this.ageSec(s);
    return s.workerStale || age === undefined || age > s.market.validation.maxAgeSec.display;
  }

  private message(s: SymbolState): PriceMessage {
    const p = s.price!;
    const grades = gradePrice(
      { ...p, price: BigInt(p.price), conf: BigInt(p.conf), hasConfidence: p.source === 'pyth', emaPrice: undefined, emaConf: undefined },
      Math.floor(this.now() / 1000),
      s.market.validation,
    );
    const stale = this.isStale(s);
    return {
      ...p,
      seq: s.seq,
      stale,
      ageSec: this.ageSec(s) ?? 0,
      usableFor: stale ? [] : ACTIONS.filter((a) => grades[a].ok),
    };
  }

  /** `announce`: the message is being broadcast, so later changes are judged against it. */
  private status(s: SymbolState, announce = false): StatusMessage {
    const stale = this.isStale(s);
    if (announce) s.announcedStale = stale;
    const ageSec = this.ageSec(s);
    return {
      symbol: s.market.symbol,
      mode: s.mode,
      stale,
      ...(ageSec !== undefined && { ageSec }),
      ...(s.reason && { reason: s.reason }),
      ...(s.divergence && { divergence: s.divergence }),
      ...(s.chain && { chain: s.chain }),
      at: this.now(),
    };
  }

  snapshot(symbol: string): PriceMessage | undefined {
    const s = this.symbols.get(symbol);
    return s?.price ? this.message(s) : undefined;
  }

  statusOf(symbol: string): StatusMessage | undefined {
    const s = this.symbols.get(symbol);
    return s && this.status(s);
  }

  all(): { symbol: string; price?: PriceMessage; status: StatusMessage }[] {
    return [...this.symbols.values()].map((s) => ({ symbol: s.market.symbol, ...(s.price && { price: this.message(s) }), status: this.status(s) }));
  }
}
