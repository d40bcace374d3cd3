import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../runtime/config.ts';
import { loadMarkets } from '../runtime/markets.ts';
import { connectClient } from '../temporal/connection.ts';
import { ensureNamespace, registerSearchAttributes } from '../temporal/admin.ts';

/**
 * Configuration for integration tests: `npm test` (scripts/test.ts) points QD_TEMPORAL_ADDRESS and
 * QD_MONGODB_URI at the test services it started, so tests read them like any process would.
 */
export const testConfig = loadConfig();

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The shipped feed registry (config/markets.json): tests take market bounds from it, not from copies. */
export const testMarkets = () => loadMarkets(`${ROOT}/config/markets.json`);

/** A name unique to this test run, for ids and database names that must not collide between runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A MongoDB URI for a database of the test's own. */
export function testDatabaseUri(name: string): string {
  const u = new URL(testConfig.mongodbUri);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A Temporal namespace of the test's own (fixed workflow ids and task queues then cannot collide
 * with another test file), with our search attributes registered — as on a self-hosted cluster.
 */
export async function createTestNamespace(name: string): Promise<Config['temporal']> {
  await ensureNamespace(testConfig.temporal.address, name);
  const cfg = { ...testConfig.temporal, namespace: name };
  const client = await connectClient(cfg);
  try {
    await registerSearchAttributes(client, name);
  } finally {
    await client.connection.close();
  }
  return cfg;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A real process of ours (a worker, the gateway), with its output kept for failure messages. */
export interface ChildHandle {
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const children = new Set<ChildProcess>();
// Whatever happens to the test run (a timeout, a crash), no process of ours outlives it.
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function startProcess(entry: string, env: Record<string, string>, args: string[] = []): ChildHandle {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (b: Buffer) => {
    lines.push(b.toString());
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  children.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => (children.delete(child), r())));
  return {
    child,
    output: () => lines.join(''),
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
