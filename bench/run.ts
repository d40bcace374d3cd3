// `npm run bench`: every benchmark below in turn, then one table of every goal's figure, its
// baseline from the same run, their ratio and whether it is met (also .data/bench/<run>/summary.json).
// `npm run bench -- <name>`: one benchmark, run against the test services (started here, or reused);
// its figures are written as JSON under .data/bench/.
//   ingest    price ingestion latency at 200 and 2,000 feeds (vs a bare relay) and stored-update throughput [--seconds 20] [--part latency|throughput] [--feeds 200,2000]
//   sync      simulator publish → on-chain latency, transactions and CU per market update [--seconds 30]
//   program   compute units per instruction of quantdesk_perp (LiteSVM)
//   chain     confirmed transactions/s through the embedded chain's JSON-RPC (surfpool)
//   liquidation  crossing → liquidation confirmed; sagas/s with 1 and 2 keeper workers [--positions 500] [--rpc-ms 150]
//   web       dashboard: JS shipped for /, navigation → first live price, 200 markets ticking (Chromium)
//   store     reads (latest, 1 h / 24 h candles, push log) over a preloaded day of history while ingesting 1,000 updates/s [--scale 1] [--reads 300]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_ENV, withTestServices } from '../scripts/test-services.ts';
import { readGoals, resultsDir, saveGoals, summaryTable } from './goals.ts';

const name = process.argv[2] ?? 'all';
const scripts: Record<string, string> = { program: 'bench/program-cu.ts', chain: 'bench/chain-tps.ts' };
const ALL = ['ingest', 'sync', 'store', 'liquidation', 'web', 'program', 'chain'];
process.once('exit', () => saveGoals(name));

if (name === 'all') {
  const dir = join(resultsDir(), new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  const failed: string[] = [];
  for (const bench of ALL) {
    process.stdout.write(`\n=== npm run bench -- ${bench}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', bench], { stdio: 'inherit', env: { ...process.env, QD_TEST_BENCH_RESULTS_DIR: dir } });
    const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? 1)));
    if (code !== 0) failed.push(bench);
  }
  const rows = readGoals(dir);
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify({ at: new Date().toISOString(), failed, results: rows }, null, 2)}\n`);
  process.stdout.write(`\n=== summary (${dir})\n${summaryTable(rows)}\n`);
  if (failed.length > 0) process.stdout.write(`benchmarks that failed: ${failed.join(', ')}\n`);
  process.exit(failed.length > 0 ? 1 : 0);
} else if (name in scripts) {
  const child = spawn(process.execPath, ['--import', 'tsx', scripts[name]!, ...process.argv.slice(3)], { stdio: 'inherit' });
  child.once('exit', (code) => process.exit(code ?? 1));
} else if (name === 'liquidation') {
  Object.assign(process.env, TEST_ENV);
  const code = await withTestServices(async () => {
    await (await import('./liquidation.ts')).runLiquidationBench();
    return 0;
  });
  process.exit(code);
} else if (name === 'web') {
  // The system it starts reads its services' addresses from the environment, like npm test's.
  Object.assign(process.env, TEST_ENV);
  const code = await withTestServices(async () => {
    await (await import('./web.ts')).runWebBench();
    return 0;
  });
  process.exit(code);
} else if (name === 'store') {
  Object.assign(process.env, TEST_ENV);
  const code = await withTestServices(async (supervisor) => {
    await (await import('./store.ts')).runStoreBench(supervisor);
    return 0;
  });
  process.exit(code);
} else if (name === 'ingest' || name === 'sync') {
  // Like npm test's processes, the benchmark and what it starts read the services' addresses from the environment.
  Object.assign(process.env, TEST_ENV);
  const i = process.argv.indexOf('--seconds');
  const seconds = i > 0 ? Number(process.argv[i + 1]) : undefined;
  const code = await withTestServices(async () => {
    const p = process.argv.indexOf('--part');
    const part = p > 0 ? (process.argv[p + 1] as 'latency' | 'throughput') : 'all';
    if (name === 'ingest') await (await import('./ingest.ts')).runIngestBench(seconds, part);
    else await (await import('./sync.ts')).runSyncBench(seconds);
    return 0;
  });
  process.exit(code);
} else {
  process.stderr.write(`unknown benchmark ${name}; one of: all, ${ALL.join(', ')}\n`);
  process.exit(2);
}
