import { Schema, type Connection, type Model } from 'mongoose';
import type { PushTrigger } from '../../domain/push-policy.ts';

/**
 * The on-chain sync's records. `oracle_pushes` holds every push decision and its outcome, one
 * document per market per attempt (insert-only, an audit trail). `oracle_push_inflight` holds each
 * batch between signing and its outcome, keyed by batch id: a worker that restarts finds there what
 * it may have sent and sends it again — the program's publish-time check makes that safe.
 */

export const PUSH_OUTCOMES = [
  /** Landed; the market now holds this price. */
  'confirmed',
  /** The program refused it because the market already holds this (or a newer) publish time. */
  'replay_rejected',
  /** The program refused it for another reason (bounds, signer): see `error`. */
  'rejected',
  /** The blockhash expired before it landed; a new attempt follows if the price is still newer. */
  'expired',
  /** The RPC could not be reached or refused the request. */
  'send_failed',
  /** Not pushed: the price was not usable for the push action (recorded when the reason changes). */
  'skipped',
] as const;
export type PushOutcome = (typeof PUSH_OUTCOMES)[number];

export interface PushDoc {
  symbol: string;
  feedId: string;
  batchId: string;
  attempt: number;
  triggers: (PushTrigger | 'recovery')[];
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  /** When the ingest worker received the price from its source. */
  receivedAt: Date;
  decidedAt: Date;
  signature?: string;
  slot?: number;
  feeLamports?: number;
  computeUnits?: number;
  /** From the backend's receipt of the price to its confirmation on-chain. */
  latencyMs?: number;
  outcome: PushOutcome;
  error?: string;
  recordedAt: Date;
}

export interface InflightUpdate {
  symbol: string;
  feedId: string;
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  receivedAt: Date;
  triggers: (PushTrigger | 'recovery')[];
}

export interface InflightDoc {
  /** The batch id. */
  _id: string;
  attempt: number;
  signature: string;
  decidedAt: Date;
  updates: InflightUpdate[];
}

const pushSchema = new Schema<PushDoc>(
  {
    symbol: { type: String, required: true },
    feedId: { type: String, required: true },
    batchId: { type: String, required: true },
    attempt: { type: Number, required: true },
    triggers: { type: [String], required: true },
    price: { type: String, required: true },
    conf: { type: String, required: true },
    expo: { type: Number, required: true },
    publishTime: { type: Number, required: true },
    receivedAt: { type: Date, required: true },
    decidedAt: { type: Date, required: true },
    signature: String,
    slot: Number,
    feeLamports: Number,
    computeUnits: Number,
    latencyMs: Number,
    outcome: { type: String, required: true, enum: PUSH_OUTCOMES },
    error: String,
    recordedAt: { type: Date, required: true },
  },
  { collection: 'oracle_pushes', versionKey: false },
);
pushSchema.index({ recordedAt: 1 });

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

const model = <T>(c: Connection, name: string, schema: Schema<T>): Model<T> => (c.models[name] as Model<T>) ?? c.model<T>(name, schema);

export function createPushStore(c: Connection) {
  const pushes = model(c, 'OraclePush', pushSchema);
  const inflight = model(c, 'OraclePushInflight', inflightSchema);
  return {
    pushes,
    inflight,
    async ensureIndexes(): Promise<void> {
      await Promise.all([pushes.createIndexes(), inflight.createIndexes()]);
    },
    async record(docs: readonly Omit<PushDoc, 'recordedAt'>[]): Promise<void> {
      if (docs.length === 0) return;
      const recordedAt = new Date();
      await pushes.insertMany(docs.map((d) => ({ ...d, recordedAt })), { ordered: false, lean: true });
    },
    /** Written before a batch is sent, so a crash between send and outcome loses nothing. */
    async markInflight(doc: InflightDoc): Promise<void> {
      await inflight.replaceOne({ _id: doc._id }, doc, { upsert: true });
    },
    async clearInflight(batchId: string): Promise<void> {
      await inflight.deleteOne({ _id: batchId });
    },
    async pendingInflight(): Promise<InflightDoc[]> {
      return inflight.find({}).lean();
    },
  };
}
export type PushStore = ReturnType<typeof createPushStore>;
