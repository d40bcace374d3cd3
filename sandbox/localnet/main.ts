// CLI: `tsx sandbox/localnet/main.ts [--port 8899] [--ws-port 8900] [--slot-ms 400] [--data-dir .data/localnet]
//        [--traders 3] [--program name=path/to/program.so[@ProgramId]] [--log-level info]`
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { PublicKey } from '@solana/web3.js';
import { defaultBootstrapSteps, deployProgramStep, type BootstrapStep } from './bootstrap.ts';
import { startLocalnet } from './localnet.ts';

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
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
    program: { type: 'string', multiple: true },
    'log-level': { type: 'string' },
  },
  strict: true,
});

const logger = pino({ name: 'localnet', level: values['log-level'] ?? 'info' });
const httpPort = integer('port', values.port, 8899);
const localnet = await startLocalnet({
  ...(values.host !== undefined ? { host: values.host } : {}),
  httpPort,
  wsPort: integer('ws-port', values['ws-port'], httpPort === 0 ? 0 : httpPort + 1),
  slotMs: integer('slot-ms', values['slot-ms'], 400),
  ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
  bootstrap: [
    ...(values.program ?? []).map(programStep),
    ...defaultBootstrapSteps({ traders: integer('traders', values.traders, 3) }),
  ],
  logger,
});

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
