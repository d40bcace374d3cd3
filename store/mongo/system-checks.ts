import { Schema, type Connection, type Model } from 'mongoose';

/** A round trip through the store, run by the `systemCheck` workflow to prove the pipeline end to end. */
export interface SystemCheckDoc {
  checkId: string;
  workflowId: string;
  writtenAt: Date;
}

const schema = new Schema<SystemCheckDoc>(
  {
    checkId: { type: String, required: true },
    workflowId: { type: String, required: true },
    writtenAt: { type: Date, required: true },
  },
  { collection: 'system_checks', versionKey: false },
);
schema.index({ checkId: 1 }, { unique: true });

export function systemCheckModel(connection: Connection): Model<SystemCheckDoc> {
  return connection.models.SystemCheck ?? connection.model<SystemCheckDoc>('SystemCheck', schema);
}
