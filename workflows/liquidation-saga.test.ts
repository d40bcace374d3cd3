import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiquidationActivities } from '../activities/liquidation/activities.ts';
import { liquidationWorkflowId, type LiquidationResult, type LiquidationSagaInput } from '../contracts/temporal.ts';
import { connectClient, connectWorker } from '../temporal/connection.ts';
import { createTestNamespace, uniqueName } from '../tests/support.ts';
import { liquidationSaga } from './liquidation-saga.ts';

/**
 * The saga's orchestration on the real dev server, with step activities the test scripts: the
 * steps run in order, a failure runs the compensations in reverse, and the outcome is named.
 */
type Script = { claim?: boolean; fresh?: () => void; send: () => LiquidationResult };
const scripts = new Map<string, Script>();
const calls = new Map<string, string[]>();
const note = (id: string, what: string) => calls.set(id, [...(calls.get(id) ?? []), what]);

const fakes: Omit<LiquidationActivities, 'runScanner' | 'scanOnce'> = {
  async claimLiquidation({ id }) {
    note(id, 'claim');
    return scripts.get(id)!.claim ?? true;
  },
  async releaseLiquidation({ id, reason }) {
    note(id, `release:${reason}`);
  },
  async ensureFreshPrice({ symbol }) {
    scripts.get(liquidationWorkflowId(`P-${symbol}`, 1))?.fresh?.();
    return { ageSec: 0 };
  },
  async sendLiquidation({ input }) {
    const id = liquidationWorkflowId(input.position, input.openSlot);
    note(id, 'send');
    return scripts.get(id)!.send();
  },
  async completeLiquidation({ id, result }) {
    note(id, `complete:${result.outcome}`);
  },
  async recordOutcome({ id, result }) {
    note(id, `outcome:${result.outcome}`);
  },
  async alertTrader({ input }) {
    note(liquidationWorkflowId(input.position, input.openSlot), 'alert');
  },
};

let client: Client;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueName('saga');

beforeAll(async () => {
  const temporal = await createTestNamespace(uniqueName('saga'));
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

async function run(symbol: string, script: Script) {
  const input: LiquidationSagaInput = { position: `P-${symbol}`, owner: 'W', symbol, openSlot: '1', lastLiquidationSlot: '0', size: '10', marginRatioBps: 400, markPrice: '1', detectedAt: Date.now() };
  const id = liquidationWorkflowId(input.position, input.openSlot);
  scripts.set(id, script);
  const result = await client.workflow.execute(liquidationSaga, { taskQueue, workflowId: id, args: [input] });
  return { result, calls: calls.get(id) ?? [] };
}

describe('liquidationSaga', () => {
  it('claims, sends, records and alerts, in that order', async () => {
    const { result, calls } = await run('AAA-PERP', { send: () => ({ outcome: 'partially-liquidated', sizeLiquidated: '4' }) });
    expect(result.outcome).toBe('partially-liquidated');
    expect(calls).toEqual(['claim', 'send', 'complete:partially-liquidated', 'alert']);
  });

  it('is outcompeted when this round is already liquidated (its claim done), and sends nothing', async () => {
    const { result, calls } = await run('BBB-PERP', { claim: false, send: () => ({ outcome: 'liquidated' }) });
    expect(result.outcome).toBe('outcompeted');
    expect(calls).toEqual(['claim']);
  });

  it('names the program refusing a healthy position, and compensates', async () => {
    const { result, calls } = await run('CCC-PERP', {
      send: () => {
        throw ApplicationFailure.create({ type: 'PositionHealthy', message: 'healthy', nonRetryable: true });
      },
    });
    expect(result.outcome).toBe('healthy-again');
    expect(calls).toEqual(['claim', 'send', 'release:PositionHealthy', 'outcome:healthy-again']);
  });

  it('retries an RPC failure, then compensates with the reason when it persists', async () => {
    const { result, calls } = await run('DDD-PERP', {
      send: () => {
        throw new Error('fetch failed: connection refused');
      },
    });
    expect(result.outcome).toBe('failed:unreachable');
    expect(calls.filter((c) => c === 'send')).toHaveLength(4);
    expect(calls.at(-2)).toMatch(/^release:.*connection refused/);
  }, 60_000);
});
