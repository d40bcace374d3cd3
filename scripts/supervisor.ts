import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

/**
 * Runs the system's processes: starts them in order, waits until each is ready, prefixes every line
 * each one prints, and stops them all (in reverse order) on Ctrl-C or as soon as one of them dies.
 */

export type Readiness =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'http'; url: string }
  | { kind: 'probe'; describe: string; check: () => Promise<boolean> };

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
  /** Runs before the process starts (make its data folder, etc.). */
  prepare?: () => Promise<void> | void;
  /** When something already answers the readiness check: use it instead of starting our own. */
  reuseIfRunning?: boolean;
}

const COLORS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

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

interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export class Supervisor {
  private readonly running: Running[] = [];
  private stopping = false;
  private readonly width: number;
  private failure: ((reason: string) => void) | undefined;
  /** Resolves with a reason when a supervised process dies on its own. */
  readonly died: Promise<string>;

  constructor(
    names: string[],
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly color = Boolean((out as NodeJS.WriteStream).isTTY),
  ) {
    this.width = Math.max(8, ...names.map((n) => n.length));
    this.died = new Promise((resolve) => (this.failure = resolve));
  }

  private prefix(name: string, index: number): string {
    const label = name.padEnd(this.width);
    return this.color ? `\x1b[${COLORS[index % COLORS.length]}m${label} |\x1b[0m ` : `${label} | `;
  }

  log(line: string): void {
    this.out.write(`${this.prefix('supervisor', COLORS.length - 1)}${line}\n`);
  }

  /** Starts one process and waits until it is ready. Throws when it dies or is not ready in time. */
  async start(spec: ProcessSpec, index = this.running.length): Promise<'started' | 'reused'> {
    if (await isReady(spec.ready)) {
      if (spec.reuseIfRunning) {
        this.log(`${spec.name}: already running at ${describe(spec.ready)}, reusing it`);
        return 'reused';
      }
      throw new Error(`${spec.name}: ${describe(spec.ready)} is already in use; stop what runs there or change its port`);
    }
    await spec.prepare?.();
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: a stop reaches the grandchildren too
    });
    const prefix = this.prefix(spec.name, index);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.out.write(prefix + line + '\n'));
    }
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
      child.once('error', (err) => {
        this.out.write(`${prefix}failed to start: ${err.message}\n`);
        resolve(127);
      });
    });
    const entry = { spec, child, exited };
    this.running.push(entry);
    void exited.then((code) => {
      if (!this.stopping) this.failure?.(`${spec.name} exited with code ${code}`);
    });

    const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000);
    let dead = false;
    void exited.then(() => (dead = true));
    while (!(await isReady(spec.ready))) {
      if (dead) throw new Error(`${spec.name} exited before it was ready (see its lines above)`);
      if (Date.now() > deadline) throw new Error(`${spec.name} was not ready at ${describe(spec.ready)} within ${spec.readyTimeoutMs ?? 60_000} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const urls = Object.entries(spec.urls ?? {}).map(([k, v]) => `${k} ${v}`);
    this.log(`${spec.name}: ready${urls.length ? ` — ${urls.join(', ')}` : ''}`);
    return 'started';
  }

  /** Kills every process this supervisor started, at once (SIGKILL to each process group). */
  killAll(): void {
    for (const { child } of this.running) signalGroup(child, 'SIGKILL');
  }

  /** Stops everything this supervisor started, newest first: SIGTERM, then SIGKILL after a grace period. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const { spec, child, exited } of [...this.running].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      signalGroup(child, 'SIGTERM');
      const timer = setTimeout(() => {
        this.log(`${spec.name}: did not stop within ${graceMs} ms, killing it`);
        signalGroup(child, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
      this.log(`${spec.name}: stopped`);
    }
    this.running.length = 0;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}
