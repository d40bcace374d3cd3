// `npm test`: starts the services the tests need on test ports (or reuses ones already running
// there), runs every test, stops what it started, and exits non-zero on any failure. A test service
// that dies is restarted (the supervisor logs it); only one that crash-loops ends the run.
// Extra arguments go to vitest (e.g. `npm test -- domain/`).
import { runVitest, withTestServices } from './test-services.ts';

const started = Date.now();
const code = await withTestServices((supervisor, failed) => runVitest(process.argv.slice(2), supervisor, failed));
process.stdout.write(`tests ${code === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s\n`);
process.exit(code);
