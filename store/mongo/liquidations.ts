import { Schema, type Connection } from 'mongoose';
import type { LiquidationDoc, Liquidations, WalletAlertDoc, WalletAlertLog } from '../roles.ts';
import { modelOn } from './connection.ts';
import { DAY_SEC, Partitions, dayKey, isOnlyDuplicates, type PartitionedFamily } from './partitions.ts';

/**
 * `liquidations`: one document per saga (`_id` = its workflow id), which is also the saga's claim
 * on the trade; read by wallet (`w`) and by hour (`hr`, the ops page's recent sagas) — equalities,
 * as everywhere in the store. `wallet_alerts_<day>`: margin warnings and liquidation alerts per
 * wallet (`w`), for the dashboard's history.
 */
interface StoredLiquidation extends LiquidationDoc {
  w: string;
  hr: number;
}

const schema = new Schema<StoredLiquidation>(
  {
    _id: { type: String, required: true },
    position: { type: String, required: true },
    owner: { type: String, required: true },
    symbol: { type: String, required: true },
    openSlot: { type: String, required: true },
    state: { type: String, required: true },
    claimedBy: String,
    senders: { type: [String], default: undefined },
    attempts: { type: Schema.Types.Mixed, default: [] },
    result: Schema.Types.Mixed,
    detectedAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    w: { type: String, required: true },
    hr: { type: Number, required: true },
  },
  { collection: 'liquidations', versionKey: false, minimize: false },
);
schema.index({ w: 1 });
schema.index({ hr: 1 });

const hourOf = (ms: number) => Math.floor(ms / 3_600_000) * 3_600;
const strip = ({ w: _w, hr: _h, ...d }: StoredLiquidation): LiquidationDoc => d;

export function createMongoLiquidations(c: Connection, now: () => number = Date.now): Liquidations & { ensureIndexes(): Promise<void> } {
  const model = modelOn(c, 'Liquidation', schema);
  return {
    async ensureIndexes() {
      await model.createIndexes();
    },
    async claim(d) {
      const at = new Date(now());
      const { claimant, ...fields } = d;
      try {
        await model.collection.insertOne({ ...fields, state: 'claimed', claimedBy: claimant, attempts: [], updatedAt: at, w: d.owner, hr: hourOf(d.detectedAt.getTime()) } as never);
        return true;
      } catch (e) {
        if (!isOnlyDuplicates(e)) throw e;
      }
      // Released by a failed attempt, or held by this saga's earlier run or attempt: taken (see the role).
      const r = await model.updateOne({ _id: d._id, state: { $ne: 'done' } }, { $set: { state: 'claimed', claimedBy: claimant, updatedAt: at } });
      return r.matchedCount === 1;
    },
    async release(id, attempt) {
      const at = new Date(now());
      await model.updateOne({ _id: id }, { $set: { state: 'released', updatedAt: at }, $push: { attempts: { ...attempt, at } } });
    },
    async complete(id, result) {
      await model.updateOne({ _id: id }, { $set: { state: 'done', result, updatedAt: new Date(now()) } });
    },
    async sending(id, keeper) {
      await model.updateOne({ _id: id }, { $addToSet: { senders: keeper } });
    },
    async note(id, result) {
      await model.updateOne({ _id: id }, { $set: { result, updatedAt: new Date(now()) } });
    },
    async get(id) {
      const d = await model.findOne({ _id: id }).lean<StoredLiquidation>();
      return d ? strip(d) : undefined;
    },
    async byWallet(wallet, limit) {
      const docs = await model.find({ w: wallet }).lean<StoredLiquidation[]>();
      return docs.map(strip).sort((a, b) => b.detectedAt.getTime() - a.detectedAt.getTime()).slice(0, limit);
    },
    async recent(limit) {
      const hours = Array.from({ length: 25 }, (_, i) => hourOf(now()) - i * 3_600);
      const docs = (await Promise.all(hours.map((hr) => model.find({ hr }).lean<StoredLiquidation[]>()))).flat();
      return docs.map(strip).sort((a, b) => b.detectedAt.getTime() - a.detectedAt.getTime()).slice(0, limit);
    },
  };
}

interface StoredAlert {
  w: string;
  kind: WalletAlertDoc['kind'];
  alert: WalletAlertDoc['alert'];
  at: Date;
}
const ALERTS = { name: 'wallet_alerts', indexes: [{ w: 1 }] } satisfies PartitionedFamily;

export function createMongoWalletAlerts(c: Connection, now: () => number = Date.now): WalletAlertLog {
  const partitions = new Partitions(c, [ALERTS]);
  return {
    async record(a) {
      const day = dayKey(a.at.getTime() / 1000);
      await partitions.ensure(day);
      await partitions.collection<StoredAlert>(ALERTS, day).insertOne({ w: a.wallet, kind: a.kind, alert: a.alert, at: a.at });
    },
    async byWallet(wallet, limit, days = 7) {
      const today = Math.floor(now() / 1000);
      const found = await Promise.all(
        Array.from({ length: days }, (_, i) => partitions.collection<StoredAlert>(ALERTS, dayKey(today - i * DAY_SEC)).find({ w: wallet }, { projection: { _id: 0 } }).toArray()),
      );
      return found
        .flat()
        .map((d) => ({ wallet: d.w, kind: d.kind, alert: d.alert, at: d.at }) as WalletAlertDoc)
        .sort((a, b) => b.at.getTime() - a.at.getTime())
        .slice(0, limit);
    },
  };
}
