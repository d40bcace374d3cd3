import { z } from 'zod';

/**
 * The one place that reads `process.env`. Every variable carries the `QD_` prefix; every one has an
 * embedded default, so `npm start` needs none, and pointing at real endpoints (Pyth Hermes, CoinGecko,
 * a Solana RPC, MongoDB Atlas, Temporal Cloud) is only a matter of setting them.
 * A wrong value stops the process at start with a message naming the variable.
 */

const url = (protocols: readonly string[]) =>
  z
    .string()
    .url()
    .refine((u) => protocols.includes(new URL(u).protocol), {
      message: `must be a ${protocols.join(' or ')} URL`,
    });
const httpUrl = url(['http:', 'https:']);
const port = z.coerce.number().int().min(1).max(65_535);
const optionalSecret = z.string().min(1).optional();
const base58Key = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'must be a base58 public key');
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Variable name → schema. The names here are the documented interface (README "Configuration"). */
export const envSchema = z.object({
  QD_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  QD_DATA_DIR: z.string().min(1).default('.data'),
  QD_MARKETS_FILE: z.string().min(1).default('config/markets.json'),

  QD_TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port')
    .default('127.0.0.1:7233'),
  QD_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  QD_TEMPORAL_API_KEY: optionalSecret,
  QD_TEMPORAL_TLS: flag.optional(),
  QD_TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  QD_TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  QD_TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** PEM root CA the server's certificate must chain to (a self-hosted cluster's private CA); the system's roots otherwise. */
  QD_TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  QD_TEMPORAL_UI_URL: httpUrl.default('http://localhost:8233'),

  QD_MONGODB_URI: url(['mongodb:', 'mongodb+srv:']).default('mongodb://127.0.0.1:27017/quantdesk'),
  /** The live-price bus (a password, if any, goes in the URL: redis://:secret@host:6379). */
  QD_REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /** Prefix of the bus's channels and keys: deployments sharing one Redis each take their own. */
  QD_BUS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'letters, digits, _ . - (at most 40)').default('qd'),

  QD_HERMES_URL: httpUrl.default('http://127.0.0.1:4010'),
  QD_HERMES_API_KEY: optionalSecret,
  QD_COINGECKO_URL: httpUrl.default('http://127.0.0.1:4010'),
  QD_COINGECKO_API_KEY: optionalSecret,
  QD_COINGECKO_KEY_HEADER: z.enum(['x-cg-pro-api-key', 'x-cg-demo-api-key']).default('x-cg-pro-api-key'),

  QD_SOLANA_RPC_URL: httpUrl.default('http://127.0.0.1:8899'),
  QD_SOLANA_WS_URL: url(['ws:', 'wss:']).optional(),
  QD_SOLANA_COMMITMENT: z.enum(['processed', 'confirmed', 'finalized']).default('confirmed'),
  /** The RPC is a localnet of ours (its faucet, its keypairs under QD_DATA_DIR): by default only the embedded one. */
  QD_SOLANA_LOCALNET: flag.optional(),
  /** Our program's id on the configured cluster (the localnet deploys it at the IDL's address). */
  QD_PROGRAM_ID: base58Key.optional(),
  /** Keypair file (solana-keygen JSON) of the oracle authority that signs update_oracle_price. */
  QD_ORACLE_AUTHORITY_KEYPAIR: z.string().min(1).optional(),
  /** Compute-unit price of push transactions, micro-lamports (priority fee). */
  QD_PRIORITY_FEE_MICROLAMPORTS: z.coerce.number().int().min(0).max(10_000_000).default(0),
  QD_SYNC_MAX_MARKETS_PER_TX: z.coerce.number().int().min(1).max(16).default(8),

  /** A keeper's identity: the keypair file (solana-keygen JSON, readable by its owner only) that signs `liquidate`. */
  QD_KEEPER_KEYPAIR: z.string().min(1).optional(),
  /** Where the keeper's fees go (a token account of the collateral mint); its associated token account by default. */
  QD_KEEPER_PAYOUT_ACCOUNT: base58Key.optional(),
  /** Stake a keeper registers with on first start, quote units (10⁻⁶); the program's minimum by default. */
  QD_KEEPER_STAKE: z.coerce.bigint().positive().optional(),
  /** Liquidation steps one keeper worker runs at once. */
  QD_KEEPER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** A trader is warned when their margin ratio comes within this much of maintenance, basis points. */
  QD_MARGIN_WARNING_BPS: z.coerce.number().int().min(1).max(5_000).default(250),

  QD_GATEWAY_PORT: port.default(3002),
  QD_GATEWAY_URL: httpUrl.default('http://127.0.0.1:3002'),
  QD_WEB_PORT: port.default(3001),
  /** Origins whose pages may call the gateway (CORS, Socket.IO): the dashboard's own by default. Comma-separated. */
  QD_CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin looks like https://host[:port], without a path')).min(1))
    .optional(),
  /** REST requests one client address may make per minute (429 beyond). */
  QD_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(1).max(1_000_000).default(600),
  /** Client addresses the rate limit leaves alone: the dashboard's server, on this machine by default. Comma-separated. */
  QD_RATE_LIMIT_EXEMPT: z
    .string()
    .default('127.0.0.1,::1,::ffff:127.0.0.1')
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean)),
  /** The gateway sits behind a proxy or load balancer that sets X-Forwarded-For (the client address is taken from it). */
  QD_TRUST_PROXY: flag.default(false),
  /** Prometheus /metrics port of a worker process (the gateway serves /metrics on its own port). */
  QD_METRICS_PORT: port.optional(),

  QD_INGEST_SILENCE_MS: z.coerce.number().int().min(500).max(600_000).default(3_000),
  QD_COINGECKO_POLL_MS: z.coerce.number().int().min(200).max(600_000).default(1_000),
  QD_COINGECKO_CROSSCHECK_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(10_000),
  /** A Pyth history gap (stream restart) longer than this is skipped, not fetched back from Hermes. */
  QD_BACKFILL_MAX_GAP_SEC: z.coerce.number().int().min(0).max(86_400).default(600),
  /** Requests per second the gap backfill may make to Hermes, for the whole ingest process. */
  QD_BACKFILL_REQUESTS_PER_SEC: z.coerce.number().positive().max(1_000).default(2),
  QD_HISTORY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  QD_REJECTION_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(7),
});

export type Env = z.input<typeof envSchema>;
type Parsed = z.output<typeof envSchema>;

/** Endpoints whose default is a service `npm start` runs itself; any other value is an external one. */
const EMBEDDED_ENDPOINTS = {
  temporal: 'QD_TEMPORAL_ADDRESS',
  mongodb: 'QD_MONGODB_URI',
  redis: 'QD_REDIS_URL',
  hermes: 'QD_HERMES_URL',
  coingecko: 'QD_COINGECKO_URL',
  solana: 'QD_SOLANA_RPC_URL',
} as const satisfies Record<string, keyof Parsed>;
export type EmbeddedService = keyof typeof EMBEDDED_ENDPOINTS;

/** The typed configuration every process reads, derived from the variables (its type is the schema's). */
function toConfig(e: Parsed, ctx: z.RefinementCtx) {
  if ((e.QD_TEMPORAL_TLS_CERT_FILE === undefined) !== (e.QD_TEMPORAL_TLS_KEY_FILE === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['QD_TEMPORAL_TLS_CERT_FILE'], message: 'QD_TEMPORAL_TLS_CERT_FILE and QD_TEMPORAL_TLS_KEY_FILE go together' });
  }
  const wantsTls = Boolean(e.QD_TEMPORAL_API_KEY || e.QD_TEMPORAL_TLS_CERT_FILE || e.QD_TEMPORAL_TLS_CA_FILE);
  if (e.QD_TEMPORAL_TLS === false && wantsTls) {
    ctx.addIssue({ code: 'custom', path: ['QD_TEMPORAL_TLS'], message: 'QD_TEMPORAL_TLS=false contradicts an API key, client certificate or CA file, which need TLS' });
  }
  const tls =
    e.QD_TEMPORAL_TLS || wantsTls
      ? {
          ...(e.QD_TEMPORAL_TLS_CERT_FILE && { certFile: e.QD_TEMPORAL_TLS_CERT_FILE }),
          ...(e.QD_TEMPORAL_TLS_KEY_FILE && { keyFile: e.QD_TEMPORAL_TLS_KEY_FILE }),
          ...(e.QD_TEMPORAL_TLS_SERVER_NAME && { serverName: e.QD_TEMPORAL_TLS_SERVER_NAME }),
          ...(e.QD_TEMPORAL_TLS_CA_FILE && { caFile: e.QD_TEMPORAL_TLS_CA_FILE }),
        }
      : undefined;
  const defaults = envSchema.parse({});
  const embedded = Object.fromEntries(
    Object.entries(EMBEDDED_ENDPOINTS).map(([service, name]) => [service, e[name] === defaults[name]]),
  ) as Record<EmbeddedService, boolean>;
  return {
    logLevel: e.QD_LOG_LEVEL,
    dataDir: e.QD_DATA_DIR,
    marketsFile: e.QD_MARKETS_FILE,
    /** Which endpoints are the embedded defaults (npm start runs those services itself). */
    embedded,
    temporal: {
      address: e.QD_TEMPORAL_ADDRESS,
      namespace: e.QD_TEMPORAL_NAMESPACE,
      ...(e.QD_TEMPORAL_API_KEY && { apiKey: e.QD_TEMPORAL_API_KEY }),
      /** Client certificate (mTLS) or plain TLS, optionally against a CA of its own; an API key or a CA file implies TLS. */
      ...(tls && { tls }),
      uiUrl: e.QD_TEMPORAL_UI_URL,
    },
    mongodbUri: e.QD_MONGODB_URI,
    redisUrl: e.QD_REDIS_URL,
    busPrefix: e.QD_BUS_PREFIX,
    hermes: { url: e.QD_HERMES_URL, ...(e.QD_HERMES_API_KEY && { apiKey: e.QD_HERMES_API_KEY }) },
    coingecko: {
      url: e.QD_COINGECKO_URL,
      ...(e.QD_COINGECKO_API_KEY && { apiKey: e.QD_COINGECKO_API_KEY }),
      keyHeader: e.QD_COINGECKO_KEY_HEADER,
    },
    solana: {
      rpcUrl: e.QD_SOLANA_RPC_URL,
      ...(e.QD_SOLANA_WS_URL && { wsUrl: e.QD_SOLANA_WS_URL }),
      commitment: e.QD_SOLANA_COMMITMENT,
      localnet: e.QD_SOLANA_LOCALNET ?? embedded.solana,
      /** Absent: the IDL's address. */
      ...(e.QD_PROGRAM_ID && { programId: e.QD_PROGRAM_ID }),
      // The localnet writes its keypairs under the data folder.
      oracleAuthorityKeypair: e.QD_ORACLE_AUTHORITY_KEYPAIR ?? `${e.QD_DATA_DIR}/localnet/keys/oracle-authority.json`,
      priorityFeeMicroLamports: e.QD_PRIORITY_FEE_MICROLAMPORTS,
    },
    sync: { maxMarketsPerTx: e.QD_SYNC_MAX_MARKETS_PER_TX },
    keeper: {
      // The localnet writes its demo keepers' keypairs under the data folder.
      keypair: e.QD_KEEPER_KEYPAIR ?? `${e.QD_DATA_DIR}/localnet/keys/keeper-1.json`,
      ...(e.QD_KEEPER_PAYOUT_ACCOUNT && { payoutAccount: e.QD_KEEPER_PAYOUT_ACCOUNT }),
      ...(e.QD_KEEPER_STAKE !== undefined && { stake: e.QD_KEEPER_STAKE }),
      concurrency: e.QD_KEEPER_CONCURRENCY,
      marginWarningBps: e.QD_MARGIN_WARNING_BPS,
    },
    gateway: {
      port: e.QD_GATEWAY_PORT,
      url: e.QD_GATEWAY_URL,
      corsOrigins: e.QD_CORS_ORIGINS ?? [`http://127.0.0.1:${e.QD_WEB_PORT}`, `http://localhost:${e.QD_WEB_PORT}`],
      rateLimit: { perMinute: e.QD_RATE_LIMIT_PER_MIN, exempt: e.QD_RATE_LIMIT_EXEMPT },
      trustProxy: e.QD_TRUST_PROXY,
    },
    web: { port: e.QD_WEB_PORT },
    ...(e.QD_METRICS_PORT && { metricsPort: e.QD_METRICS_PORT }),
    ingest: {
      silenceMs: e.QD_INGEST_SILENCE_MS,
      pollPrimaryMs: e.QD_COINGECKO_POLL_MS,
      pollCrosscheckMs: e.QD_COINGECKO_CROSSCHECK_MS,
      backfillMaxGapSec: e.QD_BACKFILL_MAX_GAP_SEC,
      backfillRequestsPerSec: e.QD_BACKFILL_REQUESTS_PER_SEC,
      historyRetentionDays: e.QD_HISTORY_RETENTION_DAYS,
      rejectionRetentionDays: e.QD_REJECTION_RETENTION_DAYS,
    },
  };
}

const configSchema = envSchema.transform(toConfig);

type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
export type Config = DeepReadonly<z.output<typeof configSchema>>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parses an environment (process.env by default). Unknown QD_ variables are refused: a typo is an error. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = new Set(Object.keys(envSchema.shape));
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    if (name.startsWith('QD_') && !known.has(name) && !name.startsWith('QD_TEST_') && name !== 'QD_CACHE_DIR') {
      problems.push(`${name}: unknown variable (known: see README "Configuration")`);
    }
  }
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => known.has(k) && v !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '(environment)');
      const shown = env[name] === undefined ? '' : ` (got ${JSON.stringify(redact(name, env[name]!))})`;
      problems.push(issue.message.startsWith('QD_') ? issue.message : `${name}: ${issue.message}${shown}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return deepFreeze(parsed.data);
}

function redact(name: string, value: string): string {
  return /KEY|TOKEN|SECRET|PASSWORD/.test(name) ? '<redacted>' : value.replace(/\/\/[^@/]*@/, '//<redacted>@');
}

/**
 * Entry points call this once: it prints the problems and exits instead of throwing a stack trace.
 */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
}
