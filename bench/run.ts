// `npm run bench -- <name>`: benchmarks, run against the test services (started here, or reused).
//   ingest    price ingestion latency at 200 and 2,000 feeds (vs a bare relay) and stored-update throughput [--seconds 20] [--part latency|throughput] [--feeds 200,2000]
//   sync      simulator publish → on-chain latency, transactions and CU per market update [--seconds 30]
//   program   compute units per instruction of quantdesk_perp (LiteSVM)
//   localnet  confirmed transactions/s through the localnet's JSON-RPC
//   liquidation  crossing → liquidation confirmed; sagas/s with 1 and 2 keeper workers [--positions 500] [--rpc-ms 150]
//   web       dashboard: JS shipped for /, navigation → first live price, 200 markets ticking (Chromium)
//   store     reads (latest, 1 h / 24 h candles, push log) over a preloaded day of history while ingesting 1,000 updates/s [--scale 1] [--reads 300]
import { spawn } from 'node:child_process';
import { TEST_ENV, withTestServices } from '../scripts/test-services.ts';

const name = process.argv[2] ?? 'ingest';
const scripts: Record<string, string> = { program: 'bench/program-cu.ts', localnet: 'bench/localnet-tps.ts' };

if (name in scripts) {
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
  process.stderr.write(`unknown benchmark ${name}; one of: ingest, sync, store, liquidation, web, ${Object.keys(scripts).join(', ')}\n`);
  process.exit(2);
}
