import type { BusState } from '../bus/roles.ts';
import type { LivePrice } from '../bus/follower.ts';
import type { PriceMessage, StatusMessage } from '../contracts/socket.ts';
import type { IngestMode, SourceProblem, StatusReport } from '../contracts/status.ts';
import { ACTIONS, type Market, type MarketIndex } from '../domain/markets.ts';

/**
 * A gateway's view of every market: the latest price (with this gateway's per-symbol sequence
 * number), the ingestion mode, divergence alarm, chain health and source problems the workers
 * report over the bus, and whether the bus itself is up. Staleness is also judged here from the
 * price's age, so a silent pipeline cannot leave a price looking fresh. Pure (no I/O).
 */
interface SymbolState {
  market: Market;
  price?: LivePrice;
  seq: number;
  mode: IngestMode;
  workerStale: boolean;
  reason?: string;
  divergence?: StatusMessage['divergence'];
  chain?: StatusMessage['chain'];
  sources?: SourceProblem[];
  /** The stale flag last announced, to emit `status` only on change. */
  announcedStale?: boolean;
}

export class PriceHub {
  private readonly symbols = new Map<string, SymbolState>();
  private bus: BusState = 'down';

  constructor(
    markets: MarketIndex,
    private readonly now: () => number = Date.now,
  ) {
    for (const market of markets.all) this.symbols.set(market.symbol, { market, seq: 0, mode: 'pyth', workerStale: false });
  }

  has(symbol: string): boolean {
    return this.symbols.has(symbol);
  }

  /** Takes a newer price (the follower hands on only newer ones); returns the message to broadcast. */
  update(p: LivePrice): PriceMessage | undefined {
    const s = this.symbols.get(p.symbol);
    if (!s || s.market.pythFeedId !== p.feedId) return undefined;
    s.price = p;
    s.seq += 1;
    s.workerStale = false;
    return this.message(s);
  }

  /** Applies a worker's status report; returns the status messages to broadcast. */
  report(r: StatusReport): StatusMessage[] {
    const out: StatusMessage[] = [];
    for (const symbol of r.symbols) {
      const s = this.symbols.get(symbol);
      if (!s) continue;
      switch (r.kind) {
        case 'ingest':
          s.mode = r.mode;
          s.workerStale = r.stale;
          s.reason = r.reason;
          break;
        case 'divergence':
          s.divergence = r.divergence;
          break;
        case 'chain':
          s.chain = { health: r.health, reason: r.reason };
          break;
        case 'sources':
          s.sources = r.problems[symbol]?.length ? r.problems[symbol] : undefined;
          break;
      }
      out.push(this.status(s, true));
    }
    return out;
  }

  /** The bus went down or came back: every market's status changes. */
  setBus(state: BusState): StatusMessage[] {
    if (state === this.bus) return [];
    this.bus = state;
    return [...this.symbols.values()].map((s) => this.status(s, true));
  }

  get busState(): BusState {
    return this.bus;
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
    const stale = this.isStale(s);
    const age = this.ageSec(s) ?? 0;
    const { grades: _grades, ...wire } = p;
    return {
      ...wire,
      seq: s.seq,
      stale,
      ageSec: age,
      // Graded by validation on arrival; here only age can degrade it further.
      usableFor: stale ? [] : ACTIONS.filter((a) => p.grades[a] === 'ok' && age <= s.market.validation.maxAgeSec[a]),
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
      ...(s.sources && { sources: s.sources }),
      bus: this.bus,
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

  /** Each priced market's age in seconds (cheap: no messages built). */
  *ages(): Generator<[string, number]> {
    for (const s of this.symbols.values()) {
      const age = this.ageSec(s);
      if (age !== undefined) yield [s.market.symbol, age];
    }
  }

  all(): { symbol: string; price?: PriceMessage; status: StatusMessage }[] {
    return [...this.symbols.values()].map((s) => ({ symbol: s.market.symbol, ...(s.price && { price: this.message(s) }), status: this.status(s) }));
  }
}
