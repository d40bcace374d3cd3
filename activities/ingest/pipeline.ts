import type { Logger } from 'pino';
import type { GradedPrice, PriceBusPublisher } from '../../bus/roles.ts';
import { deviationBps } from '../../domain/decimal.ts';
import type { Market, MarketIndex } from '../../domain/markets.ts';
import type { PayloadResult } from '../../domain/payload.ts';
import { priceOf, type Source, type ValidPrice } from '../../domain/price.ts';
import { sourcesDiverge, validateBackfilled, validateObservation, type Assessment, type Observation } from '../../domain/validation.ts';
import type { RejectionDoc } from '../../store/roles.ts';
import type { IngestMetrics } from './metrics.ts';
import type { PriceBook } from './price-book.ts';
import type { PriceWriter } from './price-writer.ts';

/**
 * One observation's journey: validate against the market's bounds and the feed's recent past, then
 * publish on the bus at once and queue for storage — or record the rejection with its reason. A
 * price only becomes the served price when its source is the one its feed group serves now
 * (`serving`): a cross-checking source, or a fallback still polling after Pyth came back, is stored
 * and compared, not served.
 */
export type Role = 'primary' | 'crosscheck';

export interface PipelineDeps {
  markets: MarketIndex;
  book: PriceBook;
  writer: PriceWriter;
  bus: PriceBusPublisher;
  metrics: IngestMetrics;
  log: Logger;
  /** The source a feed group serves now, as the ingestion workflow last decided (pyth by default). */
  serving: (feedGroup: string) => Source;
  /** Epoch milliseconds. */
  now: () => number;
}

export interface HandleResult {
  /** Every accepted price (all are stored). */
  accepted: GradedPrice[];
  /** Those that became their feed's served price (and were published); the rest are kept for comparison. */
  served: GradedPrice[];
  rejected: number;
  duplicates: number;
}

const RAW_SNIPPET = 512;
/**
 * Observations validated and published together: Hermes sends every subscribed feed in one message
 * (thousands at scale), and publishing them as one batch would hold the first until the last is done.
 */
const PUBLISH_SLICE = 200;

export class IngestPipeline {
  private readonly diverging = new Set<string>();

  constructor(private readonly deps: PipelineDeps) {}

  handle(source: Source, payload: PayloadResult, raw: string, role: Role): HandleResult {
    const { metrics, writer } = this.deps;
    const nowMs = this.deps.now();
    const result: HandleResult = { accepted: [], served: [], rejected: 0, duplicates: 0 };
    if (!payload.ok) {
      this.rejectPayload(source, payload, raw, nowMs, result);
      return result;
    }
    // In slices: each goes to the journal (one write), so nothing published can be lost, then out
    // on the bus at once, so gateways deliver the first prices of a large message while this
    // process still validates the rest.
    const { observations } = payload;
    for (let from = 0; from < observations.length; from += PUBLISH_SLICE) {
      const servedBefore = result.served.length;
      for (let i = from; i < Math.min(from + PUBLISH_SLICE, observations.length); i++) this.observe(observations[i]!, nowMs, role, result);
      writer.persist();
      if (result.served.length > servedBefore) this.deps.bus.publishPrices(result.served.slice(servedBefore));
    }
    return result;
  }

  /**
   * Past Pyth updates fetched to fill a gap in history (domain/validation.ts `validateBackfilled`):
   * accepted ones go to history only — never served, never published, never moving the book —
   * and rejections are recorded as live ones are. `anchors` holds, per feed, the last good update
   * before the next one to judge (the walk moves it on as it accepts).
   */
  backfill(payload: PayloadResult, raw: string, anchors: Map<string, ValidPrice>): HandleResult {
    const { markets, writer, metrics } = this.deps;
    const nowMs = this.deps.now();
    const result: HandleResult = { accepted: [], served: [], rejected: 0, duplicates: 0 };
    if (!payload.ok) {
      this.rejectPayload('pyth', payload, raw, nowMs, result);
      return result;
    }
    for (const o of payload.observations) {
      const market = markets.byFeedId(String(o.feedId));
      const lastGood = market && anchors.get(market.pythFeedId);
      const assessment = validateBackfilled(o, { market, now: Math.floor(nowMs / 1000), ...(lastGood && { lastGood }) });
      if (!assessment.ok) {
        this.rejectObservation(o, market, assessment, nowMs, result);
        continue;
      }
      const price: GradedPrice = { ...assessment.price, receivedAt: nowMs, grades: assessment.grades };
      writer.addHistory(price);
      anchors.set(price.feedId, price);
      metrics.backfilled.inc({ symbol: price.symbol });
      result.accepted.push(price);
    }
    writer.persist();
    return result;
  }

  private rejectPayload(source: Source, payload: Extract<PayloadResult, { ok: false }>, raw: string, nowMs: number, result: HandleResult): void {
    const { metrics, writer } = this.deps;
    metrics.rejections.inc({ source, reason: payload.reason });
    writer.addRejection({ source, reason: payload.reason, detail: payload.detail, raw: raw.slice(0, RAW_SNIPPET), receivedAt: new Date(nowMs) });
    this.deps.log.warn({ source, reason: payload.reason, detail: payload.detail }, 'payload_rejected');
    result.rejected += 1;
    writer.persist();
  }

  private rejectObservation(o: Observation, market: Market | undefined, assessment: Extract<Assessment, { ok: false }>, nowMs: number, result: HandleResult): void {
    const { metrics, writer } = this.deps;
    metrics.updates.inc({ source: o.source, symbol: market?.symbol ?? 'unknown', outcome: 'rejected' });
    metrics.rejections.inc({ source: o.source, reason: assessment.reason });
    const rejection: RejectionDoc = {
      source: o.source,
      reason: assessment.reason,
      detail: assessment.detail,
      feedId: String(o.feedId).slice(0, 80),
      ...(market && { symbol: market.symbol }),
      ...(typeof o.publishTime === 'number' && Number.isSafeInteger(o.publishTime) && { publishTime: o.publishTime }),
      raw: JSON.stringify(o).slice(0, RAW_SNIPPET),
      receivedAt: new Date(nowMs),
    };
    writer.addRejection(rejection);
    result.rejected += 1;
  }

  private observe(o: Observation, nowMs: number, role: Role, result: HandleResult): void {
    const { markets, book, writer, metrics } = this.deps;
    const market = markets.byFeedId(String(o.feedId));
    const assessment = validateObservation(o, {
      market,
      now: Math.floor(nowMs / 1000),
      ...(market && book.context(market.pythFeedId, o.source)),
    });
    const symbol = market?.symbol ?? 'unknown';
    if (!assessment.ok) {
      if (assessment.reason === 'duplicate') {
        // The same update again (a reconnect, an unchanged CoinGecko price): nothing wrong, nothing to keep.
        metrics.updates.inc({ source: o.source, symbol, outcome: 'duplicate' });
        result.duplicates += 1;
        return;
      }
      this.rejectObservation(o, market, assessment, nowMs, result);
      return;
    }
    metrics.stages.observe('validated', this.deps.now() - nowMs);
    const price: GradedPrice = { ...assessment.price, receivedAt: nowMs, grades: assessment.grades };
    const serve = role === 'primary' && market !== undefined && this.deps.serving(market.feedGroup) === o.source;
    const served = book.accept(price, serve);
    writer.addPrice(price, served);
    metrics.updates.inc({ source: o.source, symbol, outcome: 'accepted' });
    result.accepted.push(price);
    if (served) result.served.push(price);
    if (market) this.checkDivergence(price, market.validation, nowMs);
  }

  /** The Pyth ↔ CoinGecko alarm: raised when both are live and disagree, cleared when they agree again. */
  private checkDivergence(p: GradedPrice, bounds: Parameters<typeof sourcesDiverge>[2], nowMs: number): void {
    const other = this.deps.book.latest(p.feedId, p.source === 'pyth' ? 'coingecko' : 'pyth');
    if (!other || Math.floor(nowMs / 1000) - other.publishTime > bounds.maxAgeSec.display) return;
    const [pyth, coingecko] = p.source === 'pyth' ? [p, other] : [other, p];
    const diverges = sourcesDiverge(pyth, coingecko, bounds);
    const was = this.diverging.has(p.symbol);
    if (diverges === was) return;
    const bps = deviationBps(priceOf(coingecko), priceOf(pyth)).toString();
    const fmt = (x: typeof pyth) => `${x.price}e${x.expo}`;
    const scope = `divergence:${p.symbol}`;
    if (diverges) {
      this.diverging.add(p.symbol);
      this.deps.metrics.divergences.inc({ symbol: p.symbol });
      this.deps.log.warn({ symbol: p.symbol, pyth: fmt(pyth), coingecko: fmt(coingecko), bps, boundBps: bounds.divergenceBps }, 'sources_diverge');
      this.deps.bus.publishStatus({
        kind: 'divergence',
        scope,
        symbols: [p.symbol],
        reason: `Pyth and CoinGecko differ by ${bps} bps (bound ${bounds.divergenceBps})`,
        divergence: { pyth: fmt(pyth), coingecko: fmt(coingecko), bps, boundBps: bounds.divergenceBps },
      });
    } else {
      this.diverging.delete(p.symbol);
      this.deps.log.info({ symbol: p.symbol, bps }, 'sources_agree');
      this.deps.bus.publishStatus({ kind: 'divergence', scope, symbols: [p.symbol], reason: 'Pyth and CoinGecko agree again' });
    }
  }
}
