import type { Connection, mongo } from 'mongoose';
import { MAX_CANDLES, buildCandles, mergeCandles, minuteOf, servedSeries, type Candle, type CandleSet, type SourcedPoint } from '../../domain/candles.ts';
import type { Source } from '../../domain/price.ts';
import { MAX_HISTORY_WINDOW_SEC, MAX_UPDATES_WINDOW_SEC, type AcceptedPrice, type CandleSeries, type HistoryRow, type PriceHistory } from '../roles.ts';
import { inBatches } from './batches.ts';
import { Partitions, dayKey, insertedDespite, isOnlyDuplicates, type PartitionedFamily } from './partitions.ts';
import { groupBy } from '../../domain/group-by.ts';

/**
 * Price history, laid out so that every read is an equality lookup on an indexed key and costs
 * the same on day 30 as on day 1 — on FerretDB (whose filters an index serves only as equalities,
 * see README "Storage") as on MongoDB. Three levels, each in per-day collections:
 *  - updates (`oracle_price_ticks_<day>`): one insert-only document per accepted update, `_id` =
 *    `feed:source:publishTime[:slot]` (a retry is refused as a duplicate, so an update is stored
 *    once), bucketed by `m` = `feed:minute` — a minute of a feed, both sources, is one lookup;
 *  - minute candles (`oracle_price_minutes_<day>`): the served series of one feed-minute, `_id` =
 *    `feed:minute`, bucketed by `h` = `feed:hour`, sealed from the stored updates once the minute is
 *    over and all its updates are stored;
 *  - hour documents (`oracle_price_hours_<day>`): an hour's minute candles in one document, `_id` =
 *    `feed:hour`, sealed with the hour's last minute.
 * A 24 h window at 5-minute candles reads ~25 hour documents, one minute bucket and a few update
 * buckets, whatever the collections hold. Mantissas are decimal strings.
 */

interface TickDoc {
  _id: string;
  /** `feed:minute` */
  m: string;
  /** source */
  s: Source;
  /** price, conf mantissas; exponent; publish time; slot; received at (epoch ms) */
  p: string;
  c: string;
  e: number;
  t: number;
  sl?: number;
  r: number;
}

/** A candle as stored: mantissas as decimal strings at exponent `e`. */
interface CandleFields {
  t: number;
  e: number;
  o: string;
  hi: string;
  l: string;
  c: string;
  cc: string;
  cm: string;
  n: number;
}

interface MinuteDoc extends CandleFields {
  /** `feed:minute` */
  _id: string;
  /** `feed:hour` */
  h: string;
}

interface HourDoc {
  /** `feed:hour` */
  _id: string;
  t: number;
  minutes: CandleFields[];
}

export const HISTORY_FAMILIES = {
  ticks: { name: 'oracle_price_ticks', indexes: [{ m: 1 }] },
  minutes: { name: 'oracle_price_minutes', indexes: [{ h: 1 }] },
  hours: { name: 'oracle_price_hours', indexes: [] },
} satisfies Record<string, PartitionedFamily>;

const hourOf = (t: number) => Math.floor(t / 3_600) * 3_600;
const tickId = (p: AcceptedPrice) => `${p.feedId}:${p.source}:${p.publishTime}${p.slot !== undefined ? `:${p.slot}` : ''}`;
/** Hour documents in flight at once: a whole 24 h window's in one wave. */
const HOUR_FAN_OUT = 25;

const toFields = (c: Candle, e: number): CandleFields => ({
  t: c.time,
  e,
  o: c.open.toString(),
  hi: c.high.toString(),
  l: c.low.toString(),
  c: c.close.toString(),
  cc: c.confClose.toString(),
  cm: c.confMax.toString(),
  n: c.count,
});
const fromFields = (f: CandleFields): CandleSet => ({
  expo: f.e,
  candles: [{ time: f.t, open: BigInt(f.o), high: BigInt(f.hi), low: BigInt(f.l), close: BigInt(f.c), confClose: BigInt(f.cc), confMax: BigInt(f.cm), count: f.n }],
});
const toPoint = (d: TickDoc): SourcedPoint => ({ source: d.s, publishTime: d.t, price: BigInt(d.p), conf: BigInt(d.c), expo: d.e });

export interface HistoryMarks {
  /** The newest minute sealed for each feed: later minutes are read from their updates. */
  sealedThrough(feedId: string): Promise<number | undefined>;
  markSealed(feedIds: readonly string[], minute: number): Promise<void>;
}

export function createMongoHistory(c: Connection, marks: HistoryMarks): PriceHistory & { partitions: Partitions } {
  const partitions = new Partitions(c, Object.values(HISTORY_FAMILIES));
  const ticksOf = (t: number) => partitions.collection<TickDoc>(HISTORY_FAMILIES.ticks, dayKey(t));
  const minutesOf = (t: number) => partitions.collection<MinuteDoc>(HISTORY_FAMILIES.minutes, dayKey(t));
  const hoursOf = (t: number) => partitions.collection<HourDoc>(HISTORY_FAMILIES.hours, dayKey(t));

  const minuteTicks = (feedId: string, minute: number) => ticksOf(minute).find({ m: `${feedId}:${minute}` }).toArray();

  /** One minute's candle of the served series, from its stored updates. */
  async function sealMinute(feedId: string, minute: number): Promise<MinuteDoc | undefined> {
    const points = servedSeries((await minuteTicks(feedId, minute)).map(toPoint));
    if (points.length === 0) return undefined;
    const { expo, candles } = buildCandles(points, 60);
    return { _id: `${feedId}:${minute}`, h: `${feedId}:${hourOf(minute)}`, ...toFields(candles[0]!, expo) };
  }

  /**
   * Inserts documents (the rule); replaces those sealed before (late updates: sealing again) — at
   * once when the caller knows it sealed them, else after the insert refused them.
   */
  async function upsertAll<T extends { _id: string }>(coll: mongo.Collection<T>, docs: T[], replace = false): Promise<void> {
    if (docs.length === 0) return;
    if (replace) {
      for (const d of docs) await coll.replaceOne({ _id: d._id } as mongo.Filter<T>, d as mongo.WithoutId<T>, { upsert: true });
      return;
    }
    let again: T[] = [];
    try {
      await coll.insertMany(docs as mongo.OptionalUnlessRequiredId<T>[], { ordered: false });
    } catch (e) {
      if (!isOnlyDuplicates(e)) throw e;
      const failed = new Set(((e as { writeErrors?: { index: number }[] }).writeErrors ?? []).map((w) => w.index));
      again = docs.filter((_, i) => failed.has(i));
    }
    for (const d of again) await coll.replaceOne({ _id: d._id } as mongo.Filter<T>, d as mongo.WithoutId<T>);
  }

  /**
   * Minute candles of whole minutes [fromMinute, toMinute] (both starts), from the coarsest level
   * that holds them. The lookups go out together, not level after level: a 24 h window is ~25 hour
   * documents and a few minute and update buckets, each an indexed equality, in two round trips.
   */
  async function minuteCandles(feedId: string, fromMinute: number, toMinute: number, signal?: AbortSignal): Promise<CandleSet[]> {
    const hours: number[] = [];
    for (let h = hourOf(fromMinute); h <= toMinute; h += 3_600) hours.push(h);
    // Whole hours in the window: one document each once sealed (an hour document exists only then).
    const whole = hours.filter((h) => h >= fromMinute && h + 3_540 <= toMinute);
    const [sealedMark, hourDocs] = await Promise.all([
      marks.sealedThrough(feedId),
      inBatches(whole, (h) => hoursOf(h).findOne({ _id: `${feedId}:${h}` }), { signal, width: HOUR_FAN_OUT }),
    ]);
    const sealed = sealedMark ?? Number.NEGATIVE_INFINITY;
    const sets: CandleSet[] = [];
    for (const d of hourDocs) if (d) sets.push(...d.minutes.map(fromFields));
    // The rest, hour by hour: its minute candles in one lookup, each minute after the last sealed one from its updates.
    const viaMinutes = hours.filter((h) => !whole.includes(h) || !hourDocs[whole.indexOf(h)]);
    const unsealed: number[] = [];
    for (const h of viaMinutes) for (let m = Math.max(h, fromMinute, minuteOf(sealed) + 60); m <= Math.min(h + 3_540, toMinute); m += 60) unsealed.push(m);
    const [partial, fresh] = await Promise.all([
      inBatches(viaMinutes, (h) => minutesOf(h).find({ h: `${feedId}:${h}` }).toArray(), { signal }),
      inBatches(unsealed, async (m) => servedSeries((await minuteTicks(feedId, m)).map(toPoint)), { signal }),
    ]);
    for (const minutes of partial) for (const m of minutes) if (m.t >= fromMinute && m.t <= toMinute) sets.push(fromFields(m));
    for (const points of fresh) if (points.length > 0) sets.push(buildCandles(points, 60));
    return sets;
  }

  /** The served series' updates of a feed in [from, to], minute bucket by minute bucket. */
  async function servedUpdates(feedId: string, from: number, to: number, signal?: AbortSignal): Promise<SourcedPoint[]> {
    const minutes: number[] = [];
    for (let m = minuteOf(from); m <= to; m += 60) minutes.push(m);
    const docs = (await inBatches(minutes, (m) => minuteTicks(feedId, m), { signal })).flat();
    return servedSeries(docs.filter((d) => d.t >= from && d.t <= to).map(toPoint));
  }

  return {
    partitions,

    async append(prices) {
      if (prices.length === 0) return 0;
      const ticks = prices.map((p): TickDoc => ({
        _id: tickId(p),
        m: `${p.feedId}:${minuteOf(p.publishTime)}`,
        s: p.source,
        p: p.price.toString(),
        c: p.conf.toString(),
        e: p.expo,
        t: p.publishTime,
        ...(p.slot !== undefined && { sl: p.slot }),
        r: p.receivedAt,
      }));
      const byDay = groupBy(ticks, (d) => dayKey(d.t));
      let inserted = 0;
      for (const [day, docs] of byDay) {
        await partitions.ensure(day);
        try {
          // The driver's insert, without mongoose's per-document casting: this is the hot path.
          inserted += (await partitions.collection<TickDoc>(HISTORY_FAMILIES.ticks, day).insertMany(docs, { ordered: false })).insertedCount;
        } catch (e) {
          if (!isOnlyDuplicates(e)) throw e;
          inserted += insertedDespite(e);
        }
      }
      return inserted;
    },

    async seal(feedIds, minute, again = false) {
      await partitions.ensure(dayKey(minute));
      const docs = (await inBatches(feedIds, (f) => sealMinute(f, minute))).filter((d): d is MinuteDoc => d !== undefined);
      await upsertAll(minutesOf(minute), docs, again);
      if (minute % 3_600 === 3_540) {
        const hour = hourOf(minute);
        const hourDocs = await inBatches(feedIds, async (f): Promise<HourDoc | undefined> => {
          const minutes = await minutesOf(hour).find({ h: `${f}:${hour}` }).toArray();
          if (minutes.length === 0) return undefined;
          return { _id: `${f}:${hour}`, t: hour, minutes: minutes.sort((a, b) => a.t - b.t).map(({ _id: _i, h: _h, ...fields }) => fields) };
        });
        await upsertAll(hoursOf(hour), hourDocs.filter((d): d is HourDoc => d !== undefined), again);
      }
      await marks.markSealed(feedIds, minute);
    },

    async candles(feedId, from, to, intervalSec, signal) {
      if (to - from > MAX_HISTORY_WINDOW_SEC) throw new RangeError(`history windows are at most ${MAX_HISTORY_WINDOW_SEC} s`);
      if ((to - from) / intervalSec > MAX_CANDLES) throw new RangeError(`more than ${MAX_CANDLES} candles: widen the interval or narrow the range`);
      if (intervalSec % 60 !== 0) {
        if (60 % intervalSec !== 0) throw new RangeError('an interval under a minute must divide 60 s; longer ones must be whole minutes');
        if (to - from > MAX_UPDATES_WINDOW_SEC * 2) throw new RangeError(`intervals under a minute read windows of at most ${MAX_UPDATES_WINDOW_SEC * 2} s`);
        return buildCandles(await servedUpdates(feedId, from, to, signal), intervalSec);
      }
      // Whole minutes from the pre-aggregated levels; the partial minutes at either edge from their updates.
      const firstWhole = minuteOf(from) === from ? from : minuteOf(from) + 60;
      const lastWhole = minuteOf(to + 1) - 60;
      const spans: [number, number][] = firstWhole <= lastWhole ? [[from, firstWhole - 1], [lastWhole + 60, to]] : [[from, to]];
      const edges = spans.filter(([a, b]) => a <= b);
      const [whole, ...edgePoints] = await Promise.all([
        firstWhole <= lastWhole ? minuteCandles(feedId, firstWhole, lastWhole, signal) : [],
        ...edges.map(([a, b]) => servedUpdates(feedId, a, b, signal)),
      ]);
      const sets: CandleSet[] = [...whole];
      for (const points of edgePoints) if (points.length > 0) sets.push(buildCandles(points, 60));
      return mergeCandles(sets, intervalSec);
    },

    async updates(feedId, from, to) {
      if (to - from > MAX_UPDATES_WINDOW_SEC) throw new RangeError(`update windows are at most ${MAX_UPDATES_WINDOW_SEC} s`);
      const minutes: number[] = [];
      for (let m = minuteOf(from); m <= to; m += 60) minutes.push(m);
      const docs = (await inBatches(minutes, (m) => minuteTicks(feedId, m))).flat();
      return docs
        .filter((d) => d.t >= from && d.t <= to)
        .sort((a, b) => a.t - b.t || a.s.localeCompare(b.s) || (a.sl ?? 0) - (b.sl ?? 0))
        .map((d): HistoryRow => ({ source: d.s, price: d.p, conf: d.c, expo: d.e, publishTime: d.t, ...(d.sl !== undefined && { slot: d.sl }) }));
    },

    async prune(before) {
      return { days: await partitions.dropBefore(before) };
    },
  };
}
