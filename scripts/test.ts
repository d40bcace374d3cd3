// `npm test`: starts the services the tests need on test ports (or reuses ones already running
// there), runs every test, stops what it started, and exits non-zero on any failure. A test service
// that dies is restarted (the supervisor logs it); only one that crash-loops ends the run.
// Extra arguments go to vitest (e.g. `npm test -- domain/`).
import { spawn } from 'node:child_process';
import { TEST_ENV, withTestServices } from './test-services.ts';

const started = Date.now();
const code = await withTestServices(async (supervisor, failed) => {
  const env = { ...process.env, ...TEST_ENV, QD_LOG_LEVEL: process.env.QD_LOG_LEVEL ?? 'warn' };
  const vitest = spawn('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit', env });
  const crashLooped = failed.then((reason) => {
    supervisor.log(`a test service is down for good: ${reason}`);
    vitest.kill('SIGTERM');
    return 1;
  });
  return Promise.race([new Promise<number>((r) => vitest.once('exit', (c) => r(c ?? 1))), crashLooped]);
});
process.stdout.write(`tests ${code === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s\n`);
process.exit(code);
