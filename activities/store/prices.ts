import { Schema, type Connection, type Model } from 'mongoose';
import type { PayloadRejection } from '../../domain/payload.ts';
import type { Source, ValidPrice } from '../../domain/price.ts';
import type { RejectionReason } from '../../domain/validation.ts';

/**
 * Price storage. Mantissas are decimal strings (exact, any size), exponents integers, publish times
 * unix seconds. FerretDB has no TTL indexes: retention is the `retention` workflow on a schedule.
 *
 * Shaped for FerretDB 1.x on SQLite, which pushes down only an exact `{ _id }` filter (any other
 * filter, and any sort, scans the whole collection). So every read is by `_id`:
 *  - `oracle_prices`: the served price per feed, `_id = feedId`;
 *  - `oracle_source_marks`: the newest accepted publish time per source, `_id = feedId:source`;
 *  - `oracle_price_history`: every accepted update, bucketed per feed, source and minute
 *    (`_id = feedId:source:minute`), each update a key of its bucket's `ticks` named by its publish
 *    time. A retry writes the same key again, so an update can never be stored twice; a time range
 *    is read by enumerating its buckets. (The MongoDB time-series bucket pattern.)
 */

export interface AcceptedPrice extends ValidPrice {
  /** When our process received it, epoch milliseconds. */
  readonly receivedAt: number;
}

export interface LatestPriceDoc {
  /** The feed id. */
  _id: string;
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

/** One accepted update inside a history bucket (short keys: a bucket holds up to a minute of them). */
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

export interface HistoryBucketDoc {
  /** `${feedId}:${source}:${minute}` */
  _id: string;
  feedId: string;
  symbol: string;
  source: Source;
  /** Start of the bucket's minute, unix seconds. */
  minute: number;
  /** Keyed `t<publishTime>`. */
  ticks: Record<string, Tick>;
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

export interface SourceMarkDoc {
  /** `${feedId}:${source}` */
  _id: string;
  publishTime: number;
}

export const RAW_PAYLOAD_LIMIT = 2_048;
/** Longest history window one request may read (its buckets are fetched one by one). */
export const MAX_HISTORY_WINDOW_SEC = 24 * 3_600;

const latestSchema = new Schema<LatestPriceDoc>(
  {
    _id: { type: String, required: true },
    feedId: { type: String, required: true },
    symbol: { type: String, required: true },
    source: { type: String, required: true, enum: ['pyth', 'coingecko'] },
    price: { type: String, required: true },
    conf: { type: String, required: true },
    expo: { type: Number, required: true },
    publishTime: { type: Number, required: true },
    emaPrice: String,
    emaConf: String,
    receivedAt: { type: Date, required: true },
    stale: { type: Boolean, required: true, default: false },
    staleSince: Date,
  },
  { collection: 'oracle_prices', versionKey: false },
);

const historySchema = new Schema<HistoryBucketDoc>(
  {
    _id: { type: String, required: true },
    feedId: { type: String, required: true },
    symbol: { type: String, required: true },
    source: { type: String, required: true },
    minute: { type: Number, required: true },
    ticks: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'oracle_price_history', versionKey: false, minimize: false },
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

const markSchema = new Schema<SourceMarkDoc>(
  { _id: { type: String, required: true }, publishTime: { type: Number, required: true } },
  { collection: 'oracle_source_marks', versionKey: false },
);

const model = <T>(c: Connection, name: string, schema: Schema<T>): Model<T> => (c.models[name] as Model<T>) ?? c.model<T>(name, schema);

export function priceModels(c: Connection) {
  return {
    latest: model(c, 'OraclePrice', latestSchema),
    history: model(c, 'OraclePriceHistory', historySchema),
    rejections: model(c, 'OracleRejection', rejectionSchema),
    marks: model(c, 'OracleSourceMark', markSchema),
  };
}
export type PriceModels = ReturnType<typeof priceModels>;

export const minuteOf = (publishTime: number) => Math.floor(publishTime / 60) * 60;
export const bucketId = (feedId: string, source: Source, minute: number) => `${feedId}:${source}:${minute}`;

export const toLatestDoc = (p: AcceptedPrice): Omit<LatestPriceDoc, 'stale'> => ({
  _id: p.feedId,
  feedId: p.feedId,
  symbol: p.symbol,
  source: p.source,
  price: p.price.toString(),
  conf: p.conf.toString(),
  expo: p.expo,
  publishTime: p.publishTime,
  ...(p.emaPrice !== undefined && { emaPrice: p.emaPrice.toString(), emaConf: (p.emaConf ?? 0n).toString() }),
  receivedAt: new Date(p.receivedAt),
});

export const fromLatestDoc = (d: Omit<LatestPriceDoc, '_id' | 'stale' | 'staleSince'>): AcceptedPrice => ({
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

/** Runs `fetch` over `items`, at most `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, fetch: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fetch))));
  return out;
}

/** The store the ingestion activities and the gateway share. */
export function createPriceStore(models: PriceModels) {
  return {
    models,

    async ensureIndexes(): Promise<void> {
      await Promise.all(Object.values(models).map((m) => m.createIndexes()));
    },

    /**
     * Adds accepted prices to history (idempotent: an update already stored is written again
     * identically), records each source's newest publish time, and replaces the served price of
     * each feed with the newest of `served`. One ingest process writes a feed group, and passes only
     * served prices newer than the stored ones, so a replace by `_id` never moves a feed backward.
     */
    async writeAccepted(prices: readonly AcceptedPrice[], served: readonly AcceptedPrice[]): Promise<void> {
      if (prices.length === 0) return;
      const buckets = new Map<string, { p: AcceptedPrice; ticks: Record<string, Tick> }>();
      const marks = new Map<string, number>();
      for (const p of prices) {
        const id = bucketId(p.feedId, p.source, minuteOf(p.publishTime));
        const b = buckets.get(id) ?? { p, ticks: {} };
        b.ticks[`ticks.t${p.publishTime}`] = { p: p.price.toString(), c: p.conf.toString(), e: p.expo, r: p.receivedAt };
        buckets.set(id, b);
        const mark = `${p.feedId}:${p.source}`;
        marks.set(mark, Math.max(marks.get(mark) ?? 0, p.publishTime));
      }
      const newest = new Map<string, AcceptedPrice>();
      for (const p of served) if ((newest.get(p.feedId)?.publishTime ?? -1) <= p.publishTime) newest.set(p.feedId, p);
      await Promise.all([
        models.history.bulkWrite(
          [...buckets].map(([_id, { p, ticks }]) => ({
            updateOne: {
              filter: { _id },
              update: { $setOnInsert: { feedId: p.feedId, symbol: p.symbol, source: p.source, minute: minuteOf(p.publishTime) }, $set: ticks },
              upsert: true,
            },
          })),
          { ordered: false },
        ),
        models.marks.bulkWrite(
          [...marks].map(([_id, publishTime]) => ({ updateOne: { filter: { _id }, update: { $set: { publishTime } }, upsert: true } })),
          { ordered: false },
        ),
        newest.size > 0 &&
          models.latest.bulkWrite(
            [...newest.values()].map((p) => ({ replaceOne: { filter: { _id: p.feedId }, replacement: { ...toLatestDoc(p), stale: false }, upsert: true } })),
            { ordered: false },
          ),
      ]);
    },

    async writeRejections(rejections: readonly RejectionDoc[]): Promise<void> {
      if (rejections.length === 0) return;
      await models.rejections.insertMany(
        rejections.map((r) => ({ ...r, raw: r.raw.slice(0, RAW_PAYLOAD_LIMIT) })),
        { ordered: false, lean: true },
      );
    },

    /** Marks the feeds' latest prices stale (both sources failing) or fresh again. */
    async markStale(feedIds: readonly string[], stale: boolean, at: Date): Promise<void> {
      if (feedIds.length === 0) return;
      await models.latest.bulkWrite(
        feedIds.map((_id) => ({
          updateOne: { filter: { _id }, update: stale ? { $set: { stale: true, staleSince: at } } : { $set: { stale: false }, $unset: { staleSince: 1 } } },
        })),
        { ordered: false },
      );
    },

    /** The served price of each feed (all feeds when none are named). */
    async latest(feedIds?: readonly string[]): Promise<LatestPriceDoc[]> {
      if (!feedIds) return models.latest.find({}).lean();
      const docs = await inBatches(feedIds, 64, (_id) => models.latest.findOne({ _id }).lean());
      return docs.filter((d): d is NonNullable<typeof d> => d !== null);
    },

    /** The newest stored publish time per `feedId:source`: where validation resumes after a restart. */
    async lastPublishTimes(feedIds: readonly string[]): Promise<Map<string, number>> {
      const keys = feedIds.flatMap((f) => [`${f}:pyth`, `${f}:coingecko`]);
      const docs = await inBatches(keys, 64, (_id) => models.marks.findOne({ _id }).lean());
      return new Map(docs.filter((d): d is NonNullable<typeof d> => d !== null).map((d) => [d._id, d.publishTime]));
    },

    /** Every stored update of a feed within [from, to] (both sources), oldest first. */
    async history(feedId: string, from: number, to: number): Promise<HistoryRow[]> {
      if (to - from > MAX_HISTORY_WINDOW_SEC) throw new RangeError(`history windows are at most ${MAX_HISTORY_WINDOW_SEC} s`);
      const ids: string[] = [];
      for (let m = minuteOf(from); m <= to; m += 60) for (const source of ['pyth', 'coingecko'] as const) ids.push(bucketId(feedId, source, m));
      const buckets = await inBatches(ids, 64, (_id) => models.history.findOne({ _id }).lean());
      const rows: HistoryRow[] = [];
      for (const b of buckets) {
        if (!b) continue;
        for (const [key, t] of Object.entries(b.ticks)) {
          const publishTime = Number(key.slice(1));
          if (publishTime >= from && publishTime <= to) rows.push({ source: b.source, price: t.p, conf: t.c, expo: t.e, publishTime });
        }
      }
      return rows.sort((a, b) => a.publishTime - b.publishTime || a.source.localeCompare(b.source));
    },

    /** Retention: deletes history buckets and rejections older than the cut-offs. */
    async prune(historyBefore: number, rejectionsBefore: Date): Promise<{ buckets: number; rejections: number }> {
      const [h, r] = await Promise.all([
        models.history.deleteMany({ minute: { $lt: minuteOf(historyBefore) } }),
        models.rejections.deleteMany({ receivedAt: { $lt: rejectionsBefore } }),
      ]);
      return { buckets: h.deletedCount, rejections: r.deletedCount };
    },
  };
}
export type PriceStore = ReturnType<typeof createPriceStore>;
