import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

/**
 * Runs the system's processes like a process manager: starts them in order, waits until each is
 * ready, prefixes every line each one prints, restarts one that dies (with exponential backoff,
 * waiting for its readiness again), gives up on one that crash-loops, and stops them all in
 * reverse order. A restart touches only the process that died: its dependants reconnect on their own.
 */

export type Readiness =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'http'; url: string }
  | { kind: 'probe'; describe: string; check: () => Promise<boolean> };

/** When and how often a process that died is started again. */
export interface RestartPolicy {
  /** Wait before the first restart; doubles with each further crash, up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A process that stayed up this long is restarted after `initialDelayMs` again when it next dies. */
  resetAfterMs: number;
  /** The `maxCrashes`-th crash within `crashWindowMs` is a crash loop: the supervisor gives up. */
  maxCrashes: number;
  crashWindowMs: number;
}

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  resetAfterMs: 60_000,
  maxCrashes: 5,
  crashWindowMs: 120_000,
});

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  ready: Readiness;
  /** How long the process may take to become ready; generous because CI machines have 2 cores. */
  readyTimeoutMs?: number;
  /** Printed once the process is ready. */
  urls?: Record<string, string>;
  /** Runs before each start of the process (make its data folder, etc.). */
  prepare?: () => Promise<void> | void;
  /** When something already answers the readiness check: use it instead of starting our own. */
  reuseIfRunning?: boolean;
  /** Overrides of DEFAULT_RESTART_POLICY (tests use short delays). */
  restart?: Partial<RestartPolicy>;
}

/** How a process ended: an exit code, a signal, or a failure to start it at all. */
export type Exit = { code: number; signal?: undefined; error?: undefined } | { signal: NodeJS.Signals; code?: undefined; error?: undefined } | { error: string; code?: undefined; signal?: undefined };

export function describeExit(exit: Exit): string {
  if (exit.error !== undefined) return `failed to start: ${exit.error}`;
  if (exit.signal !== undefined) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

/** What the supervisor reports, for logs and tests. */
export interface SupervisorEvents {
  /** A process was spawned (first start or restart). */
  started: [name: string, pid: number];
  /** Its readiness check passed; `restarts` is 0 on the first start. */
  ready: [name: string, restarts: number];
  exited: [name: string, exit: Exit];
  /** It died on its own and is started again after `delayMs`. */
  restarting: [name: string, delayMs: number];
  /** It crash-looped (or cannot be started): it stays down; `failed` resolves. */
  gaveUp: [name: string, reason: string];
  /** It was stopped by stopAll. */
  stopped: [name: string];
}

const COLORS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];
const READY_POLL_MS = 200;

export async function isReady(ready: Readiness): Promise<boolean> {
  switch (ready.kind) {
    case 'tcp':
      return new Promise((resolve) => {
        const socket = connect({ host: ready.host, port: ready.port });
        socket.setTimeout(1_000);
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('timeout', () => (socket.destroy(), resolve(false)));
        socket.once('error', () => resolve(false));
      });
    case 'http':
      try {
        const res = await fetch(ready.url, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        return res.status < 500;
      } catch {
        return false;
      }
    case 'probe':
      return ready.check().catch(() => false);
  }
}

function describe(ready: Readiness): string {
  if (ready.kind === 'tcp') return `${ready.host}:${ready.port}`;
  if (ready.kind === 'http') return ready.url;
  return ready.describe;
}

/** One supervised process across its restarts. */
interface Supervised {
  spec: ProcessSpec;
  policy: RestartPolicy;
  prefix: string;
  child: ChildProcess | undefined;
  exited: Promise<Exit> | undefined;
  /** Times of the crashes within the crash window. */
  crashes: number[];
  /** Ends a pending restart delay early (stopAll). */
  wake: (() => void) | undefined;
}

class StoppedError extends Error {}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly procs: Supervised[] = [];
  private stopping = false;
  private readonly width: number;
  private fail: ((reason: string) => void) | undefined;
  /** Resolves with a reason when the supervisor gives up on a process (a crash loop). */
  readonly failed: Promise<string>;

  constructor(
    names: string[],
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly color = Boolean((out as NodeJS.WriteStream).isTTY),
  ) {
    super();
    this.width = Math.max(10, ...names.map((n) => n.length));
    this.failed = new Promise((resolve) => (this.fail = resolve));
  }

  private prefix(name: string, index: number): string {
    const label = name.padEnd(this.width);
    return this.color ? `\x1b[${COLORS[index % COLORS.length]}m${label} |\x1b[0m ` : `${label} | `;
  }

  log(line: string): void {
    this.out.write(`${this.prefix('supervisor', COLORS.length - 1)}${line}\n`);
  }

  /** The pid of a running process of this name, if it is running now. */
  pid(name: string): number | undefined {
    const child = this.procs.find((p) => p.spec.name === name)?.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /**
   * Starts one process and waits until it is ready; from then on it is restarted whenever it dies.
   * A crash before it is ready is restarted too; throws when it crash-loops, is not ready in time on
   * its first start, or stopAll is called meanwhile.
   */
  async start(spec: ProcessSpec, index = this.procs.length): Promise<'started' | 'reused'> {
    if (this.stopping) throw new StoppedError(`${spec.name}: not started, stopping`);
    if (await isReady(spec.ready)) {
      if (spec.reuseIfRunning) {
        this.log(`${spec.name}: already running at ${describe(spec.ready)}, reusing it`);
        return 'reused';
      }
      throw new Error(`${spec.name}: ${describe(spec.ready)} is already in use; stop what runs there or change its port`);
    }
    const proc: Supervised = {
      spec,
      policy: { ...DEFAULT_RESTART_POLICY, ...spec.restart },
      prefix: this.prefix(spec.name, index),
      child: undefined,
      exited: undefined,
      crashes: [],
      wake: undefined,
    };
    this.procs.push(proc);
    await new Promise<void>((resolve, reject) => {
      this.supervise(proc, resolve, reject).catch((e: Error) => {
        // A bug here must still end in an orderly stop, not an exit that leaves the processes running.
        this.fail?.(`${spec.name}: supervision failed: ${e.message}`);
        reject(e);
      });
    });
    return 'started';
  }

  /** The life of one process: spawn, wait until ready, wait for its exit, back off, again. */
  private async supervise(p: Supervised, firstReady: () => void, firstFailed: (e: Error) => void): Promise<void> {
    const { spec, policy } = p;
    let delay = policy.initialDelayMs;
    let restarts = 0;
    let everReady = false;
    let crashedAt = 0;
    const giveUp = (reason: string) => {
      this.log(`${spec.name}: ${reason}`);
      this.emit('gaveUp', spec.name, reason);
      this.fail?.(`${spec.name} ${reason}`);
      if (!everReady) firstFailed(new Error(`${spec.name} ${reason}`));
    };
    for (;;) {
      try {
        await spec.prepare?.();
      } catch (e) {
        return giveUp(`could not be prepared: ${(e as Error).message}`);
      }
      if (this.stopping) break;
      const startedAt = Date.now();
      const exited = this.spawn(p);
      const readiness = await this.waitReady(p, exited);
      if (readiness === 'ready') {
        const urls = Object.entries(spec.urls ?? {}).map(([k, v]) => `${k} ${v}`);
        const pid = p.child?.pid;
        if (restarts === 0) this.log(`${spec.name}: ready (pid ${pid})${urls.length ? ` — ${urls.join(', ')}` : ''}`);
        else this.log(`${spec.name}: ready again (pid ${pid}, restart ${restarts}, ${((Date.now() - crashedAt) / 1000).toFixed(1)} s after it died)`);
        this.emit('ready', spec.name, restarts);
        if (!everReady) firstReady();
        everReady = true;
      } else if (readiness === 'timeout') {
        const timeoutMs = spec.readyTimeoutMs ?? 60_000;
        if (!everReady) {
          // A first start that never gets ready is a setup problem, not a crash: do not retry for minutes.
          signalGroup(p.child!, 'SIGKILL');
          await exited;
          return giveUp(`was not ready at ${describe(spec.ready)} within ${timeoutMs} ms`);
        }
        this.log(`${spec.name}: not ready again within ${timeoutMs} ms, killing it`);
        signalGroup(p.child!, 'SIGKILL');
      }
      const exit = await exited;
      const pid = p.child?.pid;
      p.child = undefined;
      // Whatever it left in its process group (grandchildren holding a port) goes with it.
      if (pid !== undefined) killGroup(pid);
      this.emit('exited', spec.name, exit);
      if (this.stopping) break;

      crashedAt = Date.now();
      const upMs = crashedAt - startedAt;
      if (exit.error !== undefined) return giveUp(describeExit(exit));
      if (upMs >= policy.resetAfterMs) delay = policy.initialDelayMs;
      p.crashes = p.crashes.filter((t) => crashedAt - t < policy.crashWindowMs);
      p.crashes.push(crashedAt);
      const window = `${Math.round(policy.crashWindowMs / 1000)} s`;
      if (p.crashes.length >= policy.maxCrashes) {
        return giveUp(`crash-looped: ${describeExit(exit)}, ${p.crashes.length} crashes within ${window}; not restarting it`);
      }
      this.log(`${spec.name}: ${describeExit(exit)} after ${(upMs / 1000).toFixed(1)} s; restarting in ${delay} ms (crash ${p.crashes.length} within ${window}; gives up at ${policy.maxCrashes})`);
      this.emit('restarting', spec.name, delay);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        p.wake = () => (clearTimeout(timer), resolve());
      });
      p.wake = undefined;
      delay = Math.min(delay * 2, policy.maxDelayMs);
      restarts += 1;
    }
    if (!everReady) firstFailed(new StoppedError(`${spec.name}: stopped before it was ready`));
  }

  private spawn(p: Supervised): Promise<Exit> {
    const child = spawn(p.spec.command, p.spec.args, {
      cwd: p.spec.cwd,
      env: { ...process.env, ...p.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: a stop reaches the grandchildren too
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.out.write(p.prefix + line + '\n'));
    }
    p.child = child;
    p.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ? { signal } : { code: code ?? 0 }));
      child.once('error', (err) => resolve({ error: err.message }));
    });
    if (child.pid !== undefined) this.emit('started', p.spec.name, child.pid);
    return p.exited;
  }

  private async waitReady(p: Supervised, exited: Promise<Exit>): Promise<'ready' | 'exited' | 'timeout'> {
    let dead = false;
    void exited.then(() => (dead = true));
    const deadline = Date.now() + (p.spec.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (dead || this.stopping) return 'exited';
      if (await isReady(p.spec.ready)) return dead ? 'exited' : 'ready';
      if (Date.now() > deadline) return 'timeout';
      await Promise.race([exited, new Promise((r) => setTimeout(r, READY_POLL_MS))]);
    }
  }

  /** Kills every process this supervisor started, at once (SIGKILL to each process group); none restarts. */
  killAll(): void {
    this.stopping = true;
    for (const p of this.procs) {
      p.wake?.();
      if (p.child) signalGroup(p.child, 'SIGKILL');
    }
  }

  /** Stops everything this supervisor started, newest first: SIGTERM, then SIGKILL after a grace period. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const p of this.procs) p.wake?.();
    for (const p of [...this.procs].reverse()) {
      const { child, exited } = p;
      if (!child || !exited || child.exitCode !== null || child.signalCode !== null) continue;
      signalGroup(child, 'SIGTERM');
      const timer = setTimeout(() => {
        this.log(`${p.spec.name}: did not stop within ${graceMs} ms, killing it`);
        signalGroup(child, 'SIGKILL');
      }, graceMs);
      const exit = await exited;
      clearTimeout(timer);
      this.log(`${p.spec.name}: stopped${exit.signal === 'SIGTERM' || exit.code === 0 ? '' : ` (${describeExit(exit)})`}`);
      this.emit('stopped', p.spec.name);
    }
    this.procs.length = 0;
  }
}

/** Whether start() failed because the supervisor is stopping (not because of the process). */
export function isStopped(e: unknown): boolean {
  return e instanceof StoppedError;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // The group is gone already: nothing was left behind.
  }
}
