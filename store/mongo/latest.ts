import { Schema, type Connection } from 'mongoose';
import type { MarketIndex } from '../../domain/markets.ts';
import { toLatestDoc } from '../price-docs.ts';
import type { LastAccepted, LatestPriceDoc, LatestPrices } from '../roles.ts';
import { modelOn } from './connection.ts';
import type { HistoryMarks } from './history.ts';
import { inBatches } from './batches.ts';
import { groupBy } from '../../domain/group-by.ts';

/**
 * `oracle_prices`: each feed's served price (`prices.<feedId>`), each source's newest accepted
 * update (`marks.<feedId>:<source>`) and the newest minute whose candle is sealed (`sealed.<feedId>`),
 * in one document per 32 feeds of a feed group (`_id` = `group:chunk`), read by `_id` and updated
 * with `$set` on those paths only: small documents keep FerretDB's in-place updates cheap.
 */
export interface PricesChunkDoc {
  /** `${feedGroup}:${chunk}` */
  _id: string;
  /** Served price per feed id (a feed marked stale before it ever had a price holds only `stale`). */
  prices: Record<string, Partial<LatestPriceDoc>>;
  /** Newest accepted update per `feedId:source` (older documents hold a bare publish time). */
  marks: Record<string, Mark>;
  /** Newest sealed minute per feed. */
  sealed: Record<string, number>;
}

type Mark = number | { t: number; s?: number };
const markOf = (m: Mark): LastAccepted => (typeof m === 'number' ? { publishTime: m } : { publishTime: m.t, ...(m.s !== undefined && { slot: m.s }) });

/** Feeds per `oracle_prices` document. */
export const FEEDS_PER_PRICES_DOC = 32;
/** Updates in flight at once: more in parallel only contend in the database. */
const WRITE_FAN_OUT = 4;

const chunkSchema = new Schema<PricesChunkDoc>(
  {
    _id: { type: String, required: true },
    prices: { type: Schema.Types.Mixed, default: {} },
    marks: { type: Schema.Types.Mixed, default: {} },
    sealed: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'oracle_prices', versionKey: false, minimize: false },
);

export function createMongoLatest(c: Connection, markets: MarketIndex): LatestPrices & HistoryMarks & { ensureIndexes(): Promise<void> } {
  const model = modelOn(c, 'OraclePrices', chunkSchema);
  const chunkOf = new Map<string, string>();
  for (const [group, list] of markets.groups()) list.forEach((m, i) => chunkOf.set(m.pythFeedId, `${group}:${Math.floor(i / FEEDS_PER_PRICES_DOC)}`));
  const docOf = (feedId: string) => {
    const id = chunkOf.get(feedId);
    if (!id) throw new RangeError(`feed ${feedId} is not in the registry`);
    return id;
  };
  const byDoc = (feedIds: Iterable<string>) => groupBy(feedIds, docOf);
  const readDocs = (feedIds: readonly string[], projection?: Record<string, 1>) =>
    inBatches([...byDoc(feedIds).keys()], (_id) => model.findOne({ _id }, projection).lean(), { width: 16 });
  const setEach = (sets: Map<string, Record<string, unknown>>, unsets?: Map<string, Record<string, 1>>) =>
    inBatches(
      [...new Set([...sets.keys(), ...(unsets?.keys() ?? [])])],
      (_id) => model.updateOne({ _id }, { ...(sets.get(_id) && { $set: sets.get(_id) }), ...(unsets?.get(_id) && { $unset: unsets.get(_id) }) }, { upsert: true }),
      { width: WRITE_FAN_OUT },
    );
  const put = (m: Map<string, Record<string, unknown>>, feedId: string, path: string, value: unknown) => m.set(docOf(feedId), { ...m.get(docOf(feedId)), [path]: value });

  return {
    async ensureIndexes() {
      await model.createIndexes();
    },

    async writeLatest(accepted, served) {
      const sets = new Map<string, Record<string, unknown>>();
      for (const p of accepted) put(sets, p.feedId, `marks.${p.feedId}:${p.source}`, { t: p.publishTime, ...(p.slot !== undefined && { s: p.slot }) });
      for (const p of served) put(sets, p.feedId, `prices.${p.feedId}`, { ...toLatestDoc(p), stale: false });
      await setEach(sets);
    },

    async markStale(feedIds, stale, at) {
      const sets = new Map<string, Record<string, unknown>>();
      const unsets = new Map<string, Record<string, 1>>();
      for (const f of feedIds) {
        put(sets, f, `prices.${f}.stale`, stale);
        if (stale) put(sets, f, `prices.${f}.staleSince`, at);
        else unsets.set(docOf(f), { ...unsets.get(docOf(f)), [`prices.${f}.staleSince`]: 1 });
      }
      await setEach(sets, unsets);
    },

    async latest(feedIds) {
      const docs = feedIds ? await readDocs(feedIds) : await model.find({}).lean();
      const wanted = feedIds && new Set(feedIds);
      return docs.flatMap((d) =>
        Object.values(d?.prices ?? {}).filter((p): p is LatestPriceDoc => p.price !== undefined && (!wanted || wanted.has(p.feedId!))),
      );
    },

    async lastAccepted(feedIds) {
      const wanted = new Set(feedIds);
      const docs = await readDocs(feedIds, { marks: 1 });
      return new Map(
        docs.flatMap((d) =>
          Object.entries((d?.marks ?? {}) as Record<string, Mark>)
            .filter(([k]) => wanted.has(k.split(':')[0]!))
            .map(([k, m]) => [k, markOf(m)] as const),
        ),
      );
    },

    async sealedThrough(feedId) {
      const [d] = await readDocs([feedId], { sealed: 1 });
      return d?.sealed?.[feedId];
    },

    async markSealed(feedIds, minute) {
      const maxes = new Map<string, Record<string, unknown>>();
      for (const f of feedIds) put(maxes, f, `sealed.${f}`, minute);
      // `$max`: sealing an older minute again (late updates) never moves the mark back.
      await inBatches([...maxes], ([_id, $max]) => model.updateOne({ _id }, { $max }, { upsert: true }), { width: WRITE_FAN_OUT });
    },
  };
}
