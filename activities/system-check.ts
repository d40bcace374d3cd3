import { Context } from '@temporalio/activity';
import type { Model } from 'mongoose';
import type { SystemCheckDoc } from '../store/mongo/system-checks.ts';

export interface SystemCheckDeps {
  checks: Model<SystemCheckDoc>;
  now: () => Date;
}

export function createSystemCheckActivities({ checks, now }: SystemCheckDeps) {
  return {
    /** Writes a check document (idempotent per checkId, so a retry is harmless) and reads it back. */
    async recordSystemCheck(checkId: string): Promise<{ checkId: string; writtenAt: string }> {
      const { workflowExecution } = Context.current().info;
      await checks.updateOne(
        { checkId },
        { $setOnInsert: { checkId, workflowId: workflowExecution?.workflowId ?? 'standalone', writtenAt: now() } },
        { upsert: true },
      );
      const doc = await checks.findOne({ checkId }).lean().orFail();
      return { checkId: doc.checkId, writtenAt: doc.writtenAt.toISOString() };
    },
  };
}

export type SystemCheckActivities = ReturnType<typeof createSystemCheckActivities>;
