import mongoose, { type Connection } from 'mongoose';

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
    // Fail fast instead of queueing writes forever while the database is down: the activity retries.
    bufferCommands: false,
  });
  return connection.asPromise();
}
