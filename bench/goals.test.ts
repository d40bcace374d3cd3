import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../runtime/config.ts';
import { goal, readGoals, saveGoals, summaryTable } from './goals.ts';

describe('benchmark goals', () => {
  it('are saved as JSON per benchmark, read back for a run, and tabled with their baseline and ratio', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qd-goals-'));
    process.env.QD_TEST_BENCH_RESULTS_DIR = dir;
    try {
      expect(goal({ bench: 'unit', figure: 'p99', value: 60, unit: 'ms', baseline: { label: 'relay', value: 40 }, goal: '≤ 2× relay', met: true })).toBe(true);
      goal({ bench: 'unit', figure: 'rate', value: 4_000, unit: '/s', goal: '≥ 5,000/s', met: false });
      expect(saveGoals('other')).toBeUndefined();
      saveGoals('unit');
      expect(readdirSync(dir)).toHaveLength(1);
      const rows = readGoals(dir);
      expect(rows.map((r) => r.figure)).toEqual(['p99', 'rate']);
      const table = summaryTable(rows).split('\n');
      expect(table[2]).toMatch(/^unit\s+p99\s+60 ms\s+40 ms \(relay\)\s+1\.50×\s+≤ 2× relay\s+met$/);
      expect(table[3]).toMatch(/rate\s+4,000 \/s\s+—\s+—\s+≥ 5,000\/s\s+NOT met$/);
    } finally {
      delete process.env.QD_TEST_BENCH_RESULTS_DIR;
    }
  });

  it('pass their results folder in a variable the benchmarked processes accept', () => {
    // `npm run bench` sets it for every benchmark, and each starts processes that refuse unknown QD_ variables.
    expect(() => loadConfig({ QD_TEST_BENCH_RESULTS_DIR: '/tmp/x' })).not.toThrow();
  });
});
