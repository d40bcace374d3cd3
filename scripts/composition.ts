import { join } from 'node:path';
import type { Config } from '../runtime/config.ts';
import { embeddedChain, ferretDb, gateway, marketSim, postgres, postgresUrl, redisServer, temporalDevServer, web, worker } from './services.ts';
import { embeddedProgramId } from '../sandbox/chain/program-keys.ts';
import type { ProcessSpec } from './supervisor.ts';

/**
 * What `npm start` runs, as a plain function of the configuration: each embedded service only when
 * its endpoint is the embedded default (`config.embedded`), our own processes always. No process is
 * spawned and nothing is read here, so which services a configuration starts is unit-testable.
 */

export interface CompositionOptions {
  /** The workers' /metrics ports (their readiness checks). */
  metricsPorts?: { ingest: number; sync: number; keeper: number };
  /** Paths of the installed tools; each is resolved from the tool cache when absent. */
  binaries?: { temporal?: string; ferretdb?: string; redis?: string; postgresBin?: string };
  /** The embedded MongoDB's PostgreSQL port (EMBEDDED_POSTGRES_PORT by default; the soak moves it). */
  postgresPort?: number;
}

export interface Composition {
  /** In start order: a process starts once the ones before it are ready. */
  specs: ProcessSpec[];
  /** What to print once everything is up: each service embedded or external, and where. */
  banner: string[];
}

export const DEFAULT_METRICS_PORTS = { ingest: 9464, sync: 9465, keeper: 9466 } as const;
/** The embedded MongoDB's own PostgreSQL (not a configured endpoint: only FerretDB talks to it). */
export const EMBEDDED_POSTGRES_PORT = 27432;
const DEFAULT_TEMPORAL_UI = 'http://localhost:8233';

export function composeSystem(config: Config, o: CompositionOptions = {}): Composition {
  const { embedded } = config;
  const specs: ProcessSpec[] = [];
  const rows: [label: string, text: string][] = [];
  const row = (service: string, isEmbedded: boolean, where: string) => rows.push([service, `${isEmbedded ? 'embedded' : 'external'}  ${where}`]);

  const temporal = config.temporal;
  if (embedded.temporal) {
    const uiPort = Number(new URL(temporal.uiUrl).port || 8233);
    specs.push(
      temporalDevServer({
        port: portOf(temporal.address),
        uiPort,
        namespace: temporal.namespace,
        dbFile: join(config.dataDir, 'temporal', 'temporal.db'),
        binary: o.binaries?.temporal,
      }),
    );
    row('Temporal', true, `gRPC ${temporal.address} (namespace ${temporal.namespace}), Web UI ${temporal.uiUrl}`);
  } else {
    const ui = temporal.uiUrl === DEFAULT_TEMPORAL_UI ? '' : `, Web UI ${redactUrl(temporal.uiUrl)}`;
    row('Temporal', false, `gRPC ${temporal.address} (namespace ${temporal.namespace}${temporal.tls || temporal.apiKey ? ', TLS' : ''})${ui}`);
  }

  if (embedded.mongodb) {
    const pgPort = o.postgresPort ?? EMBEDDED_POSTGRES_PORT;
    specs.push(
      postgres({ port: pgPort, dataDir: join(config.dataDir, 'postgres'), ...(o.binaries?.postgresBin && { binDir: o.binaries.postgresBin }) }),
      ferretDb({ port: Number(new URL(config.mongodbUri).port || 27017), stateDir: join(config.dataDir, 'ferretdb'), postgresUrl: postgresUrl(pgPort), binary: o.binaries?.ferretdb }),
    );
    row('MongoDB', true, `${config.mongodbUri} (FerretDB on PostgreSQL 127.0.0.1:${pgPort})`);
  } else {
    row('MongoDB', false, redactUrl(config.mongodbUri));
  }

  if (embedded.redis) {
    specs.push(redisServer({ port: Number(new URL(config.redisUrl).port || 6379), dataDir: join(config.dataDir, 'redis'), binary: o.binaries?.redis }));
    row('Redis', true, config.redisUrl);
  } else {
    row('Redis', false, redactUrl(config.redisUrl));
  }

  // One simulator serves both the Hermes and the CoinGecko API (their defaults are the same URL).
  if (embedded.hermes || embedded.coingecko) {
    const simUrl = embedded.hermes ? config.hermes.url : config.coingecko.url;
    specs.push(marketSim(Number(new URL(simUrl).port || 4010)));
  }
  const simulated = (url: string) => `${url} (market-sim; control ${url}/control/state)`;
  row('Hermes', embedded.hermes, embedded.hermes ? simulated(config.hermes.url) : `${redactUrl(config.hermes.url)}${config.hermes.apiKey ? ' (API key set)' : ''}`);
  row('CoinGecko', embedded.coingecko, embedded.coingecko ? simulated(config.coingecko.url) : `${redactUrl(config.coingecko.url)}${config.coingecko.apiKey ? ' (API key set)' : ''}`);

  // Our processes' environment: on the embedded chain the program lives at the embedded program id.
  const ours: Record<string, string> = {};
  if (embedded.solana) {
    const programId = config.solana.programId ?? embeddedProgramId().toBase58();
    if (!config.solana.programId) ours.QD_PROGRAM_ID = programId;
    // The chain feeds its Pyth accounts from the Hermes the ingest worker reads.
    specs.push(embeddedChain(Number(new URL(config.solana.rpcUrl).port || 8899), join(config.dataDir, 'localnet'), config.hermes.url, config.marketsFile));
    row('Solana RPC', true, `${config.solana.rpcUrl} (surfpool, program ${programId})`);
  } else {
    const program = `program ${config.solana.programId ?? 'at its IDL address'}`;
    row('Solana RPC', false, `${redactUrl(config.solana.rpcUrl)} (${program})`);
  }

  // Our own processes: always, and after the services, which they expect (they retry when one restarts).
  const metrics = o.metricsPorts ?? DEFAULT_METRICS_PORTS;
  specs.push(
    gateway(config.gateway.port, ours),
    worker('ingest', 'workers/ingest/main.ts', metrics.ingest, ours),
    worker('sync', 'workers/sync/main.ts', metrics.sync, ours),
    worker('keeper', 'workers/keeper/main.ts', metrics.keeper, ours),
    web(config.web.port, config.gateway.url),
  );

  rows.push(
    ['Dashboard', `http://127.0.0.1:${config.web.port}`],
    ['Prices (REST)', `${config.gateway.url}/api/prices`],
    ['Socket.IO', `${config.gateway.url} (events: prices, status, margin-warning, liquidation)`],
    ['processes', specs.map((s) => s.name).join(', ')],
  );
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const banner = ['QuantDesk is up:', ...rows.map(([label, text]) => `  ${label.padEnd(width)}${text}`), 'Ctrl-C stops everything.'];
  return { specs, banner };
}

function portOf(hostPort: string): number {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
}

/** A URL fit to print: the password (or a bare user-info token) and secret-looking query values hidden. */
export function redactUrl(raw: string): string {
  return raw
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_, scheme: string, info: string) => {
      const colon = info.indexOf(':');
      return `${scheme}${colon >= 0 ? `${info.slice(0, colon)}:<redacted>` : '<redacted>'}@`;
    })
    .replace(/([?&][^=&#]*(?:key|token|secret|password|auth|sig)[^=&#]*=)[^&#]*/gi, '$1<redacted>');
}
