import { Schema, type Connection } from 'mongoose';
import type { InflightDoc, PushDoc, PushLog } from '../roles.ts';
import { modelOn } from './connection.ts';
import { Partitions, dayKey, type PartitionedFamily } from './partitions.ts';

/**
 * The on-chain sync's records. `oracle_pushes_<day>` holds every push decision and its outcome, one
 * document per market per attempt (insert-only, an audit trail), bucketed by market and ten minutes
 * (`ss`) and by market and hour (`sh`): a market's latest pushes are its newest ten-minute
 * buckets, two at a time, then (a quiet market) earlier hours' — a few equality lookups however long the log is kept, and however
 * far into its hour the clock is. `oracle_push_inflight` holds each batch between signing and its
 * outcome, keyed by batch id: a worker that restarts finds there what it may have sent and sends
 * it again — the program's publish-time check makes that safe.
 */
interface StoredPush extends PushDoc {
  /** `symbol:hour` (hour start, unix seconds) */
  sh: string;
  /** `symbol:slot` (start of its ten minutes, unix seconds); absent on records written before it was */
  ss?: string;
}

const FAMILY: PartitionedFamily = { name: 'oracle_pushes', indexes: [{ sh: 1 }, { ss: 1 }] };
const hourOf = (ms: number) => Math.floor(ms / 3_600_000) * 3_600;
const SLOT_SEC = 600;
const slotOf = (ms: number) => Math.floor(ms / 1000 / SLOT_SEC) * SLOT_SEC;
/** Ten-minute buckets read at once: the newest two hold 10–20 minutes of pushes. */
const SLOT_WAVE = 2;
/** How far back `recent` looks for a market's pushes, hours. */
const LOOKBACK_HOURS = 48;
const byNewest = (a: PushDoc, b: PushDoc) => b.recordedAt.getTime() - a.recordedAt.getTime();

const inflightSchema = new Schema<InflightDoc>(
  {
    _id: { type: String, required: true },
    attempt: { type: Number, required: true },
    signature: { type: String, required: true },
    decidedAt: { type: Date, required: true },
    updates: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'oracle_push_inflight', versionKey: false },
);

export function createMongoPushLog(c: Connection, now: () => number = Date.now): PushLog & { ensureIndexes(): Promise<void> } {
  const inflight = modelOn(c, 'OraclePushInflight', inflightSchema);
  const partitions = new Partitions(c, [FAMILY]);
  const bucket = (hr: number) => partitions.collection<StoredPush>(FAMILY, dayKey(hr));
  return {
    async ensureIndexes() {
      await Promise.all([inflight.createIndexes(), partitions.ensure(dayKey(now() / 1000))]);
    },
    async record(docs) {
      if (docs.length === 0) return;
      const recordedAt = new Date(now());
      const hr = hourOf(recordedAt.getTime());
      const slot = slotOf(recordedAt.getTime());
      await partitions.ensure(dayKey(hr));
      await bucket(hr).insertMany(docs.map((d) => ({ ...d, recordedAt, sh: `${d.symbol}:${hr}`, ss: `${d.symbol}:${slot}` })), { ordered: false });
    },
    async recent(symbol, limit) {
      const projection = { _id: 0, sh: 0 };
      // The last hour's six ten-minute buckets, newest first, two at a time, until they hold enough.
      const newest = slotOf(now());
      const slots = Array.from({ length: 3_600 / SLOT_SEC }, (_, i) => newest - i * SLOT_SEC);
      let since = newest + SLOT_SEC;
      const out: StoredPush[] = [];
      for (let i = 0; i < slots.length && out.length < limit; i += SLOT_WAVE) {
        const wave = slots.slice(i, i + SLOT_WAVE);
        out.push(...(await Promise.all(wave.map((s) => bucket(s).find({ ss: `${symbol}:${s}` }, { projection }).toArray()))).flat());
        since = wave.at(-1)!;
      }
      // Then hour by hour, newest first, what is older than those (or was written before the
      // ten-minute buckets were): only for a market with fewer pushes in the last hour than asked.
      for (let i = 0, hr = hourOf(newest * 1000); i < LOOKBACK_HOURS && out.length < limit; i++, hr -= 3_600) {
        const docs = await bucket(hr).find({ sh: `${symbol}:${hr}` }, { projection }).toArray();
        out.push(...docs.filter((d) => d.ss === undefined || d.recordedAt.getTime() < since * 1000));
      }
      return out.sort(byNewest).slice(0, limit).map(({ ss: _ss, ...d }) => d);
    },
    async markInflight(doc) {
      await inflight.replaceOne({ _id: doc._id }, doc, { upsert: true });
    },
    async clearInflight(batchId) {
      await inflight.deleteOne({ _id: batchId });
    },
    async pendingInflight() {
      return inflight.find({}).lean();
    },
    async prune(before) {
      return { days: await partitions.dropBefore(Math.floor(before.getTime() / 1000)) };
    },
  };
}
