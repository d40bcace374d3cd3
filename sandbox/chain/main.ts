// CLI: `tsx sandbox/chain/main.ts [--port 8899] [--ws-port 8900] [--slot-ms 400] [--data-dir .data/localnet]
//        [--traders 3] [--markets config/markets.json] [--hermes-url http://127.0.0.1:4010]
//        [--pyth-receiver <ProgramId>] [--log-level info]`
// The embedded chain for `npm start`: surfpool on the ports given, the QuantDesk program deployed at
// the embedded program id (program-keys.ts) and booted over RPC, the Pyth accounts fed from Hermes
// until SIGTERM. Prints `chain.ready` (info) once booted; the manifest is <data-dir>/manifest.json.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { PublicKey } from '@solana/web3.js';
import { quantdeskBootstrapSteps } from './quantdesk-bootstrap.ts';
import { startEmbeddedChain } from './chain.ts';

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`--${name} must be an integer in [0, 65535], got "${value}"`);
  return n;
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
    'log-level': { type: 'string' },
  },
  strict: true,
});

const logger = pino({ name: 'chain', level: values['log-level'] ?? 'info' });
const rpcPort = integer('port', values.port, 8899);
const hermesUrl = values['hermes-url'];
if (hermesUrl !== undefined && !/^https?:\/\//.test(hermesUrl)) throw new Error(`--hermes-url must be an http(s) URL, got "${hermesUrl}"`);
const chain = await startEmbeddedChain({
  ...(values.host !== undefined && { host: values.host }),
  rpcPort,
  wsPort: integer('ws-port', values['ws-port'], rpcPort === 0 ? 0 : rpcPort + 1) || undefined,
  slotMs: integer('slot-ms', values['slot-ms'], 400) || 400,
  dataDir: values['data-dir'] ?? join('.data', 'localnet'),
  logger,
  bootstrap: quantdeskBootstrapSteps({
    traders: integer('traders', values.traders, 3),
    ...(values.markets !== undefined && { markets: values.markets }),
    ...(hermesUrl !== undefined && { hermesUrl }),
    ...(values['pyth-receiver'] !== undefined && { pythReceiver: new PublicKey(values['pyth-receiver']) }),
  }),
});
logger.info({ rpcUrl: chain.rpcUrl, wsUrl: chain.wsUrl, manifest: join(chain.dataDir, 'manifest.json'), quantdesk: chain.manifest.quantdesk?.programId ?? null }, 'chain.ready');

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'chain.shutdown');
  chain.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'chain.shutdown_failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
// If surfpool itself dies, so does this process: the supervisor restarts both, from genesis.
chain.surfnet.child.once('exit', (code) => {
  if (!stopping) {
    logger.error({ code }, 'chain.surfpool_exited');
    process.exit(1);
  }
});
