// `npm run histories [-- <vitest args>]`: runs the tests (all of them by default) on the test
// services, then adds to workflows/histories/ the shapes of workflow history they produced that are
// not stored yet. workflows/replay.test.ts replays every stored history on the current code, so a
// change that would break a running workflow fails `npm test`.
//
// Files accumulate: a history stored from an earlier version of a workflow stays and keeps being
// replayed, which is the point. Delete one only when no workflow of that shape can still be running
// (e.g. once its `patched()` branch has been deprecated and removed).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, type WorkflowExecutionInfo } from '@temporalio/client';
import { HISTORIES_DIR, historyFileName } from '../tests/histories.ts';
import { runVitest, TEST_ENV, withTestServices } from './test-services.ts';
import { temporalBinary } from './tools.mjs';

/** Longer histories say nothing new and make the replay test slow. */
const MAX_EVENTS = 1_000;
/** New shapes stored per workflow type and run. */
const PER_TYPE = 3;

async function executions(connection: Connection): Promise<{ namespace: string; info: WorkflowExecutionInfo }[]> {
  const found: { namespace: string; info: WorkflowExecutionInfo }[] = [];
  const { namespaces } = await connection.workflowService.listNamespaces({ pageSize: 1_000 });
  for (const ns of namespaces) {
    const namespace = ns.namespaceInfo?.name;
    if (!namespace || namespace === 'temporal-system') continue;
    const client = new Client({ connection, namespace });
    for await (const info of client.workflow.list()) if (info.historyLength > 0 && info.historyLength <= MAX_EVENTS) found.push({ namespace, info });
  }
  return found;
}

async function record(): Promise<number> {
  const connection = await Connection.connect({ address: TEST_ENV.QD_TEMPORAL_ADDRESS });
  try {
    mkdirSync(HISTORIES_DIR, { recursive: true });
    const stored = new Set(readdirSync(HISTORIES_DIR));
    const added = new Map<string, number>();
    // Longest first: a longer history of a shape covers more of the workflow's branches.
    const all = (await executions(connection)).sort((a, b) => b.info.historyLength - a.info.historyLength);
    for (const { namespace, info } of all) {
      if ((added.get(info.type) ?? 0) >= PER_TYPE) continue;
      // The CLI's JSON export, the format `historyFromJSON` reads (the SDK's own `historyToJSON`
      // fails on the two protobufjs copies @temporalio/common and @temporalio/proto bring).
      const json = execFileSync(temporalBinary(), ['workflow', 'show', '--address', TEST_ENV.QD_TEMPORAL_ADDRESS, '--namespace', namespace, '--workflow-id', info.workflowId, '--run-id', info.runId, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const history = JSON.parse(json) as { events?: { eventType?: string }[] };
      // The shape: the sequence of event types (what a code change must still produce on replay).
      const shape = createHash('sha256').update((history.events ?? []).map((e) => String(e.eventType)).join(',')).digest('hex').slice(0, 12);
      const file = historyFileName(info.type, info.status.name, shape);
      if (stored.has(file)) continue;
      writeFileSync(join(HISTORIES_DIR, file), `${JSON.stringify(history, null, 1)}\n`);
      stored.add(file);
      added.set(info.type, (added.get(info.type) ?? 0) + 1);
      process.stdout.write(`stored ${file} (${info.historyLength} events, from ${namespace})\n`);
    }
    process.stdout.write(`${[...added.values()].reduce((a, b) => a + b, 0)} new histories in ${HISTORIES_DIR}\n`);
    return 0;
  } finally {
    await connection.close();
  }
}

const code = await withTestServices(async (supervisor, failed) => {
  const tests = await runVitest(process.argv.slice(2), supervisor, failed);
  // Histories of a failed run are still histories the code produced; record them all the same.
  if (tests !== 0) supervisor.log('some tests failed; recording the histories they left anyway');
  const recorded = await record().catch((e: Error) => (process.stderr.write(`${e.stack}\n`), 1));
  return tests || recorded;
});
process.exit(code);
