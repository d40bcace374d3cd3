import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import type { MarketIndex } from '../../domain/markets.ts';
import type { PayloadRejection } from '../../domain/payload.ts';
import type { Source, ValidPrice } from '../../domain/price.ts';
import type { RejectionReason } from '../../domain/validation.ts';

/**
 * Price storage. Mantissas are decimal strings (exact, any size), exponents integers, publish times
 * unix seconds. FerretDB has no TTL indexes: retention is the `retention` workflow on a schedule.
 *
 * Shaped for FerretDB 1.x on SQLite, which pushes down only an exact `{ _id }` filter (any other
 * filter, and any sort, scans the whole collection), and whose updates cost milliseconds each
 * (serialised by SQLite, and slower the larger the document) while inserts are cheap. So every read
 * is by `_id`, the hot path inserts, and updates are few and small:
 *  - `oracle_price_history`: one insert-only document per accepted update, `_id` =
 *    `feedId:source:publishTime` — a retried write is refused as a duplicate, so an update is never
 *    stored twice;
 *  - `oracle_price_minutes`: per feed, source and minute, the minute's updates in one document
 *    (`_id` = `feedId:source:minute`), written once the minute is over; `complete` says whether the
 *    writer saw the whole minute (a worker that started mid-minute did not) — reads fill the rest
 *    from the per-update documents;
 *  - `oracle_prices`: the served price of each feed (`prices.<feedId>`) and each source's newest
 *    accepted publish time (`marks.<feedId>:<source>`), in one document per 32 feeds of a group
 *    (`_id` = `group:chunk`), updated with `$set` on those paths only.
 */

export interface AcceptedPrice extends ValidPrice {
  /** When our process received it, epoch milliseconds. */
  readonly receivedAt: number;
}

/** A feed's served price, as `latest()` returns it. */
export interface LatestPriceDoc {
  feedId: string;
  symbol: string;
  source: Source;
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  emaPrice?: string;
  emaConf?: string;
  receivedAt: Date;
  /** Set when no source can currently deliver (both failing); the price is the last good one. */
  stale: boolean;
  staleSince?: Date;
}

export interface PricesChunkDoc {
  /** `${feedGroup}:${chunk}` */
  _id: string;
  /** Served price per feed id (a feed marked stale before it ever had a price holds only `stale`). */
  prices: Record<string, Partial<LatestPriceDoc>>;
  /** Newest accepted publish time per `feedId:source`. */
  marks: Record<string, number>;
}

/** What every stored form of an accepted price holds. */
type StoredPrice = Omit<LatestPriceDoc, 'emaPrice' | 'emaConf' | 'stale' | 'staleSince'>;

/** One accepted update. */
export interface TickDoc extends StoredPrice {
  /** `${feedId}:${source}:${publishTime}` */
  _id: string;
}

/** One update inside a minute document (short keys: a minute holds up to 60 of them per source). */
export interface Tick {
  /** price mantissa */
  p: string;
  /** conf mantissa */
  c: string;
  /** exponent */
  e: number;
  /** received at, epoch ms */
  r: number;
}

/** A minute's updates as the writer gathered them. */
export interface MinuteRollup {
  feedId: string;
  symbol: string;
  source: Source;
  /** Start of the minute, unix seconds. */
  minute: number;
  /** Keyed `t<publishTime>`. */
  ticks: Record<string, Tick>;
  /** False when some writer of this minute did not see all of it: reads then check the updates. */
  complete: boolean;
}

export interface MinuteDoc extends MinuteRollup {
  /** `${feedId}:${source}:${minute}` */
  _id: string;
}

export interface HistoryRow {
  source: Source;
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
}

export interface RejectionDoc {
  source: Source;
  reason: RejectionReason | PayloadRejection;
  detail: string;
  feedId?: string;
  symbol?: string;
  publishTime?: number;
  /** The offending payload, trimmed. */
  raw: string;
  receivedAt: Date;
}

export const RAW_PAYLOAD_LIMIT = 2_048;
/** Longest history window one request may read (its minutes are fetched one by one). */
export const MAX_HISTORY_WINDOW_SEC = 24 * 3_600;
/** Feeds per `oracle_prices` document: small documents keep FerretDB's updates fast. */
export const FEEDS_PER_PRICES_DOC = 32;

const chunkSchema = new Schema<PricesChunkDoc>(
  {
    _id: { type: String, required: true },
    prices: { type: Schema.Types.Mixed, default: {} },
    marks: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'oracle_prices', versionKey: false, minimize: false },
);

const tickSchema = new Schema<TickDoc>(
  {
    _id: { type: String, required: true },
    feedId: { type: String, required: true },
    symbol: { type: String, required: true },
    source: { type: String, required: true },
    price: { type: String, required: true },
    conf: { type: String, required: true },
    expo: { type: Number, required: true },
    publishTime: { type: Number, required: true },
    receivedAt: { type: Date, required: true },
  },
  { collection: 'oracle_price_history', versionKey: false },
);

const minuteSchema = new Schema<MinuteDoc>(
  {
    _id: { type: String, required: true },
    feedId: { type: String, required: true },
    symbol: { type: String, required: true },
    source: { type: String, required: true },
    minute: { type: Number, required: true },
    ticks: { type: Schema.Types.Mixed, required: true },
    complete: { type: Boolean, required: true },
  },
  { collection: 'oracle_price_minutes', versionKey: false, minimize: false },
);

const rejectionSchema = new Schema<RejectionDoc>(
  {
    source: { type: String, required: true },
    reason: { type: String, required: true },
    detail: { type: String, required: true },
    feedId: String,
    symbol: String,
    publishTime: Number,
    raw: { type: String, required: true },
    receivedAt: { type: Date, required: true },
  },
  { collection: 'oracle_rejections', versionKey: false },
);

const model = <T>(c: Connection, name: string, schema: Schema<T>): Model<T> => (c.models[name] as Model<T>) ?? c.model<T>(name, schema);

export function priceModels(c: Connection) {
  return {
    latest: model(c, 'OraclePrices', chunkSchema),
    history: model(c, 'OraclePriceHistory', tickSchema),
    minutes: model(c, 'OraclePriceMinute', minuteSchema),
    rejections: model(c, 'OracleRejection', rejectionSchema),
  };
}
export type PriceModels = ReturnType<typeof priceModels>;

export const minuteOf = (publishTime: number) => Math.floor(publishTime / 60) * 60;
export const tickId = (feedId: string, source: Source, publishTime: number) => `${feedId}:${source}:${publishTime}`;
export const minuteId = (feedId: string, source: Source, minute: number) => `${feedId}:${source}:${minute}`;
export const toTick = (p: AcceptedPrice): Tick => ({ p: p.price.toString(), c: p.conf.toString(), e: p.expo, r: p.receivedAt });

const toStoredPrice = (p: AcceptedPrice): StoredPrice => ({
  feedId: p.feedId,
  symbol: p.symbol,
  source: p.source,
  price: p.price.toString(),
  conf: p.conf.toString(),
  expo: p.expo,
  publishTime: p.publishTime,
  receivedAt: new Date(p.receivedAt),
});

export const toLatestDoc = (p: AcceptedPrice): Omit<LatestPriceDoc, 'stale'> => ({
  ...toStoredPrice(p),
  ...(p.emaPrice !== undefined && { emaPrice: p.emaPrice.toString(), emaConf: (p.emaConf ?? 0n).toString() }),
});

export const fromLatestDoc = (d: Omit<LatestPriceDoc, 'stale' | 'staleSince'>): AcceptedPrice => ({
  feedId: d.feedId,
  symbol: d.symbol,
  source: d.source,
  price: BigInt(d.price),
  conf: BigInt(d.conf),
  expo: d.expo,
  publishTime: d.publishTime,
  ...(d.emaPrice !== undefined && { emaPrice: BigInt(d.emaPrice), emaConf: BigInt(d.emaConf ?? '0') }),
  hasConfidence: d.source === 'pyth',
  receivedAt: d.receivedAt.getTime(),
});

/** Reads in flight at once when one call reads many documents by `_id`. */
const READ_FAN_OUT = 32;
/** Updates in flight at once: SQLite serialises writes, more in parallel only contend. */
const WRITE_FAN_OUT = 2;
const DUPLICATE_KEY = 11000;

/** Runs `fetch` over `items`, at most `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, fetch: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fetch))));
  return out;
}

function isOnlyDuplicates(e: unknown): boolean {
  const err = e as { code?: number; writeErrors?: { code?: number; err?: { code?: number } }[] };
  if (err.code === DUPLICATE_KEY && !err.writeErrors) return true;
  return Array.isArray(err.writeErrors) && err.writeErrors.length > 0 && err.writeErrors.every((w) => (w.code ?? w.err?.code) === DUPLICATE_KEY);
}

/** The store the ingestion activities, the sync and the gateway share. */
export function createPriceStore(models: PriceModels, markets: MarketIndex) {
  const chunkOf = new Map<string, string>();
  for (const [group, list] of markets.groups()) list.forEach((m, i) => chunkOf.set(m.pythFeedId, `${group}:${Math.floor(i / FEEDS_PER_PRICES_DOC)}`));
  const docOf = (feedId: string) => {
    const id = chunkOf.get(feedId);
    if (!id) throw new RangeError(`feed ${feedId} is not in the registry`);
    return id;
  };
  const byDoc = (feedIds: Iterable<string>) => {
    const out = new Map<string, string[]>();
    for (const f of feedIds) out.set(docOf(f), [...(out.get(docOf(f)) ?? []), f]);
    return out;
  };
  const readDocs = (feedIds: readonly string[], projection?: Record<string, 1>) =>
    inBatches([...byDoc(feedIds).keys()], READ_FAN_OUT, (_id) => models.latest.findOne({ _id }, projection).lean());

  return {
    models,

    async ensureIndexes(): Promise<void> {
      await Promise.all(Object.values(models).map((m) => m.createIndexes()));
    },

    /**
     * Records accepted prices as their sources' newest publish times, and `served` as their feeds'
     * served prices: one `$set` per prices document. One ingest process writes a feed group and
     * passes only prices newer than the stored ones, so a feed never moves backward.
     */
    async writeLatest(accepted: readonly AcceptedPrice[], served: readonly AcceptedPrice[]): Promise<void> {
      const sets = new Map<string, Record<string, unknown>>();
      const set = (feedId: string, path: string, value: unknown) => sets.set(docOf(feedId), { ...sets.get(docOf(feedId)), [path]: value });
      for (const p of accepted) set(p.feedId, `marks.${p.feedId}:${p.source}`, p.publishTime);
      for (const p of served) set(p.feedId, `prices.${p.feedId}`, { ...toLatestDoc(p), stale: false });
      await inBatches([...sets], WRITE_FAN_OUT, ([_id, $set]) => models.latest.updateOne({ _id }, { $set }, { upsert: true }));
    },

    /** Inserts accepted updates; those already stored (a retry) are skipped, never duplicated. */
    async writeTicks(prices: readonly AcceptedPrice[]): Promise<void> {
      if (prices.length === 0) return;
      try {
        // The driver's insert, without mongoose's per-document casting: this is the hot path.
        await (models.history.collection as unknown as mongo.Collection<TickDoc>).insertMany(
          prices.map((p) => ({ _id: tickId(p.feedId, p.source, p.publishTime), ...toStoredPrice(p) })),
          { ordered: false },
        );
      } catch (e) {
        if (!isOnlyDuplicates(e)) throw e;
      }
    },

    /**
     * Writes minute documents: inserted (cheap) when new, which is the rule; merged into the stored
     * one (an update, costly) when a writer already stored part of that minute.
     */
    async writeMinutes(rollups: readonly MinuteRollup[]): Promise<void> {
      if (rollups.length === 0) return;
      let existing: MinuteRollup[] = [];
      try {
        await (models.minutes.collection as unknown as mongo.Collection<MinuteDoc>).insertMany(
          rollups.map((r) => ({ _id: minuteId(r.feedId, r.source, r.minute), ...r })),
          { ordered: false },
        );
      } catch (e) {
        if (!isOnlyDuplicates(e)) throw e;
        const failed = new Set(((e as { writeErrors?: { index: number }[] }).writeErrors ?? []).map((w) => w.index));
        existing = rollups.filter((_, i) => failed.has(i));
      }
      await inBatches(existing, WRITE_FAN_OUT, (r) =>
        models.minutes.updateOne(
          { _id: minuteId(r.feedId, r.source, r.minute) },
          { $set: { ...Object.fromEntries(Object.entries(r.ticks).map(([k, t]) => [`ticks.${k}`, t])), ...(!r.complete && { complete: false }) } },
        ),
      );
    },

    async writeRejections(rejections: readonly RejectionDoc[]): Promise<void> {
      if (rejections.length === 0) return;
      await models.rejections.insertMany(
        rejections.map((r) => ({ ...r, raw: r.raw.slice(0, RAW_PAYLOAD_LIMIT) })),
        { ordered: false, lean: true },
      );
    },

    /** Marks the feeds' served prices stale (both sources failing) or fresh again. */
    async markStale(feedIds: readonly string[], stale: boolean, at: Date): Promise<void> {
      await inBatches([...byDoc(feedIds)], WRITE_FAN_OUT, ([_id, feeds]) =>
        models.latest.updateOne(
          { _id },
          stale
            ? { $set: Object.fromEntries(feeds.flatMap((f) => [[`prices.${f}.stale`, true], [`prices.${f}.staleSince`, at]])) }
            : { $set: Object.fromEntries(feeds.map((f) => [`prices.${f}.stale`, false])), $unset: Object.fromEntries(feeds.map((f) => [`prices.${f}.staleSince`, 1])) },
          { upsert: true },
        ),
      );
    },

    /** The served price of each feed that has one (all feeds when none are named). */
    async latest(feedIds?: readonly string[]): Promise<LatestPriceDoc[]> {
      const docs = feedIds ? await readDocs(feedIds) : await models.latest.find({}).lean();
      const wanted = feedIds && new Set(feedIds);
      return docs.flatMap((d) =>
        Object.values(d?.prices ?? {}).filter((p): p is LatestPriceDoc => p.price !== undefined && (!wanted || wanted.has(p.feedId!))),
      );
    },

    /** The newest stored publish time per `feedId:source`: where validation resumes after a restart. */
    async lastPublishTimes(feedIds: readonly string[]): Promise<Map<string, number>> {
      const wanted = new Set(feedIds);
      const docs = await readDocs(feedIds, { marks: 1 });
      return new Map(docs.flatMap((d) => Object.entries(d?.marks ?? {}).filter(([k]) => wanted.has(k.split(':')[0]!))));
    },

    /**
     * Every stored update of a feed within [from, to] (both sources), oldest first: from the minute
     * documents, and for a minute without a complete one (the current minute, or one a worker
     * restarted in), from the per-update documents of its seconds.
     */
    async history(feedId: string, from: number, to: number): Promise<HistoryRow[]> {
      if (to - from > MAX_HISTORY_WINDOW_SEC) throw new RangeError(`history windows are at most ${MAX_HISTORY_WINDOW_SEC} s`);
      const rows = new Map<string, HistoryRow>();
      const add = (source: Source, publishTime: number, t: Tick) => {
        if (publishTime >= from && publishTime <= to) rows.set(`${source}:${publishTime}`, { source, price: t.p, conf: t.c, expo: t.e, publishTime });
      };
      const minutes: [Source, number][] = [];
      for (let m = minuteOf(from); m <= to; m += 60) for (const source of ['pyth', 'coingecko'] as const) minutes.push([source, m]);
      const docs = await inBatches(minutes, READ_FAN_OUT, ([source, m]) => models.minutes.findOne({ _id: minuteId(feedId, source, m) }).lean());
      const seconds: [Source, number][] = [];
      minutes.forEach(([source, m], i) => {
        const d = docs[i];
        for (const [key, t] of Object.entries(d?.ticks ?? {})) add(source, Number(key.slice(1)), t);
        if (!d?.complete) for (let t = Math.max(m, from); t <= Math.min(m + 59, to); t++) seconds.push([source, t]);
      });
      const ticks = await inBatches(seconds, READ_FAN_OUT, ([source, t]) => models.history.findOne({ _id: tickId(feedId, source, t) }).lean());
      for (const t of ticks) if (t) add(t.source, t.publishTime, { p: t.price, c: t.conf, e: t.expo, r: t.receivedAt.getTime() });
      return [...rows.values()].sort((a, b) => a.publishTime - b.publishTime || a.source.localeCompare(b.source));
    },

    /** Retention: deletes updates, minutes and rejections older than the cut-offs. */
    async prune(historyBefore: number, rejectionsBefore: Date): Promise<{ updates: number; minutes: number; rejections: number }> {
      const [u, m, r] = await Promise.all([
        models.history.deleteMany({ publishTime: { $lt: historyBefore } }),
        models.minutes.deleteMany({ minute: { $lt: minuteOf(historyBefore) } }),
        models.rejections.deleteMany({ receivedAt: { $lt: rejectionsBefore } }),
      ]);
      return { updates: u.deletedCount, minutes: m.deletedCount, rejections: r.deletedCount };
    },
  };
}
export type PriceStore = ReturnType<typeof createPriceStore>;
