import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Keypair } from '@solana/web3.js';
import { DefaultLogger, Runtime, type LogEntry, type Worker } from '@temporalio/worker';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { metricsHandler } from '../runtime/metrics.ts';

/** What every worker entrypoint shares: an optional /metrics server and orderly shutdown steps. */
export async function serveMetrics(registry: Registry, port: number | undefined, log: Logger): Promise<Server | undefined> {
  if (!port) return undefined;
  const handler = metricsHandler(registry);
  const server = createServer((req, res) => {
    if (req.url === '/metrics') void handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  log.info({ port }, 'metrics_listening');
  return server;
}

/** Runs cleanup steps in order, logging (not throwing) each failure, so every step gets its turn. */
export async function closeAll(log: Logger, steps: [string, () => Promise<unknown> | unknown][]): Promise<void> {
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (e) {
      log.warn({ step: name, err: (e as Error).message }, 'shutdown_step_failed');
    }
  }
}

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * Routes the Temporal SDK's own log lines (worker state, workflow bundling, activity logs) into the
 * process's pino logger: one JSON line each, like every other line we print. Call once, first.
 */
export function installTemporalLogging(log: Logger): void {
  const sdk = log.child({ module: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry: LogEntry) => {
      const { sdkComponent, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
      // Bundler output is a multi-line webpack report: keep its first line only.
      sdk[PINO_LEVEL[entry.level]]({ component: sdkComponent, ...meta }, entry.message.split('\n')[0]!);
    }),
  });
}

/**
 * Runs a worker until SIGINT/SIGTERM (the SDK's shutdown signals), then closes what the entrypoint
 * opened, in order, and exits: client libraries may keep timers alive (reconnects, keep-alives).
 */
export async function runUntilStopped(worker: Worker, log: Logger, cleanup: [string, () => Promise<unknown> | unknown][]): Promise<never> {
  await worker.run();
  await closeAll(log, cleanup);
  log.info('worker_stopped');
  process.exit(0);
}

/**
 * A signer's keypair file (solana-keygen JSON). Refused when others may read it (group or world
 * permissions): a key of value is kept readable by its owner only. Exits with the reason (EX_CONFIG).
 */
export function loadKeypairOrExit(path: string, what: string, log: Logger): Keypair {
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) throw new Error(`it is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
    const bytes: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!Array.isArray(bytes) || bytes.length !== 64) throw new Error('expected a JSON array of 64 bytes');
    return Keypair.fromSecretKey(Uint8Array.from(bytes as number[]));
  } catch (e) {
    log.fatal({ path, err: (e as Error).message }, `${what} keypair refused`);
    process.exit(78);
  }
}
