// The embedded chain on surfpool: the network started, then the bootstrap steps run against it over
// RPC, then `<dataDir>/manifest.json` written for the other processes. Keypairs live in
// `<dataDir>/keys/` and are reused, so every address (program id included) is stable across restarts,
// while the chain itself starts from genesis each time, like a test validator.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { Connection } from '@solana/web3.js';
import { defaultBootstrapSteps, type BootstrapStep, type LocalnetManifest } from './bootstrap.ts';
import { KeyStore } from './keystore.ts';
import { createRpcBootstrapContext } from './rpc-bootstrap.ts';
import { startSurfnet, type Surfnet, type SurfnetOptions } from './surfnet.ts';

export interface EmbeddedChainOptions extends Omit<SurfnetOptions, 'onLog'> {
  dataDir?: string;
  bootstrap?: BootstrapStep[];
  logger?: Logger;
}

export interface EmbeddedChain {
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly dataDir: string;
  readonly keys: KeyStore;
  readonly manifest: LocalnetManifest;
  readonly connection: Connection;
  readonly surfnet: Surfnet;
  stop(): Promise<void>;
}

export async function startEmbeddedChain(o: EmbeddedChainOptions = {}): Promise<EmbeddedChain> {
  const dataDir = resolve(o.dataDir ?? join('.data', 'localnet'));
  const logger = o.logger ?? pino({ name: 'chain' });
  const log = logger.child({ module: 'chain' });
  mkdirSync(dataDir, { recursive: true });
  const keys = new KeyStore(join(dataDir, 'keys'));
  const surfnet = await startSurfnet({ ...o, onLog: (line) => log.warn({ surfpool: line }, 'surfpool.log') });
  const cleanup: (() => void | Promise<void>)[] = [() => surfnet.stop()];
  const stop = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };
  try {
    const connection = new Connection(surfnet.rpcUrl, { wsEndpoint: surfnet.wsUrl, commitment: 'confirmed' });
    const manifest: LocalnetManifest = {
      rpcUrl: surfnet.rpcUrl,
      wsUrl: surfnet.wsUrl,
      genesisHash: await connection.getGenesisHash(),
      // Airdrops are surfpool's own (requestAirdrop): no faucet account of ours.
      faucet: '',
      programs: {},
      mints: {},
      traders: [],
      accounts: {},
    };
    const ctx = createRpcBootstrapContext({
      rpcUrl: surfnet.rpcUrl,
      connection,
      keys,
      manifest,
      log: logger.child({ module: 'chain.bootstrap' }),
      onStop: (step) => void cleanup.push(step),
    });
    for (const step of o.bootstrap ?? defaultBootstrapSteps()) {
      const started = performance.now();
      await step.run(ctx);
      log.info({ step: step.name, ms: Math.round(performance.now() - started) }, 'bootstrap.step_done');
    }
    writeFileSync(join(dataDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    log.info({ rpcUrl: surfnet.rpcUrl, wsUrl: surfnet.wsUrl, slotMs: surfnet.slotMs, dataDir }, 'chain.started');
    return { rpcUrl: surfnet.rpcUrl, wsUrl: surfnet.wsUrl, dataDir, keys, manifest, connection, surfnet, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
