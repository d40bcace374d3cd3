// The benchmarks' goals as data: each benchmark states its figures with `goal(...)` (beside the
// lines it prints), `saveGoals` writes them as JSON under .data/bench/, and `npm run bench` (all of
// them) prints one table of every figure, its baseline from the same run, their ratio, the goal and
// whether it is met.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support.ts';

export interface GoalResult {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  /** What the figure is compared with, measured in the same run. */
  baseline?: { label: string; value: number };
  goal: string;
  met: boolean;
}

const results: GoalResult[] = [];

/** Records a figure and returns whether its goal is met. */
export function goal(r: GoalResult): boolean {
  results.push(r);
  return r.met;
}

/** Where results go: QD_TEST_BENCH_RESULTS_DIR (set by `npm run bench` for its run), else .data/bench/. */
export const resultsDir = () => process.env.QD_TEST_BENCH_RESULTS_DIR ?? join(ROOT, '.data', 'bench');

/** Writes this process's figures as `<dir>/<bench>-<time>.json`; nothing when it recorded none. */
export function saveGoals(bench: string): string | undefined {
  const mine = results.filter((r) => r.bench === bench);
  if (mine.length === 0) return undefined;
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${bench}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ bench, at: new Date().toISOString(), results: mine }, null, 2)}\n`);
  return file;
}

export function readGoals(dir: string): GoalResult[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('summary'))
    .sort()
    .flatMap((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { results: GoalResult[] }).results);
}

const num = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 }));

/** One table: figure, value, baseline, ratio, goal, met. */
export function summaryTable(rows: readonly GoalResult[]): string {
  const cells = rows.map((r) => [
    r.bench,
    r.figure,
    `${num(r.value)} ${r.unit}`,
    r.baseline ? `${num(r.baseline.value)} ${r.unit} (${r.baseline.label})` : '—',
    r.baseline && r.baseline.value !== 0 ? `${(r.value / r.baseline.value).toFixed(2)}×` : '—',
    r.goal,
    r.met ? 'met' : 'NOT met',
  ]);
  const head = ['bench', 'figure', 'value', 'baseline (same run)', 'ratio', 'goal', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
