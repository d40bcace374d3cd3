import mongoose, { type Connection, type Model, type Schema } from 'mongoose';
import type { StoreHealth } from '../roles.ts';

/**
 * Opens the MongoDB connection every I/O part shares. FerretDB (the embedded default) speaks the
 * wire protocol but has no transactions, change streams or TTL indexes, so nothing here uses them.
 * Indexes are created explicitly by each store's `ensureIndexes`, not by mongoose on first use, so a
 * failing index is an error at start, not a silent warning.
 */
export async function openStore(uri: string): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    autoIndex: false,
    autoCreate: true,
    serverSelectionTimeoutMS: 10_000,
    // Fail fast instead of queueing writes forever while the database is down: callers retry.
    bufferCommands: false,
  });
  return connection.asPromise();
}

/** The model of `name` on this connection, compiled once. */
export const modelOn = <T>(c: Connection, name: string, schema: Schema<T>): Model<T> => (c.models[name] as Model<T>) ?? c.model<T>(name, schema);

/**
 * A ping bounded in time: a hung database answers "timed out", not never. It reads a document (by
 * `_id`, an index lookup) rather than sending `ping`, which FerretDB answers itself even while the
 * PostgreSQL behind it hangs.
 */
export function mongoHealth(c: Connection): StoreHealth {
  return {
    async ping(timeoutMs) {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.db!.collection('oracle_prices').findOne({ _id: '__health__' as never }),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
        ]);
        return { ok: true, ms: Date.now() - started };
      } catch (e) {
        return { ok: false, error: (e as Error).message.slice(0, 200) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
