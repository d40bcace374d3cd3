import { fileURLToPath } from 'node:url';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/mongo/connection.ts';
import { systemCheckModel } from '../store/mongo/system-checks.ts';
import { createSystemCheckActivities } from '../activities/system-check.ts';
import { connectClient, connectWorker } from '../temporal/connection.ts';
import { testConfig, uniqueName } from './support.ts';

describe('embedded infrastructure', () => {
  let db: Connection;
  beforeAll(async () => {
    db = await openStore(testConfig.mongodbUri);
    await systemCheckModel(db).syncIndexes();
  });
  afterAll(() => db?.close());

  it('writes a mongoose document through FerretDB and reads it back', async () => {
    const checks = systemCheckModel(db);
    const checkId = uniqueName('doc');
    const writtenAt = new Date('2026-01-02T03:04:05.678Z');
    await checks.create({ checkId, workflowId: 'none', writtenAt });
    const back = await checks.findOne({ checkId }).lean();
    expect(back).toMatchObject({ checkId, workflowId: 'none', writtenAt });
    // The unique index is real: a second insert of the same id is refused.
    await expect(checks.create({ checkId, workflowId: 'again', writtenAt })).rejects.toThrow(/duplicate key/i);
  });

  it('runs a real workflow on the dev server, visible in its history', async () => {
    const taskQueue = uniqueName('system-check');
    const connection = await connectWorker(testConfig.temporal);
    const worker = await Worker.create({
      connection,
      namespace: testConfig.temporal.namespace,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
      activities: createSystemCheckActivities({ checks: systemCheckModel(db), now: () => new Date() }),
    });
    const client = await connectClient(testConfig.temporal);
    try {
      const checkId = uniqueName('wf');
      const result = await worker.runUntil(
        client.workflow.execute('systemCheck', { taskQueue, workflowId: checkId, args: [checkId] }),
      );
      expect(result.checkId).toBe(checkId);
      expect(await systemCheckModel(db).countDocuments({ checkId, workflowId: checkId })).toBe(1);

      const history = await client.workflow.getHandle(checkId).fetchHistory();
      const types = (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
      expect(types).toContain('EVENT_TYPE_ACTIVITY_TASK_COMPLETED');
      expect(types.at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
      expect((await client.workflow.getHandle(checkId).describe()).status.name).toBe('COMPLETED');
    } finally {
      await client.connection.close();
      await connection.close();
    }
  }, 120_000);
});
