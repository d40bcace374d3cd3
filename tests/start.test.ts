import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import { ROOT, createTestNamespace, freePort, testConfig, testDatabaseUri, uniqueName, waitFor } from './support.ts';

/**
 * `scripts/start.ts` for real, with every endpoint pointing elsewhere — Temporal, FerretDB and Redis
 * of `npm test`, a market simulator of this test, an RPC that is down — and our own processes on
 * free ports, so it runs beside an `npm start` on the default ports. It must start no embedded
 * service, bring up the gateway and the workers, restart the ingest worker after a kill -9 (prices
 * flow again), and stop everything on Ctrl-C.
 */

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Three consecutive free ports: start.ts gives the ingest, sync and keeper workers base, base + 1, base + 2. */
async function freePortRun(): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base < 65_534 && (await portIsFree(base + 1)) && (await portIsFree(base + 2))) return base;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface ServedPrice {
  symbol: string;
  price: { publishTime: number; receivedAt: number; source: string; stale: boolean } | null;
}

let sim: MarketSim;
let dataDir: string;
let start: ChildProcess;
let output = '';
let gatewayUrl: string;
const pidOf = (name: string) => Number(new RegExp(`\\| ${name}: ready \\(pid (\\d+)\\)`).exec(output)?.[1]);
const pidsSeen = () => [...output.matchAll(/: ready (?:again )?\(pid (\d+)/g)].map((m) => Number(m[1]));

async function prices(): Promise<ServedPrice[]> {
  const res = await fetch(`${gatewayUrl}/api/prices`);
  return ((await res.json()) as { prices: ServedPrice[] }).prices;
}

beforeAll(async () => {
  // On the embedded defaults this would start services on npm start's ports: only under npm test.
  if (testConfig.embedded.temporal || testConfig.embedded.mongodb || testConfig.embedded.redis) {
    throw new Error('tests/start.test.ts needs the test services: run it through npm test');
  }
  sim = createMarketSim({ port: 0, seed: 7, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  dataDir = mkdtempSync(join(tmpdir(), 'qd-start-test-'));
  // Keypairs are refused unless only their owner can read them.
  const newKeypairFile = (name: string) => {
    const file = join(dataDir, `${name}.json`);
    writeFileSync(file, JSON.stringify(Array.from(Keypair.generate().secretKey)), { mode: 0o600 });
    return file;
  };
  const namespace = uniqueName('start');
  await createTestNamespace(namespace);
  const gatewayPort = await freePort();
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const env: Record<string, string> = {
    QD_LOG_LEVEL: 'warn',
    QD_DATA_DIR: dataDir,
    QD_TEMPORAL_ADDRESS: testConfig.temporal.address,
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: testDatabaseUri(uniqueName('qd-start')),
    QD_REDIS_URL: testConfig.redisUrl,
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_SOLANA_RPC_URL: `http://127.0.0.1:${await freePort()}`,
    QD_ORACLE_AUTHORITY_KEYPAIR: newKeypairFile('oracle-authority'),
    QD_KEEPER_KEYPAIR: newKeypairFile('keeper'),
    QD_GATEWAY_PORT: String(gatewayPort),
    QD_WEB_PORT: String(await freePort()),
    QD_GATEWAY_URL: gatewayUrl,
    QD_TEST_METRICS_PORT_BASE: String(await freePortRun()),
  };
  start = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [start.stdout!, start.stderr!]) stream.on('data', (b: Buffer) => (output += b.toString()));
  await waitFor('the banner of npm start', () => output.includes('Ctrl-C stops everything.') || start.exitCode !== null, 150_000, 250);
  if (start.exitCode !== null) throw new Error(`start.ts exited with ${start.exitCode}:\n${output.slice(-4_000)}`);
}, 180_000);

afterAll(async () => {
  // Whatever failed above, leave no process behind: stop start.ts, then kill anything it started.
  if (start && start.exitCode === null && start.signalCode === null) {
    start.kill('SIGINT');
    await waitFor('start.ts to stop', () => start.exitCode !== null || start.signalCode !== null, 30_000).catch(() => start.kill('SIGKILL'));
  }
  for (const pid of pidsSeen()) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await sim?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start (scripts/start.ts) with every endpoint external', () => {
  it('starts only our own processes and names every service external in the banner', () => {
    const banner = output.slice(output.indexOf('QuantDesk is up:'));
    for (const service of ['Temporal', 'MongoDB', 'Redis', 'Hermes', 'CoinGecko', 'Solana RPC']) {
      expect(banner).toMatch(new RegExp(`\\| +${service} +external  `));
    }
    expect(banner).toMatch(new RegExp(`Hermes +external  ${sim.url}\\n`));
    expect(banner).toMatch(/processes +gateway, ingest, sync, keeper, web\n/);
    for (const embedded of ['temporal', 'ferretdb', 'redis', 'market-sim', 'chain']) expect(output).not.toContain(`| ${embedded}: ready`);
    for (const ours of ['gateway', 'ingest', 'sync', 'keeper', 'web']) expect(pidOf(ours)).toBeGreaterThan(0);
  });

  it('restarts the ingest worker after kill -9, and prices flow again from the new one', async () => {
    await waitFor('fresh prices through the gateway', async () => (await prices()).some((p) => p.price && Date.now() - p.price.receivedAt < 5_000), 60_000, 500);
    const gatewayPid = pidOf('gateway');
    const killedAt = Date.now();
    process.kill(pidOf('ingest'), 'SIGKILL');
    await waitFor('the restarted ingest worker', () => /\| ingest: ready again \(pid \d+, restart 1/.test(output), 60_000, 200);
    expect(output).toMatch(/\| ingest: killed by SIGKILL after [\d.]+ s; restarting in 500 ms/);
    // Only the new worker can have received a price after the kill.
    const fresh = await waitFor('a price received after the kill', async () => (await prices()).find((p) => p.price && p.price.receivedAt > killedAt && !p.price.stale), 60_000, 500);
    expect(fresh.price!.source).toBe('pyth');
    expect(alive(gatewayPid)).toBe(true); // its dependant was left alone
    expect(output).not.toContain('gateway: killed');
  }, 150_000);

  it('stops everything on Ctrl-C, newest first, and exits 0', async () => {
    const pids = pidsSeen();
    const exited = new Promise<number | null>((r) => start.once('exit', (code) => r(code)));
    start.kill('SIGINT');
    expect(await exited).toBe(0);
    const stops = [...output.matchAll(/\| (\w[\w-]*): stopped/g)].map((m) => m[1]);
    expect(stops).toEqual(['web', 'keeper', 'sync', 'ingest', 'gateway']);
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
