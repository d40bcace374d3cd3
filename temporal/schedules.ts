import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { RETENTION_SCHEDULE_ID, TASK_QUEUES } from '../contracts/temporal.ts';

/** Creates the hourly retention schedule unless it exists; returns whether it was created. */
export async function ensureRetentionSchedule(client: Client, input: { historyDays: number; rejectionDays: number }): Promise<boolean> {
  try {
    await client.schedule.create({
      scheduleId: RETENTION_SCHEDULE_ID,
      spec: { intervals: [{ every: '1 hour' }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      action: { type: 'startWorkflow', workflowType: 'retention', taskQueue: TASK_QUEUES.ingest, args: [input] },
    });
    return true;
  } catch (e) {
    if (e instanceof ScheduleAlreadyRunning) return false;
    throw e;
  }
}
