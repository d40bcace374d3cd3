import { Schema, type Connection, type Model } from 'mongoose';
import type { PayloadRejection } from '../../domain/payload.ts';
import type { Source, ValidPrice } from '../../domain/price.ts';
import type { RejectionReason } from '../../domain/validation.ts';

/**
 * Price storage. Mantissas are decimal strings (exact, any size), exponents integers, publish times
 * unix seconds. FerretDB has no TTL indexes: retention is the `pruneHistory` activity on a schedule.
 */

export interface AcceptedPrice extends ValidPrice {
  /** When our process received it, epoch milliseconds. */
  readonly receivedAt: number;
}

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

export interface HistoryDoc {
  feedId: string;
  symbol: string;
  source: Source;
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  receivedAt: Date;
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

const latestSchema = new Schema<LatestPriceDoc>(
  {
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
latestSchema.index({ feedId: 1 }, { unique: true });
latestSchema.index({ symbol: 1 });

const historySchema = new Schema<HistoryDoc>(
  {
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
// A retry or a reconnect that delivers the same update again never makes a second row.
historySchema.index({ feedId: 1, publishTime: 1, source: 1 }, { unique: true });
historySchema.index({ symbol: 1, publishTime: 1 });

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
rejectionSchema.index({ receivedAt: 1 });
rejectionSchema.index({ reason: 1, receivedAt: 1 });

const model = <T>(c: Connection, name: string, schema: Schema<T>): Model<T> => (c.models[name] as Model<T>) ?? c.model<T>(name, schema);

export function priceModels(c: Connection) {
  return {
    latest: model(c, 'OraclePrice', latestSchema),
    history: model(c, 'OraclePriceHistory', historySchema),
    rejections: model(c, 'OracleRejection', rejectionSchema),
  };
}
export type PriceModels = ReturnType<typeof priceModels>;

const DUPLICATE_KEY = 11000;

function isOnlyDuplicates(e: unknown): boolean {
  const err = e as { code?: number; writeErrors?: { code?: number; err?: { code?: number } }[] };
  if (err.code === DUPLICATE_KEY && !err.writeErrors) return true;
  return Array.isArray(err.writeErrors) && err.writeErrors.length > 0 && err.writeErrors.every((w) => (w.code ?? w.err?.code) === DUPLICATE_KEY);
}

export const toLatestDoc = (p: AcceptedPrice): Omit<LatestPriceDoc, 'stale'> => ({
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

const toHistoryDoc = (p: AcceptedPrice): HistoryDoc => ({
  feedId: p.feedId,
  symbol: p.symbol,
  source: p.source,
  price: p.price.toString(),
  conf: p.conf.toString(),
  expo: p.expo,
  publishTime: p.publishTime,
  receivedAt: new Date(p.receivedAt),
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

/** The store the ingestion activities and the gateway share. */
export function createPriceStore(models: PriceModels) {
  return {
    models,

    async ensureIndexes(): Promise<void> {
      await Promise.all(Object.values(models).map((m) => m.createIndexes()));
    },

    /**
     * Appends accepted prices to history (idempotent: duplicates are skipped, not errors) and moves
     * each feed's latest price forward — never backward, whatever order batches land in.
     * `updateLatest` is false for prices kept for cross-checking only (CoinGecko while Pyth is live).
     */
    async writeAccepted(prices: readonly AcceptedPrice[], updateLatest: (p: AcceptedPrice) => boolean): Promise<{ inserted: number }> {
      if (prices.length === 0) return { inserted: 0 };
      let inserted = prices.length;
      try {
        await models.history.insertMany(
          prices.map(toHistoryDoc),
          { ordered: false, lean: true },
        );
      } catch (e) {
        if (!isOnlyDuplicates(e)) throw e;
        inserted = prices.length - ((e as { writeErrors?: unknown[] }).writeErrors?.length ?? 0);
      }
      const newest = new Map<string, AcceptedPrice>();
      for (const p of prices) {
        if (!updateLatest(p)) continue;
        const prev = newest.get(p.feedId);
        if (!prev || p.publishTime > prev.publishTime || (p.publishTime === prev.publishTime && p.source === 'pyth')) newest.set(p.feedId, p);
      }
      await Promise.all(
        [...newest.values()].map(async (p) => {
          try {
            await models.latest.updateOne(
              { feedId: p.feedId, publishTime: { $lte: p.publishTime } },
              { $set: { ...toLatestDoc(p), stale: false }, $unset: { staleSince: 1 } },
              { upsert: true },
            );
          } catch (e) {
            // The filter missed because a newer price is stored; the upsert then collides: keep the newer one.
            if (!isOnlyDuplicates(e)) throw e;
          }
        }),
      );
      return { inserted };
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
      if (stale) {
        await models.latest.updateMany({ feedId: { $in: [...feedIds] }, stale: false }, { $set: { stale: true, staleSince: at } });
      } else {
        await models.latest.updateMany({ feedId: { $in: [...feedIds] } }, { $set: { stale: false }, $unset: { staleSince: 1 } });
      }
    },

    async latest(feedIds?: readonly string[]): Promise<LatestPriceDoc[]> {
      return models.latest.find(feedIds ? { feedId: { $in: [...feedIds] } } : {}).lean();
    },

    /** The newest stored publish time per feed and source: where validation resumes after a restart. */
    async lastPublishTimes(feedIds: readonly string[]): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      await Promise.all(
        feedIds.flatMap((feedId) =>
          (['pyth', 'coingecko'] as const).map(async (source) => {
            const doc = await models.history.findOne({ feedId, source }, { publishTime: 1 }).sort({ publishTime: -1 }).lean();
            if (doc) out.set(`${feedId}:${source}`, doc.publishTime);
          }),
        ),
      );
      return out;
    },

    async history(symbol: string, from: number, to: number, limit: number): Promise<Pick<HistoryDoc, 'price' | 'conf' | 'expo' | 'publishTime' | 'source'>[]> {
      return models.history
        .find({ symbol, publishTime: { $gte: from, $lte: to } }, { _id: 0, price: 1, expo: 1, publishTime: 1, source: 1, conf: 1 })
        .sort({ publishTime: 1 })
        .limit(limit)
        .lean();
    },

    /** Retention: deletes history and rejections older than the cut-offs. */
    async prune(historyBefore: number, rejectionsBefore: Date): Promise<{ history: number; rejections: number }> {
      const [h, r] = await Promise.all([
        models.history.deleteMany({ publishTime: { $lt: historyBefore } }),
        models.rejections.deleteMany({ receivedAt: { $lt: rejectionsBefore } }),
      ]);
      return { history: h.deletedCount, rejections: r.deletedCount };
    },
  };
}
export type PriceStore = ReturnType<typeof createPriceStore>;
