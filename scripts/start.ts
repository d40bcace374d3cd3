// `npm start`: the whole system on its embedded defaults. A process that dies is restarted; Ctrl-C stops everything.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadConfigOrExit } from '../runtime/config.ts';
import { ferretDb, gateway, localnet, marketSim, temporalDevServer, worker } from './services.ts';
import { isStopped, Supervisor, type ProcessSpec } from './supervisor.ts';

const config = loadConfigOrExit();
const [temporalHost, temporalPort] = config.temporal.address.split(':') as [string, string];
const mongo = new URL(config.mongodbUri);

if (!['127.0.0.1', 'localhost'].includes(temporalHost) || !['127.0.0.1', 'localhost'].includes(mongo.hostname)) {
  // Real endpoints are configured: then only our own processes run here, not the embedded services.
  console.error('npm start runs the embedded services; with QD_TEMPORAL_ADDRESS or QD_MONGODB_URI pointing elsewhere, start the workers and gateway on their own');
}

// The workers authenticate to the gateway with a token; one made up per run unless configured.
const internalToken = config.gateway.internalToken ?? randomBytes(24).toString('hex');
const simPort = Number(new URL(config.hermes.url).port || 4010);
const shared = { QD_INTERNAL_TOKEN: internalToken };

const specs: ProcessSpec[] = [
  temporalDevServer({
    port: Number(temporalPort),
    uiPort: Number(new URL(config.temporal.uiUrl).port || 8233),
    namespace: config.temporal.namespace,
    dbFile: join(config.dataDir, 'temporal', 'temporal.db'),
  }),
  ferretDb({ port: Number(mongo.port || 27017), dataDir: join(config.dataDir, 'ferretdb') }),
  marketSim(simPort),
  localnet(Number(new URL(config.solana.rpcUrl).port || 8899), join(config.dataDir, 'localnet'), config.hermes.url, config.marketsFile),
  gateway(config.gateway.port, shared),
  worker('ingest', 'workers/ingest/main.ts', 9464, shared),
  worker('sync', 'workers/sync/main.ts', 9465, shared),
];

const supervisor = new Supervisor(specs.map((s) => s.name));
let stopping: Promise<void> | undefined;

/** Stops everything once, newest first, then exits with `code`. */
function stop(reason: string, code: number): Promise<void> {
  if (!stopping) {
    supervisor.log(`stopping everything: ${reason}`);
    stopping = supervisor.stopAll().then(() => process.exit(code));
  }
  return stopping;
}

/**
 * A second signal while stopping (an impatient Ctrl-C, or npm passing the signal on as well) kills
 * what is left at once — never exits leaving processes behind.
 */
function onSignal(reason: string): void {
  if (stopping) {
    supervisor.log(`${reason} again: killing what is left`);
    supervisor.killAll();
    return;
  }
  void stop(reason, 0);
}
process.on('SIGINT', () => onSignal('interrupted'));
process.on('SIGTERM', () => onSignal('terminated'));
// A crash loop: the supervisor gave up on a process, so the system cannot run.
void supervisor.failed.then((reason) => stop(reason, 1));

try {
  for (const spec of specs) await supervisor.start(spec);
} catch (e) {
  if (!isStopped(e)) void stop((e as Error).message, 1);
  await stopping;
}
supervisor.log('QuantDesk is up:');
supervisor.log(`  Temporal Web UI  ${config.temporal.uiUrl}`);
supervisor.log(`  Temporal gRPC    ${config.temporal.address} (namespace ${config.temporal.namespace})`);
supervisor.log(`  MongoDB          ${config.mongodbUri}`);
supervisor.log(`  Prices (REST)    ${config.gateway.url}/api/prices`);
supervisor.log(`  Socket.IO        ${config.gateway.url} (events: prices, status)`);
supervisor.log(`  Simulator        ${config.hermes.url}/control/state`);
supervisor.log(`  Solana RPC       ${config.solana.rpcUrl} (localnet, program ${config.solana.programId ?? 'at its IDL address'})`);
supervisor.log('Ctrl-C stops everything.');
