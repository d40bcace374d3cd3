import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestActivities } from '../activities/ingest/activities.ts';
import type { IngestMode } from '../contracts/status.ts';
import { SOURCE_UNAVAILABLE, pauseSignal, progressSignal, resumeSignal, statusQuery } from '../contracts/temporal.ts';
import { connectClient, connectWorker } from '../temporal/connection.ts';
import { createTestNamespace, uniqueName, waitFor } from '../tests/support.ts';
import { priceIngestion } from './price-ingestion.ts';

/**
 * The workflow's orchestration, on the real dev server, with fake source activities the test
 * drives: whether Pyth is up, and what the fallback reports about itself.
 */
const world = { pythUp: true, streams: 0, polls: [] as string[], modes: [] as IngestMode[] };

async function untilCancelled(): Promise<never> {
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat();
    await Promise.race([new Promise((r) => setTimeout(r, 100)), ctx.cancelled]);
  }
}

const fakes: Pick<IngestActivities, 'streamPyth' | 'pollCoinGecko' | 'probePyth' | 'publishIngestStatus'> = {
  async streamPyth() {
    world.streams += 1;
    const ctx = Context.current();
    while (world.pythUp) {
      ctx.heartbeat();
      await Promise.race([new Promise((r) => setTimeout(r, 100)), ctx.cancelled]);
    }
    throw ApplicationFailure.create({ type: SOURCE_UNAVAILABLE, message: 'stream closed', nonRetryable: true });
  },
  async pollCoinGecko(input) {
    world.polls.push(input.role);
    return untilCancelled();
  },
  async probePyth() {
    return { healthy: world.pythUp, detail: world.pythUp ? 'fresh' : 'down' };
  },
  async publishIngestStatus(input) {
    world.modes.push(input.mode);
  },
};

let client: Client;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueName('ingest-wf');

beforeAll(async () => {
  const temporal = await createTestNamespace(uniqueName('ingest-wf'));
  client = await connectClient(temporal);
  worker = await Worker.create({
    connection: await connectWorker(temporal),
    namespace: temporal.namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./index.ts', import.meta.url)),
    activities: fakes,
  });
  running = worker.run();
}, 60_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await client?.connection.close();
});

describe('priceIngestion', () => {
  it('falls back when Pyth fails, goes stale when the fallback fails too, and returns to Pyth', async () => {
    const handle = await client.workflow.start(priceIngestion, { taskQueue, workflowId: uniqueName('ingest'), args: [{ feedGroup: 'majors', maxProbeBackoffMs: 500 }] });
    const mode = async () => (await handle.query(statusQuery)).mode;
    await waitFor('streaming', () => world.streams === 1 || undefined);
    expect(await mode()).toBe('pyth');
    expect(world.polls).toEqual(['crosscheck']);

    world.pythUp = false;
    await waitFor('fallback', async () => (await mode()) === 'coingecko' || undefined);
    await waitFor('primary poller', () => world.polls.includes('primary') || undefined);

    await handle.signal(progressSignal, { source: 'coingecko', healthy: false, accepted: 0, rejected: 0, failures: 3 });
    await waitFor('stale', async () => (await mode()) === 'stale' || undefined);
    await handle.signal(progressSignal, { source: 'coingecko', healthy: true, lastPublishTime: 1_800_000_000, accepted: 5, rejected: 0, failures: 0 });
    await waitFor('fallback again', async () => (await mode()) === 'coingecko' || undefined);

    world.pythUp = true;
    await waitFor('back to Pyth', async () => (await mode()) === 'pyth' || undefined);
    await waitFor('a new stream', () => world.streams === 2 || undefined);
    const status = await handle.query(statusQuery);
    expect(status.failures).toEqual({ pyth: 1, coingecko: 1 });
    expect(status.lastUpdate.coingecko).toBe(1_800_000_000);
    expect(world.modes).toEqual(['pyth', 'coingecko', 'stale', 'coingecko', 'pyth']);

    // Operators find it by its search attributes.
    const desc = await handle.describe();
    expect(desc.searchAttributes.IngestMode).toEqual(['pyth']);
    expect(desc.searchAttributes.FeedGroup).toEqual(['majors']);
    await handle.terminate();
  }, 60_000);

  it('pauses (cancelling the source activities) and resumes where it was', async () => {
    world.modes = [];
    const streamsBefore = world.streams;
    const handle = await client.workflow.start(priceIngestion, { taskQueue, workflowId: uniqueName('ingest'), args: [{ feedGroup: 'alts' }] });
    await waitFor('streaming', () => world.streams === streamsBefore + 1 || undefined);
    await handle.signal(pauseSignal, 'maintenance');
    await waitFor('paused', async () => (await handle.query(statusQuery)).mode === 'paused' || undefined);
    expect((await handle.query(statusQuery)).reason).toBe('maintenance');
    await handle.signal(resumeSignal);
    await waitFor('streaming again', () => world.streams === streamsBefore + 2 || undefined);
    expect((await handle.query(statusQuery)).mode).toBe('pyth');
    expect(world.modes).toEqual(['pyth', 'paused', 'pyth']);
    await handle.terminate();
  }, 60_000);
});
