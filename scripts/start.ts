// `npm start`: the whole system — the embedded services whose endpoints are the defaults, and our own
// processes. A process that dies is restarted; Ctrl-C stops everything.
import { loadConfigOrExit } from '../runtime/config.ts';
import { composeSystem, DEFAULT_METRICS_PORTS } from './composition.ts';
import { isStopped, Supervisor } from './supervisor.ts';

const config = loadConfigOrExit();

// Only tests move the workers' metrics ports (to run beside an `npm start` on the defaults).
const metricsBase = Number(process.env.QD_TEST_METRICS_PORT_BASE ?? 0);
const metricsPorts = metricsBase > 0 ? { ingest: metricsBase, sync: metricsBase + 1, keeper: metricsBase + 2 } : DEFAULT_METRICS_PORTS;
const { specs, banner } = composeSystem(config, { metricsPorts });

const supervisor = new Supervisor(specs.map((s) => s.name));
let stopping: Promise<void> | undefined;

/** Stops everything once, newest first, then exits with `code`. */
function stop(reason: string, code: number): Promise<void> {
  if (!stopping) {
    supervisor.log(`stopping everything: ${reason}`);
    stopping = supervisor.stopAll().then(() => process.exit(code));
  }
  return stopping;
}

/**
 * A Ctrl-C reaches this process twice: from the terminal (to the whole foreground group) and relayed
 * by tsx, which runs it (30 ms later when this process has not acknowledged it yet). Copies within
 * this window are that same Ctrl-C; a later signal while stopping is the operator's second one.
 */
const SAME_SIGNAL_MS = 500;
let signalledAt: number | undefined;

/** A second Ctrl-C while stopping kills what is left at once — never exits leaving processes behind. */
function onSignal(reason: string): void {
  const now = Date.now();
  if (signalledAt !== undefined && now - signalledAt < SAME_SIGNAL_MS) return;
  if (stopping) {
    supervisor.log(`${reason} again: killing what is left`);
    supervisor.killAll();
    return;
  }
  signalledAt = now;
  void stop(reason, 0);
}
process.on('SIGINT', () => onSignal('interrupted'));
process.on('SIGTERM', () => onSignal('terminated'));
// A crash loop: the supervisor gave up on a process, so the system cannot run.
void supervisor.failed.then((reason) => stop(reason, 1));

try {
  for (const spec of specs) await supervisor.start(spec);
} catch (e) {
  if (!isStopped(e)) void stop((e as Error).message, 1);
  await stopping;
}
for (const line of banner) supervisor.log(line);
