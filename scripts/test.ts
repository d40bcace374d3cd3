// `npm test`: starts the services the tests need on test ports (or reuses ones already running
// there), runs every test, stops what it started, and exits non-zero on any failure.
// Extra arguments go to vitest (e.g. `npm test -- domain/`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ferretDb, temporalDevServer } from './services.ts';
import { Supervisor, type ProcessSpec } from './supervisor.ts';

/** Test ports: apart from `npm start`'s, so tests run while the system is up. */
export const TEST_PORTS = { temporal: 17233, ferretdb: 27117 } as const;

const ferretDir = mkdtempSync(join(tmpdir(), 'qd-test-ferretdb-'));
const specs: ProcessSpec[] = [
  { ...temporalDevServer({ port: TEST_PORTS.temporal, uiPort: 0, namespace: 'default', headless: true }), reuseIfRunning: true },
  { ...ferretDb({ port: TEST_PORTS.ferretdb, dataDir: ferretDir }), reuseIfRunning: true },
];

const supervisor = new Supervisor(specs.map((s) => s.name));
const started = Date.now();
let code = 1;
try {
  for (const spec of specs) await supervisor.start(spec);
  const env = {
    ...process.env,
    QD_TEMPORAL_ADDRESS: `127.0.0.1:${TEST_PORTS.temporal}`,
    QD_TEMPORAL_NAMESPACE: 'default',
    QD_MONGODB_URI: `mongodb://127.0.0.1:${TEST_PORTS.ferretdb}/quantdesk-test`,
    QD_LOG_LEVEL: process.env.QD_LOG_LEVEL ?? 'warn',
  };
  const vitest = spawn('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit', env });
  const died = supervisor.died.then((reason) => {
    supervisor.log(`a test service died: ${reason}`);
    vitest.kill('SIGTERM');
    return 1;
  });
  code = await Promise.race([new Promise<number>((r) => vitest.once('exit', (c) => r(c ?? 1))), died]);
} catch (e) {
  supervisor.log(`cannot run the tests: ${(e as Error).message}`);
} finally {
  await supervisor.stopAll();
  rmSync(ferretDir, { recursive: true, force: true });
}
supervisor.log(`tests ${code === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(code);
