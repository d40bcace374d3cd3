import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { devServerSearchAttributeArgs } from '../temporal/search-attributes.ts';
import { configAddress } from '../programs/client/quantdesk-perp.ts';
import { embeddedProgramId } from '../sandbox/chain/program-keys.ts';
import { rpcCall } from '../sandbox/chain/surfnet.ts';
import type { ProcessSpec } from './supervisor.ts';
// @ts-expect-error plain ESM without types
import { WEB_ENTRY, ensureWebBuilt } from '../web/build.mjs';
import { ferretdbBinary, postgresBinDir, redisServerBinary, temporalBinary } from './tools.mjs';

/** The embedded infrastructure, as the supervisor runs it for `npm start` and `npm test`. */

export interface TemporalOptions {
  port: number;
  uiPort: number;
  namespace: string;
  /** SQLite file; in memory when absent (tests). */
  dbFile?: string;
  headless?: boolean;
  /** The temporal CLI; the installed one by default. */
  binary?: string;
}

export function temporalDevServer(o: TemporalOptions): ProcessSpec {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(o.port), '--namespace', o.namespace, '--log-format', 'json', '--log-level', 'error'];
  if (o.headless) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort), '--ui-disable-news-fetch');
  if (o.dbFile) args.push('--db-filename', resolve(o.dbFile));
  args.push(...devServerSearchAttributeArgs());
  // Eager activity execution: an activity a workflow schedules on its own task queue is handed to
  // the same worker in the workflow task's reply, a round trip less per saga step.
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  return {
    name: 'temporal',
    command: o.binary ?? temporalBinary(),
    args,
    ready: {
      kind: 'probe',
      describe: `namespace ${o.namespace} at 127.0.0.1:${o.port}`,
      // The port opens before the namespace exists: ready means the namespace answers.
      async check() {
        const connection = await Connection.connect({ address: `127.0.0.1:${o.port}`, connectTimeout: 1_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: o.namespace });
          return true;
        } finally {
          await connection.close();
        }
      },
    },
    readyTimeoutMs: 90_000,
    urls: o.headless ? { gRPC: `127.0.0.1:${o.port}` } : { 'Web UI': `http://localhost:${o.uiPort}`, gRPC: `127.0.0.1:${o.port}` },
    prepare: o.dbFile ? () => mkdir(resolve(o.dbFile!, '..'), { recursive: true }).then(() => undefined) : undefined,
  };
}

export interface FerretOptions {
  port: number;
  /** FerretDB's own state folder (its instance id); the data lives in PostgreSQL. */
  stateDir: string;
  /** The PostgreSQL database FerretDB keeps its data in. */
  postgresUrl: string;
  binary?: string;
}

/**
 * FerretDB 1.24 on PostgreSQL: the MongoDB wire protocol for mongoose. Its SQLite backend serves no
 * query from an index; on PostgreSQL, with the GIN companions of scripts/ferretdb/indexes.sql,
 * every equality filter is an index lookup (README "Storage").
 */
export function ferretDb(o: FerretOptions): ProcessSpec {
  const dir = resolve(o.stateDir);
  return {
    name: 'ferretdb',
    command: o.binary ?? ferretdbBinary(),
    args: [
      '--handler=postgresql',
      `--postgresql-url=${o.postgresUrl}`,
      `--listen-addr=127.0.0.1:${o.port}`,
      '--telemetry=disable',
      '--debug-addr=-',
      // FerretDB keeps a small state.json (its instance id) in the state folder, by default the cwd.
      `--state-dir=${dir}`,
      '--log-level=error',
    ],
    ready: { kind: 'tcp', host: '127.0.0.1', port: o.port },
    urls: { MongoDB: `mongodb://127.0.0.1:${o.port}` },
    prepare: () => mkdir(dir, { recursive: true }).then(() => undefined),
  };
}

export interface PostgresOptions {
  port: number;
  /** The cluster's data folder (made with initdb on first start). */
  dataDir: string;
  /** The database FerretDB uses. */
  database?: string;
  /** Where PostgreSQL's binaries are (Debian: /usr/lib/postgresql/15/bin). */
  binDir?: string;
}

export const FERRETDB_PG_DATABASE = 'ferretdb';
export const postgresUrl = (port: number, database = FERRETDB_PG_DATABASE) => `postgres://postgres@127.0.0.1:${port}/${database}`;

/**
 * PostgreSQL (Debian's) as FerretDB's backend, a child process on its own port and data folder.
 * PostgreSQL refuses to run as root: as root it runs as the `postgres` user (setpriv execs it, so
 * signals reach it directly). Ready once it answers and FerretDB's database and index companions
 * exist (scripts/ferretdb/indexes.sql, idempotent).
 */
export function postgres(o: PostgresOptions): ProcessSpec {
  const dir = resolve(o.dataDir);
  const bin = o.binDir ?? postgresBinDir();
  const database = o.database ?? FERRETDB_PG_DATABASE;
  const asRoot = process.getuid?.() === 0;
  const asPostgres = (command: string, args: string[]): [string, string[]] =>
    asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]] : [command, args];
  const [command, args] = asPostgres(join(bin, 'postgres'), [
    '-D', dir,
    '-p', String(o.port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', `unix_socket_directories=${dir}`,
    // FerretDB's statements name the field as a parameter: only a custom plan can use an index.
    '-c', 'plan_cache_mode=force_custom_plan',
    '-c', 'shared_buffers=256MB',
    '-c', 'max_connections=200',
    '-c', 'log_min_messages=warning',
  ]);
  return {
    name: 'postgres',
    command,
    args,
    ready: { kind: 'probe', describe: `PostgreSQL at 127.0.0.1:${o.port}`, check: () => preparePostgres(o.port, database) },
    readyTimeoutMs: 60_000,
    urls: { PostgreSQL: `postgres://127.0.0.1:${o.port}` },
    async prepare() {
      if (existsSync(join(dir, 'PG_VERSION'))) return;
      await mkdir(dir, { recursive: true });
      if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
      const [init, initArgs] = asPostgres(join(bin, 'initdb'), ['-D', dir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-instructions']);
      execFileSync(init, initArgs, { stdio: ['ignore', 'ignore', 'inherit'] });
    },
  };
}

const INDEXES_SQL = join(dirname(fileURLToPath(import.meta.url)), 'ferretdb', 'indexes.sql');

/** Answers once PostgreSQL takes connections; makes FerretDB's database and installs the index companions. */
export async function preparePostgres(port: number, database = FERRETDB_PG_DATABASE): Promise<boolean> {
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1_000 });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(database)} SET plan_cache_mode = force_custom_plan`);
  } finally {
    await admin.end();
  }
  const db = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database, connectionTimeoutMillis: 1_000 });
  await db.connect();
  try {
    await db.query(readFileSync(INDEXES_SQL, 'utf8'));
  } finally {
    await db.end();
  }
  return true;
}

export interface RedisOptions {
  port: number;
  /** Its working folder; nothing is persisted there (no RDB snapshots, no AOF). */
  dataDir: string;
  binary?: string;
}

/** Redis, the live-price bus: a child process on its own port, never the system service. */
export function redisServer(o: RedisOptions): ProcessSpec {
  const dir = resolve(o.dataDir);
  return {
    name: 'redis',
    command: o.binary ?? redisServerBinary(),
    // Prices on the bus are transient (MongoDB is the record), so no persistence at all.
    args: ['--port', String(o.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    ready: { kind: 'probe', describe: `PING at 127.0.0.1:${o.port}`, check: () => redisPing('127.0.0.1', o.port) },
    urls: { Redis: `redis://127.0.0.1:${o.port}` },
    prepare: () => mkdir(dir, { recursive: true }).then(() => undefined),
  };
}

/** True when a Redis answers PING with +PONG (not -LOADING or an auth error): it serves commands. */
export function redisPing(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** A TypeScript entrypoint of ours, run by tsx. */
function nodeProcess(name: string, entry: string, env: Record<string, string>, ready: ProcessSpec['ready'], args: string[] = []): ProcessSpec {
  return { name, command: process.execPath, args: ['--import', 'tsx', entry, ...args], env, ready, readyTimeoutMs: 120_000 };
}

export function marketSim(port: number): ProcessSpec {
  return {
    ...nodeProcess('market-sim', 'sandbox/market-sim/main.ts', {}, { kind: 'http', url: `http://127.0.0.1:${port}/live` }, ['--port', String(port), '--log-level', 'warn']),
    urls: { 'Hermes + CoinGecko simulator': `http://127.0.0.1:${port}`, control: `http://127.0.0.1:${port}/control/state` },
  };
}

export function gateway(port: number, env: Record<string, string>): ProcessSpec {
  return {
    ...nodeProcess('gateway', 'server/main.ts', env, { kind: 'http', url: `http://127.0.0.1:${port}/api/live` }),
    urls: { REST: `http://127.0.0.1:${port}/api/prices`, metrics: `http://127.0.0.1:${port}/metrics` },
  };
}

/** A Temporal worker; ready once its /metrics port answers (it opens after the worker is created). */
export function worker(name: string, entry: string, metricsPort: number, env: Record<string, string>): ProcessSpec {
  return {
    ...nodeProcess(name, entry, { ...env, QD_METRICS_PORT: String(metricsPort) }, { kind: 'tcp', host: '127.0.0.1', port: metricsPort }),
    urls: { metrics: `http://127.0.0.1:${metricsPort}/metrics` },
  };
}

/**
 * The embedded chain: surfpool with our program deployed through the loader, markets, Pyth accounts
 * fed from `hermesUrl`, demo traders (sandbox/chain/main.ts). Ready once the program's config
 * account exists, i.e. the bootstrap is done, not merely once the RPC answers.
 */
export function embeddedChain(port: number, dataDir: string, hermesUrl: string, marketsFile: string): ProcessSpec {
  const rpcUrl = `http://127.0.0.1:${port}`;
  const config = configAddress(embeddedProgramId()).toBase58();
  return {
    ...nodeProcess(
      'chain',
      'sandbox/chain/main.ts',
      {},
      {
        kind: 'probe',
        describe: `${rpcUrl} with the QuantDesk config account ${config}`,
        check: async () => (await rpcCall<{ value: unknown }>(rpcUrl, 'getAccountInfo', [config, { encoding: 'base64', commitment: 'confirmed' }], 2_000)).value != null,
      },
      ['--port', String(port), '--data-dir', dataDir, '--hermes-url', hermesUrl, '--markets', marketsFile, '--log-level', 'warn'],
    ),
    urls: { 'Solana JSON-RPC': rpcUrl, PubSub: `ws://127.0.0.1:${port + 1}` },
  };
}

/**
 * The dashboard (SvelteKit on adapter-node): rebuilt before it starts when its sources changed
 * (web/build.mjs keeps a stamp), then served on `port`; it reads the gateway at `gatewayUrl`.
 */
export function web(port: number, gatewayUrl: string): ProcessSpec {
  return {
    name: 'web',
    command: process.execPath,
    args: [WEB_ENTRY as string],
    // ORIGIN: adapter-node's own origin, which its CSRF check compares form posts against.
    env: { PORT: String(port), HOST: '127.0.0.1', ORIGIN: `http://127.0.0.1:${port}`, QD_GATEWAY_URL: gatewayUrl },
    ready: { kind: 'http', url: `http://127.0.0.1:${port}/` },
    readyTimeoutMs: 180_000,
    urls: { dashboard: `http://127.0.0.1:${port}` },
    prepare: async () => {
      await ensureWebBuilt();
    },
  };
}
