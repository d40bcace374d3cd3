import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { HISTORIES_DIR, readHistory, workflowTypeOf } from '../tests/histories.ts';
import * as workflows from './index.ts';

/**
 * Every stored history (workflows/histories/, added to by `npm run histories`) replays on the
 * current workflow code without a nondeterminism error: a change that would break a running
 * workflow fails here, before it reaches a worker. See README "Changing a workflow".
 */
const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();

describe('workflow replay', () => {
  it('has stored histories of every workflow type a worker runs', () => {
    const covered = new Set(files.map(workflowTypeOf));
    expect(Object.keys(workflows).filter((type) => !covered.has(type))).toEqual([]);
  });

  it('replays every stored history on the current code', async () => {
    const histories = files.map((f) => ({ workflowId: f, history: readHistory(f) }));
    const failures: string[] = [];
    let replayed = 0;
    const results = Worker.runReplayHistories({ workflowsPath: fileURLToPath(new URL('./index.ts', import.meta.url)), replayName: 'replay-test' }, histories);
    for await (const r of results) {
      replayed += 1;
      if (r.error) failures.push(`${r.workflowId}: ${r.error.name}: ${r.error.message.split('\n')[0]}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  }, 180_000);
});
