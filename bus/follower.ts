import type { Logger } from 'pino';
import type { BusPrice } from '../contracts/bus.ts';
import type { IngestMode, StatusReport } from '../contracts/status.ts';
import { ACTIONS, type Market, type MarketIndex } from '../domain/markets.ts';
import { gradePrice } from '../domain/validation.ts';
import { fromLatestDoc, isNewer } from '../store/price-docs.ts';
import type { LatestPriceDoc, LatestPrices } from '../store/roles.ts';
import type { BusState, PriceBusSubscriber } from './roles.ts';

/**
 * What every consumer of live prices runs (gateways, the sync, the liquidation scanner): it follows
 * the bus, and falls back on the store, the durable record. On start and whenever the bus comes
 * back it loads the latest prices from the store, then takes the bus's; when a market's sequence
 * number jumps (messages lost) it reloads that market from the store; while the bus is down it
 * reads the store every `pollMs`. It hands on only prices newer than the ones it has, and once a
 * feed group's mode is `pyth`, no CoinGecko price of it.
 */

/** A served price as consumers see it: the bus's shape, without the bus's sequence number. */
export type LivePrice = Omit<BusPrice, 'seq'>;
export type PriceOrigin = 'bus' | 'store';

export interface FollowerOptions {
  subscriber: PriceBusSubscriber;
  store: LatestPrices;
  markets: MarketIndex;
  log: Logger;
  /** Follow only these symbols (all by default). */
  symbols?: readonly string[];
  /** Store reads while the bus is down, ms. */
  pollMs?: number;
  /** A market that skipped sequence numbers is reloaded after this delay (gaps coalesce), ms. */
  resyncDelayMs?: number;
  /** Epoch ms. */
  now?: () => number;
}

/** A stored served price graded as on its arrival (age degrades it further, as with the bus's). */
export function livePriceFromStore(d: LatestPriceDoc, market: Market): LivePrice {
  const p = fromLatestDoc(d);
  const grades = gradePrice(p, Math.floor(p.receivedAt / 1000), market.validation);
  return {
    symbol: p.symbol,
    feedId: p.feedId,
    source: p.source,
    price: d.price,
    conf: d.conf,
    expo: d.expo,
    publishTime: d.publishTime,
    ...(d.slot !== undefined && { slot: d.slot }),
    ...(d.emaPrice !== undefined && { emaPrice: d.emaPrice, emaConf: d.emaConf ?? '0' }),
    receivedAt: p.receivedAt,
    grades: Object.fromEntries(ACTIONS.map((a) => {
      const g = grades[a];
      return [a, g.ok ? 'ok' : g.reason];
    })) as LivePrice['grades'],
  };
}

function listen<H>(list: H[], h: H): () => void {
  list.push(h);
  return () => {
    const i = list.indexOf(h);
    if (i >= 0) list.splice(i, 1);
  };
}

/** Fresh prices, where they came from, and (from the bus) when the publisher sent their batch, epoch ms. */
export type PriceHandler = (prices: LivePrice[], origin: PriceOrigin, busAt?: number) => void;

export class PriceFollower {
  private readonly prices = new Map<string, LivePrice>();
  private readonly seqs = new Map<string, number>();
  private readonly modes = new Map<string, IngestMode>();
  private readonly statuses = new Map<string, StatusReport>();
  private readonly followed: Market[];
  private readonly priceHandlers: PriceHandler[] = [];
  private readonly statusHandlers: ((r: StatusReport) => void)[] = [];
  private readonly stateHandlers: ((s: BusState) => void)[] = [];
  private readonly gaps = new Set<string>();
  private gapTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private resyncing: Promise<void> | undefined;
  private stopped = false;
  /** Store reads that failed in a row (the database being down): the next poll retries. */
  storeFailures = 0;
  /** Prices dropped because their sequence number was not newer (duplicates), and gaps seen. */
  readonly counts = { duplicates: 0, gaps: 0, resyncs: 0 };

  constructor(private readonly o: FollowerOptions) {
    const wanted = o.symbols && new Set(o.symbols);
    this.followed = o.markets.all.filter((m) => !wanted || wanted.has(m.symbol));
    o.subscriber.onPrices((batch) => this.fromBus(batch.prices, batch.at));
    o.subscriber.onStatus((r) => this.takeStatus(r));
    o.subscriber.onState((s) => this.busStateChanged(s));
  }

  get busState(): BusState {
    return this.o.subscriber.state;
  }

  /** Each returns a function that removes the handler again. */
  onPrices(h: PriceHandler): () => void {
    return listen(this.priceHandlers, h);
  }
  onStatus(h: (r: StatusReport) => void): () => void {
    return listen(this.statusHandlers, h);
  }
  onBusState(h: (s: BusState) => void): () => void {
    return listen(this.stateHandlers, h);
  }

  get(symbol: string): LivePrice | undefined {
    return this.prices.get(symbol);
  }
  /** The market's ingestion mode as last reported (`stale`: no source delivers; the price is the last good one). */
  modeOf(symbol: string): IngestMode | undefined {
    return this.modes.get(symbol);
  }
  all(): LivePrice[] {
    return [...this.prices.values()];
  }
  /** The latest report of every scope seen. */
  reports(): StatusReport[] {
    return [...this.statuses.values()];
  }

  /** Loads what the store and the bus know now; follows the bus from then on. Never throws for a store or bus outage. */
  async start(): Promise<void> {
    await this.resync();
    if (this.busState === 'down') this.startPolling();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.gapTimer);
    clearInterval(this.pollTimer);
    await this.resyncing;
  }

  private fromBus(prices: readonly BusPrice[], busAt: number): void {
    const fresh: LivePrice[] = [];
    for (const { seq, ...p } of prices) {
      const market = this.o.markets.bySymbol(p.symbol);
      if (!market || market.pythFeedId !== p.feedId || !this.isFollowed(p.symbol)) continue;
      const last = this.seqs.get(p.symbol);
      if (last !== undefined && seq <= last) {
        this.counts.duplicates += 1;
        continue;
      }
      if (last !== undefined && seq > last + 1) this.gap(p.symbol);
      this.seqs.set(p.symbol, seq);
      if (this.take(p)) fresh.push(p);
    }
    this.emit(fresh, 'bus', busAt);
  }

  private isFollowed(symbol: string): boolean {
    return !this.o.symbols || this.o.symbols.includes(symbol);
  }

  /** Keeps `p` when it is newer than what we have, and allowed by the feed group's mode. */
  private take(p: LivePrice): boolean {
    if (p.source === 'coingecko' && this.modes.get(p.symbol) === 'pyth') return false;
    if (!isNewer(p, this.prices.get(p.symbol))) return false;
    this.prices.set(p.symbol, p);
    return true;
  }

  private emit(prices: LivePrice[], origin: PriceOrigin, busAt?: number): void {
    if (prices.length === 0) return;
    for (const h of this.priceHandlers) h(prices, origin, busAt);
  }

  private takeStatus(r: StatusReport): void {
    this.statuses.set(r.scope, r);
    if (r.kind === 'ingest') for (const s of r.symbols) this.modes.set(s, r.mode);
    for (const h of this.statusHandlers) h(r);
  }

  private gap(symbol: string): void {
    this.counts.gaps += 1;
    this.gaps.add(symbol);
    this.gapTimer ??= setTimeout(() => {
      this.gapTimer = undefined;
      const symbols = [...this.gaps];
      this.gaps.clear();
      void this.loadFromStore(this.followed.filter((m) => symbols.includes(m.symbol)));
    }, this.o.resyncDelayMs ?? 100);
  }

  private busStateChanged(s: BusState): void {
    for (const h of this.stateHandlers) h(s);
    if (s === 'down') {
      this.startPolling();
      return;
    }
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    // Redis may have restarted (sequence numbers start again): forget them, reload from the store.
    this.seqs.clear();
    void this.resync();
  }

  private startPolling(): void {
    if (this.pollTimer || this.stopped) return;
    this.pollTimer = setInterval(() => void this.loadFromStore(this.followed), this.o.pollMs ?? 1_000);
  }

  /** Store first (the durable record), then the bus's latest statuses. */
  private resync(): Promise<void> {
    this.resyncing ??= (async () => {
      this.counts.resyncs += 1;
      await this.loadFromStore(this.followed);
      if (this.busState === 'up') {
        try {
          for (const r of await this.o.subscriber.statusSnapshot()) this.takeStatus(r);
        } catch (e) {
          this.o.log.warn({ err: (e as Error).message }, 'bus_status_snapshot_failed');
        }
      }
    })().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  private async loadFromStore(markets: readonly Market[]): Promise<void> {
    if (markets.length === 0 || this.stopped) return;
    try {
      const docs = await this.o.store.latest(markets.map((m) => m.pythFeedId));
      this.storeFailures = 0;
      const fresh: LivePrice[] = [];
      for (const d of docs) {
        const market = this.o.markets.byFeedId(d.feedId);
        if (!market || !this.isFollowed(market.symbol)) continue;
        const p = livePriceFromStore(d, market);
        if (this.take(p)) fresh.push(p);
      }
      this.emit(fresh, 'store');
    } catch (e) {
      this.storeFailures += 1;
      if (this.storeFailures === 1) this.o.log.warn({ err: (e as Error).message }, 'store_read_failed');
    }
  }
}
