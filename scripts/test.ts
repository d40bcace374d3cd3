// `npm test`: starts the services the tests need on test ports (or reuses ones already running
// there), runs every test, stops what it started, and exits non-zero on any failure. A test service
// that dies is restarted (the supervisor logs it); only one that crash-loops ends the run.
// Then, on a full run, a short fault soak of the whole system (scripts/soak.ts; QD_TEST_SOAK_MINUTES,
// 2 by default, 0 skips it). Extra arguments go to vitest (e.g. `npm test -- domain/`) and skip the soak.
import { spawn } from 'node:child_process';
import { runVitest, withTestServices } from './test-services.ts';

const started = Date.now();
const args = process.argv.slice(2);
let code = await withTestServices((supervisor, failed) => runVitest(args, supervisor, failed));
const soakMinutes = Number(process.env.QD_TEST_SOAK_MINUTES ?? 2);
if (code === 0 && args.length === 0 && soakMinutes > 0) {
  // Its own ports, shifted like the test services' so two clones can run side by side.
  const portBase = 29_000 + Number(process.env.QD_TEST_PORT_OFFSET ?? 0);
  const soak = spawn('npx', ['tsx', 'scripts/soak.ts', '--minutes', String(soakMinutes), '--port-base', String(portBase)], { stdio: 'inherit' });
  code = await new Promise<number>((resolve) => soak.once('exit', (c) => resolve(c ?? 1)));
}
process.stdout.write(`tests ${code === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s\n`);
process.exit(code);
