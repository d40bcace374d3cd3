import type { Connection } from 'mongoose';
import { RAW_PAYLOAD_LIMIT, type RejectionDoc, type Rejections } from '../roles.ts';
import { Partitions, dayKey, type PartitionedFamily } from './partitions.ts';
import { groupBy } from '../../domain/group-by.ts';

/**
 * `oracle_rejections_<day>`: every rejected observation or payload with its reason, bucketed by
 * hour (`hr`) so "the last hour's rejections" is one or two equality lookups however many days are kept.
 */
interface StoredRejection extends RejectionDoc {
  /** Start of the hour it was received in, unix seconds. */
  hr: number;
}

const FAMILY = { name: 'oracle_rejections', indexes: [{ hr: 1 }] } satisfies PartitionedFamily;
const hourOf = (ms: number) => Math.floor(ms / 3_600_000) * 3_600;

export function createMongoRejections(c: Connection): Rejections {
  const partitions = new Partitions(c, [FAMILY]);
  return {
    async write(list) {
      const byDay = groupBy(
        list.map((r): StoredRejection => ({ ...r, raw: r.raw.slice(0, RAW_PAYLOAD_LIMIT), hr: hourOf(r.receivedAt.getTime()) })),
        (r) => dayKey(r.hr),
      );
      for (const [day, docs] of byDay) {
        await partitions.ensure(day);
        await partitions.collection<StoredRejection>(FAMILY, day).insertMany(docs, { ordered: false });
      }
    },
    async recent(since, filter = {}, limit = 1_000) {
      const hours: number[] = [];
      for (let h = hourOf(since.getTime()); h <= hourOf(Date.now()); h += 3_600) hours.push(h);
      if (hours.length > 25) throw new RangeError('rejections are read at most a day back');
      const found = await Promise.all(hours.map((hr) => partitions.collection<StoredRejection>(FAMILY, dayKey(hr)).find({ hr }, { projection: { _id: 0, hr: 0 } }).toArray()));
      return found
        .flat()
        .filter((r) => r.receivedAt >= since && (!filter.source || r.source === filter.source) && (!filter.reason || r.reason === filter.reason))
        .sort((a, b) => b.receivedAt.getTime() - a.receivedAt.getTime())
        .slice(0, limit);
    },
    async prune(before) {
      return { days: await partitions.dropBefore(Math.floor(before.getTime() / 1000)) };
    },
  };
}
