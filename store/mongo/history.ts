import type { Connection, mongo } from 'mongoose';
import { MAX_CANDLES, buildCandles, mergeCandles, minuteOf, servedSeries, type Candle, type CandleSet, type SourcedPoint } from '../../domain/candles.ts';
import type { Source } from '../../domain/price.ts';
import { MAX_HISTORY_WINDOW_SEC, MAX_UPDATES_WINDOW_SEC, type AcceptedPrice, type CandleSeries, type HistoryRow, type PriceHistory } from '../roles.ts';
import { inBatches } from './batches.ts';
import { DAY_SEC, Partitions, dayKey, insertedDespite, isOnlyDuplicates, type PartitionedFamily } from './partitions.ts';
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
 *    `feed:hour`, sealed with the hour's last minute;
 *  - day documents (`oracle_price_days_<day>`): the 5-minute candles of a feed's sealed hours of the
 *    day, `_id` = `feed:day`, rewritten as each hour is sealed; `hrs` lists the hours they hold.
 * A 24 h window at a multiple of 5 minutes reads two day documents, the hour documents of the hours
 * they do not hold yet (the last one or two), one minute bucket and a few update buckets, whatever
 * the collections hold. Mantissas are decimal strings.
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

interface DayDoc {
  /** `feed:day` (day start, unix seconds) */
  _id: string;
  t: number;
  /** The sealed hours whose 5-minute candles `fives` holds. */
  hrs: number[];
  fives: CandleFields[];
}

export const HISTORY_FAMILIES = {
  ticks: { name: 'oracle_price_ticks', indexes: [{ m: 1 }] },
  minutes: { name: 'oracle_price_minutes', indexes: [{ h: 1 }] },
  hours: { name: 'oracle_price_hours', indexes: [] },
  days: { name: 'oracle_price_days', indexes: [] },
} satisfies Record<string, PartitionedFamily>;

const hourOf = (t: number) => Math.floor(t / 3_600) * 3_600;
const dayOf = (t: number) => Math.floor(t / DAY_SEC) * DAY_SEC;
/** The day level's candle width: windows at a multiple of it read day documents. */
const FIVE_MIN = 300;
const tickId = (p: AcceptedPrice) => `${p.feedId}:${p.source}:${p.publishTime}${p.slot !== undefined ? `:${p.slot}` : ''}`;
/** Hour documents in flight at once: a whole 24 h window's in one wave. */
const HOUR_FAN_OUT = 25;
/**
 * Lookups in flight at once while sealing, background work that reads back every update of a minute
 * (60,000 documents a minute at 1,000 updates/s): few, so a read from the dashboard waits behind two
 * of them at the database, not behind eight.
 */
const SEAL_FAN_OUT = 2;

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

/** `now`: epoch ms, the clock that tells an hour over (only an hour that is over can have been rolled up). */
export function createMongoHistory(c: Connection, marks: HistoryMarks, now: () => number = Date.now): PriceHistory & { partitions: Partitions } {
  const partitions = new Partitions(c, Object.values(HISTORY_FAMILIES));
  const ticksOf = (t: number) => partitions.collection<TickDoc>(HISTORY_FAMILIES.ticks, dayKey(t));
  const minutesOf = (t: number) => partitions.collection<MinuteDoc>(HISTORY_FAMILIES.minutes, dayKey(t));
  const hoursOf = (t: number) => partitions.collection<HourDoc>(HISTORY_FAMILIES.hours, dayKey(t));
  const daysOf = (t: number) => partitions.collection<DayDoc>(HISTORY_FAMILIES.days, dayKey(t));

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
   * once when the caller knows it sealed them, else after the insert refused them. Returns those
   * that were (or, told to replace, may have been) there before.
   */
  async function upsertAll<T extends { _id: string }>(coll: mongo.Collection<T>, docs: T[], replace = false): Promise<T[]> {
    if (docs.length === 0) return [];
    if (replace) {
      for (const d of docs) await coll.replaceOne({ _id: d._id } as mongo.Filter<T>, d as mongo.WithoutId<T>, { upsert: true });
      return docs;
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
    return again;
  }

  /**
   * Minute candles of the whole minutes in `ranges` ([first, last] minute starts), from the coarsest
   * level that holds them: an hour's document once it is sealed, else its minute bucket, and each
   * minute after the last sealed one from its updates. Two waves of lookups, each an indexed equality.
   */
  async function minuteCandles(feedId: string, ranges: readonly (readonly [number, number])[], signal?: AbortSignal): Promise<CandleSet[]> {
    const wanted = (m: number) => ranges.some(([a, b]) => m >= a && m <= b);
    const hours = [...new Set(ranges.flatMap(([a, b]) => {
      const out: number[] = [];
      for (let h = hourOf(a); h <= b; h += 3_600) out.push(h);
      return out;
    }))].sort((a, b) => a - b);
    const [sealedMark, hourDocs] = await Promise.all([
      marks.sealedThrough(feedId),
      inBatches(hours, (h) => hoursOf(h).findOne({ _id: `${feedId}:${h}` }), { signal, width: HOUR_FAN_OUT }),
    ]);
    const sealed = sealedMark ?? Number.NEGATIVE_INFINITY;
    const sets: CandleSet[] = [];
    const viaMinutes: number[] = [];
    hours.forEach((h, i) => {
      const d = hourDocs[i];
      if (!d) viaMinutes.push(h);
      else for (const f of d.minutes) if (wanted(f.t)) sets.push(fromFields(f));
    });
    const unsealed: number[] = [];
    for (const h of viaMinutes) for (let m = Math.max(h, minuteOf(sealed) + 60); m <= h + 3_540; m += 60) if (wanted(m)) unsealed.push(m);
    const [partial, fresh] = await Promise.all([
      inBatches(viaMinutes, (h) => minutesOf(h).find({ h: `${feedId}:${h}` }).toArray(), { signal }),
      inBatches(unsealed, async (m) => servedSeries((await minuteTicks(feedId, m)).map(toPoint)), { signal }),
    ]);
    for (const minutes of partial) for (const m of minutes) if (wanted(m.t)) sets.push(fromFields(m));
    for (const points of fresh) if (points.length > 0) sets.push(buildCandles(points, 60));
    return sets;
  }

  /**
   * Candles of whole minutes [fromMinute, toMinute] for an interval that is a multiple of 5 minutes:
   * the whole 5-minute spans from the day documents (one or two for 24 h), the minutes they do not
   * cover — the edges, the hours not sealed into them yet — as `minuteCandles` reads them.
   */
  async function fiveMinuteCandles(feedId: string, fromMinute: number, toMinute: number, signal?: AbortSignal): Promise<CandleSet[]> {
    const firstFive = Math.ceil(fromMinute / FIVE_MIN) * FIVE_MIN;
    const lastFive = Math.floor((toMinute + 60) / FIVE_MIN) * FIVE_MIN - FIVE_MIN;
    if (firstFive > lastFive) return minuteCandles(feedId, [[fromMinute, toMinute]], signal);
    const days: number[] = [];
    for (let d = dayOf(firstFive); d <= lastFive; d += DAY_SEC) days.push(d);
    const head: [number, number][] = fromMinute < firstFive ? [[fromMinute, firstFive - 60]] : [];
    // The leading minutes go out with the day documents: they are needed whatever those hold.
    const [dayDocs, headSets] = await Promise.all([
      inBatches(days, (d) => daysOf(d).findOne({ _id: `${feedId}:${d}` }), { signal }),
      head.length > 0 ? minuteCandles(feedId, head, signal) : [],
    ]);
    const covered = new Set(dayDocs.flatMap((d) => d?.hrs ?? []));
    const sets: CandleSet[] = [...headSets];
    for (const d of dayDocs) for (const f of d?.fives ?? []) if (f.t >= firstFive && f.t <= lastFive && covered.has(hourOf(f.t))) sets.push(fromFields(f));
    // What the day documents do not hold, in contiguous runs of minutes.
    const rest: [number, number][] = [];
    for (let m = firstFive; m <= toMinute; m += 60) {
      if (m <= lastFive + FIVE_MIN - 60 && covered.has(hourOf(m))) continue;
      const run = rest.at(-1);
      if (run && run[1] === m - 60) run[1] = m;
      else rest.push([m, m]);
    }
    if (rest.length > 0) sets.push(...(await minuteCandles(feedId, rest, signal)));
    return sets;
  }

  /** The served series' updates of a feed in [from, to], minute bucket by minute bucket. */
  async function servedUpdates(feedId: string, from: number, to: number, signal?: AbortSignal): Promise<SourcedPoint[]> {
    const minutes: number[] = [];
    for (let m = minuteOf(from); m <= to; m += 60) minutes.push(m);
    const docs = (await inBatches(minutes, (m) => minuteTicks(feedId, m), { signal })).flat();
    return servedSeries(docs.filter((d) => d.t >= from && d.t <= to).map(toPoint));
  }

  /** Of these feeds, those whose `hour` has its hour document (it was rolled up). */
  async function hoursRolled(feedIds: readonly string[], hour: number): Promise<string[]> {
    const found = await inBatches(feedIds, (f) => hoursOf(hour).findOne({ _id: `${f}:${hour}` }, { projection: { _id: 1 } }), { width: SEAL_FAN_OUT });
    return feedIds.filter((_, i) => found[i]);
  }

  /**
   * Rolls an hour's sealed minutes up: its hour document, and its 5-minute candles into the day
   * document (read, the hour's candles replaced, written back). A day document that missed an hour
   * loses nothing: a read takes the hours it does not list from their hour documents.
   */
  async function rollHour(feedIds: readonly string[], hour: number, again: boolean): Promise<void> {
    if (feedIds.length === 0) return;
    const rolled = (
      await inBatches(feedIds, async (f) => {
        const minutes = await minutesOf(hour).find({ h: `${f}:${hour}` }).toArray();
        if (minutes.length === 0) return undefined;
        const fields = minutes.sort((a, b) => a.t - b.t).map(({ _id: _i, h: _h, ...rest }): CandleFields => rest);
        return { feedId: f, doc: { _id: `${f}:${hour}`, t: hour, minutes: fields } satisfies HourDoc };
      }, { width: SEAL_FAN_OUT })
    ).filter((r) => r !== undefined);
    await upsertAll(hoursOf(hour), rolled.map((r) => r.doc), again);
    const day = dayOf(hour);
    await inBatches(rolled, async ({ feedId, doc }) => {
      const _id = `${feedId}:${day}`;
      const { expo, candles } = mergeCandles(doc.minutes.map(fromFields), FIVE_MIN);
      const prev = await daysOf(day).findOne({ _id });
      const next: DayDoc = {
        _id,
        t: day,
        hrs: [...new Set([...(prev?.hrs ?? []), hour])].sort((a, b) => a - b),
        fives: [...(prev?.fives ?? []).filter((c) => hourOf(c.t) !== hour), ...candles.map((c) => toFields(c, expo))].sort((a, b) => a.t - b.t),
      };
      await daysOf(day).replaceOne({ _id }, next, { upsert: true });
    }, { width: SEAL_FAN_OUT });
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
      const docs = (await inBatches(feedIds, (f) => sealMinute(f, minute), { width: SEAL_FAN_OUT })).filter((d): d is MinuteDoc => d !== undefined);
      const resealed = await upsertAll(minutesOf(minute), docs, again);
      const hour = hourOf(minute);
      if (minute % 3_600 === 3_540) await rollHour(feedIds, hour, again);
      // A minute sealed again (late updates) of an hour already rolled up: its hour and day documents
      // take them in too. (A late update of the hour still running, the usual case, costs no lookup.)
      else if (resealed.length > 0 && now() >= (hour + 3_600) * 1000) await rollHour(await hoursRolled(resealed.map((d) => d._id.slice(0, d._id.lastIndexOf(':'))), hour), hour, true);
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
        firstWhole > lastWhole ? [] : intervalSec % FIVE_MIN === 0 ? fiveMinuteCandles(feedId, firstWhole, lastWhole, signal) : minuteCandles(feedId, [[firstWhole, lastWhole]], signal),
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
