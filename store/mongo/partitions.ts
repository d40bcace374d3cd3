import type { Connection, mongo } from 'mongoose';

/**
 * Time-partitioned collections: one collection per family and UTC day (`<family>_YYYYMMDD`).
 * Retention drops whole days — constant cost however much a day holds, on FerretDB (which has no
 * TTL index and would scan for a range delete) as on MongoDB. Each day's collection is created with
 * its indexes before it is written to, so its first reads are already indexed.
 */

export const DAY_SEC = 86_400;

/** `YYYYMMDD` of the UTC day a unix time (seconds) falls in. */
export function dayKey(t: number): string {
  return new Date(Math.floor(t / DAY_SEC) * DAY_SEC * 1000).toISOString().slice(0, 10).replaceAll('-', '');
}

/** Start (unix seconds) of a `YYYYMMDD` day. */
export function dayStart(key: string): number {
  return Date.UTC(Number(key.slice(0, 4)), Number(key.slice(4, 6)) - 1, Number(key.slice(6, 8))) / 1000;
}

export interface PartitionedFamily {
  /** Collection name prefix, e.g. `oracle_price_ticks`. */
  name: string;
  /** Index keys besides `_id`, each an equality lookup the family's reads use. */
  indexes: readonly Record<string, 1>[];
}

const DUPLICATE_KEY = 11000;

export function isOnlyDuplicates(e: unknown): boolean {
  type WriteError = { code?: number; err?: { code?: number } };
  const err = e as { code?: number; writeErrors?: WriteError[] | WriteError };
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : err.writeErrors ? [err.writeErrors] : undefined;
  if (err.code === DUPLICATE_KEY && !writeErrors) return true;
  return writeErrors !== undefined && writeErrors.length > 0 && writeErrors.every((w) => (w.code ?? w.err?.code) === DUPLICATE_KEY);
}

/** How many documents of a refused-in-part `insertMany` went in. */
export function insertedDespite(e: unknown): number {
  return (e as { insertedCount?: number; result?: { insertedCount?: number } }).insertedCount ?? (e as { result?: { insertedCount?: number } }).result?.insertedCount ?? 0;
}

export class Partitions {
  private readonly ready = new Map<string, Promise<void>>();

  constructor(
    private readonly c: Connection,
    private readonly families: readonly PartitionedFamily[],
  ) {}

  collection<T extends mongo.Document>(family: PartitionedFamily, day: string): mongo.Collection<T> {
    return this.c.db!.collection<T>(`${family.name}_${day}`);
  }

  /** Makes the day's collections and their indexes exist (once per process and day). */
  ensure(day: string): Promise<void> {
    let p = this.ready.get(day);
    if (!p) {
      p = Promise.all(
        this.families.map(async (f) => {
          const coll = this.collection(f, day);
          // One index per command: FerretDB 1.24 panics on a `createIndexes` of several keys when
          // another process has just made the collection with them.
          if (f.indexes.length > 0) for (const key of f.indexes) await coll.createIndex(key);
          else await this.c.db!.createCollection(`${f.name}_${day}`).catch((e: { codeName?: string }) => {
            if (e.codeName !== 'NamespaceExists') throw e;
          });
        }),
      ).then(() => undefined);
      p.catch(() => this.ready.delete(day));
      this.ready.set(day, p);
    }
    return p;
  }

  /** Drops every day of every family that ended before `before` (unix seconds); returns the days dropped. */
  async dropBefore(before: number): Promise<string[]> {
    const names = (await this.c.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    const dropped = new Set<string>();
    for (const f of this.families) {
      for (const name of names) {
        const m = new RegExp(`^${f.name}_(\\d{8})$`).exec(name);
        if (!m || dayStart(m[1]!) + DAY_SEC > before) continue;
        await this.c.db!.dropCollection(name).catch(() => undefined);
        this.ready.delete(m[1]!);
        dropped.add(m[1]!);
      }
    }
    return [...dropped].sort();
  }
}
