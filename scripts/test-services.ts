import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ferretDb, postgres, postgresUrl, redisServer, temporalDevServer } from './services.ts';
import { Supervisor, type ProcessSpec } from './supervisor.ts';

/**
 * Ports of the services tests and benchmarks use: apart from `npm start`'s, so both can run at once.
 * `QD_TEST_PORT_OFFSET` shifts them all, so two clones can run their tests side by side.
 */
const offset = Number(process.env.QD_TEST_PORT_OFFSET ?? 0);
if (!Number.isInteger(offset) || offset < 0 || offset > 20_000) throw new Error('QD_TEST_PORT_OFFSET must be an integer in 0..20000');
export const TEST_PORTS = { temporal: 17233 + offset, ferretdb: 27117 + offset, redis: 16379 + offset, postgres: 17432 + offset } as const;

/** Environment that points our code at the test services. */
export const TEST_ENV = {
  QD_TEMPORAL_ADDRESS: `127.0.0.1:${TEST_PORTS.temporal}`,
  QD_TEMPORAL_NAMESPACE: 'default',
  QD_MONGODB_URI: `mongodb://127.0.0.1:${TEST_PORTS.ferretdb}/quantdesk-test`,
  QD_REDIS_URL: `redis://127.0.0.1:${TEST_PORTS.redis}`,
  /** For tests that look at how FerretDB's PostgreSQL serves a query (indexes used, plans). */
  QD_TEST_POSTGRES_URL: postgresUrl(TEST_PORTS.postgres),
};

/**
 * Starts Temporal (headless, in memory), FerretDB and Redis (in temporary folders) on the test
 * ports, or reuses ones already answering there; runs `body`; stops what it started. A service that
 * dies meanwhile is restarted (an in-memory Temporal comes back empty); one that crash-loops
 * resolves `failed`, and the caller ends the run.
 */
export async function withTestServices(body: (supervisor: Supervisor, failed: Promise<string>) => Promise<number>): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'qd-test-services-'));
  // PostgreSQL runs as its own user when we are root: it must reach its folder inside this one.
  chmodSync(dataDir, 0o755);
  const specs: ProcessSpec[] = [
    { ...temporalDevServer({ port: TEST_PORTS.temporal, uiPort: 0, namespace: 'default', headless: true }), reuseIfRunning: true },
    { ...postgres({ port: TEST_PORTS.postgres, dataDir: join(dataDir, 'postgres') }), reuseIfRunning: true },
    { ...ferretDb({ port: TEST_PORTS.ferretdb, stateDir: join(dataDir, 'ferretdb'), postgresUrl: postgresUrl(TEST_PORTS.postgres) }), reuseIfRunning: true },
    { ...redisServer({ port: TEST_PORTS.redis, dataDir: join(dataDir, 'redis') }), reuseIfRunning: true },
  ];
  const supervisor = new Supervisor(specs.map((s) => s.name));
  try {
    for (const spec of specs) await supervisor.start(spec);
    return await body(supervisor, supervisor.failed);
  } catch (e) {
    supervisor.log(`cannot run: ${(e as Error).message}`);
    return 1;
  } finally {
    await supervisor.stopAll();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** vitest with `args` against the test services; ends early (1) when one of them is down for good. */
export function runVitest(args: readonly string[], supervisor: Supervisor, failed: Promise<string>): Promise<number> {
  const env = { ...process.env, ...TEST_ENV, QD_LOG_LEVEL: process.env.QD_LOG_LEVEL ?? 'warn' };
  const vitest = spawn('npx', ['vitest', 'run', ...args], { stdio: 'inherit', env });
  const crashLooped = failed.then((reason) => {
    supervisor.log(`a test service is down for good: ${reason}`);
    vitest.kill('SIGTERM');
    return 1;
  });
  return Promise.race([new Promise<number>((r) => vitest.once('exit', (c) => r(c ?? 1))), crashLooped]);
}
