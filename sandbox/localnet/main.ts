// CLI: `tsx sandbox/localnet/main.ts [--port 8899] [--ws-port 8900] [--slot-ms 400] [--data-dir .data/localnet]
//        [--traders 3] [--markets config/markets.json] [--hermes-url http://127.0.0.1:4010]
//        [--pyth-receiver <ProgramId>] [--program-id <ProgramId>] [--no-quantdesk]
//        [--program name=path/to/program.so[@ProgramId]] [--log-level info]`
// Boots the QuantDesk chain (quantdesk-bootstrap.ts) unless --no-quantdesk asks for a plain chain
// (mint and traders only).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { PublicKey } from '@solana/web3.js';
import { defaultBootstrapSteps, deployProgramStep, type BootstrapStep } from './bootstrap.ts';
import { startLocalnet } from './localnet.ts';
import { quantdeskBootstrapSteps } from './quantdesk-bootstrap.ts';

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function programId(name: string, value: string): PublicKey {
  try {
    return new PublicKey(value);
  } catch {
    throw new Error(`--${name} must be a base58 public key, got "${value}"`);
  }
}

function httpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`--${name} must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--${name} must be an http(s) URL, got "${value}"`);
  return value;
}

function programStep(spec: string): BootstrapStep {
  const match = /^([a-z0-9_-]+)=([^@]+)(?:@([1-9A-HJ-NP-Za-km-z]{32,44}))?$/.exec(spec);
  if (match === null) throw new Error(`--program expects name=path.so[@ProgramId], got "${spec}"`);
  const [, name = '', soPath = '', id] = match;
  return deployProgramStep(id === undefined ? { name, soPath } : { name, soPath, programId: new PublicKey(id) });
}

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    'ws-port': { type: 'string' },
    'slot-ms': { type: 'string' },
    'data-dir': { type: 'string' },
    traders: { type: 'string' },
    markets: { type: 'string' },
    'hermes-url': { type: 'string' },
    'pyth-receiver': { type: 'string' },
    'program-id': { type: 'string' },
    'no-quantdesk': { type: 'boolean' },
    program: { type: 'string', multiple: true },
    'log-level': { type: 'string' },
  },
  strict: true,
});

const plain = values['no-quantdesk'] === true;
for (const flag of ['markets', 'hermes-url', 'pyth-receiver', 'program-id'] as const) {
  if (plain && values[flag] !== undefined) throw new Error(`--${flag} configures the QuantDesk bootstrap; it cannot go with --no-quantdesk`);
}
const traders = integer('traders', values.traders, 3);
const bootstrap: BootstrapStep[] = [
  ...(values.program ?? []).map(programStep),
  ...(plain
    ? defaultBootstrapSteps({ traders })
    : quantdeskBootstrapSteps({
        traders,
        ...(values.markets !== undefined ? { markets: values.markets } : {}),
        ...(values['hermes-url'] !== undefined ? { hermesUrl: httpUrl('hermes-url', values['hermes-url']) } : {}),
        ...(values['pyth-receiver'] !== undefined ? { pythReceiver: programId('pyth-receiver', values['pyth-receiver']) } : {}),
        ...(values['program-id'] !== undefined ? { programId: programId('program-id', values['program-id']) } : {}),
      })),
];

const logger = pino({ name: 'localnet', level: values['log-level'] ?? 'info' });
const httpPort = integer('port', values.port, 8899);
const localnet = await startLocalnet({
  ...(values.host !== undefined ? { host: values.host } : {}),
  httpPort,
  wsPort: integer('ws-port', values['ws-port'], httpPort === 0 ? 0 : httpPort + 1),
  slotMs: integer('slot-ms', values['slot-ms'], 400),
  ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
  bootstrap,
  logger,
});
logger.info(
  {
    rpcUrl: localnet.rpcUrl,
    wsUrl: localnet.wsUrl,
    manifest: join(localnet.dataDir, 'manifest.json'),
    quantdesk: localnet.manifest.quantdesk?.programId ?? null,
  },
  'localnet.ready',
);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'localnet.shutdown');
  localnet.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'localnet.shutdown_failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
