import { mkdtempSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Journal } from './journal.ts';

/** The files this process has open. */
const openFiles = () =>
  readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return []; // closed meanwhile (readdir's own fd)
    }
  });

describe('Journal', () => {
  it('keeps every entry across segment rotations while background syncs run, and closes the segments it rotated', async () => {
    const journal = new Journal({ root: mkdtempSync(join(tmpdir(), 'qd-journal-')), segmentBytes: 2_000 });
    for (let i = 0; i < 400; i++) {
      journal.append({ i, price: BigInt(1_000_000 + i) });
      if (i % 7 === 0) journal.write();
      // A sync in flight while the writes go on and rotate segments.
      if (i % 20 === 0) journal.syncInBackground();
      if (i % 50 === 0) await sleep(1);
    }
    journal.write();
    await sleep(50);
    journal.syncInBackground();
    await sleep(50);
    const entries = journal.read(1, 1_000);
    expect(entries.map((e) => e.n)).toEqual([...Array(400).keys()].map((i) => i + 1));
    expect(entries.map((e) => (e.value as { i: number }).i)).toEqual([...Array(400).keys()]);
    expect(readdirSync(journal.dir).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThan(5);
    // Only the open segment is still open.
    expect(openFiles().filter((f) => f.startsWith(journal.dir))).toHaveLength(1);
    journal.close();
    expect(openFiles().filter((f) => f.startsWith(journal.dir))).toHaveLength(0);
  });
});
