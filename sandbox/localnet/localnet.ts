// Composition root of the localnet: keypairs, the Ledger (LiteSVM), bootstrap, JSON-RPC over HTTP and
// the WebSocket PubSub.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { LiteSVM } from 'litesvm';
import { LAMPORTS_PER_SOL } from '@solana/web3.js';
import { KeyStore } from './keystore.ts';
import { Ledger } from './ledger.ts';
import { createRpcMethods } from './rpc-methods.ts';
import { DEFAULT_MAX_REQUEST_BYTES, startRpcHttp } from './rpc-http.ts';
import { PubSub, startPubSubServer } from './pubsub.ts';
import {
  createBootstrapContext,
  defaultBootstrapSteps,
  type BootstrapStep,
  type LocalnetManifest,
} from './bootstrap.ts';

export interface LocalnetOptions {
  host?: string;
  /** JSON-RPC port; 0 picks a free one. Default 8899. */
  httpPort?: number;
  /** PubSub port; default httpPort + 1 (where web3.js looks), or a free one when httpPort is 0. */
  wsPort?: number;
  /** Slot duration in ms (a validator targets 400); 0 freezes slots, which then move only with `warp`. */
  slotMs?: number;
  /** Keypairs and manifest.json live here. Default `.data/localnet` under the working directory. */
  dataDir?: string;
  /** Boot steps, run in order before the ports open. Default: `defaultBootstrapSteps()`. */
  bootstrap?: BootstrapStep[];
  logger?: Logger;
  maxRequestBytes?: number;
  /** Largest single requestAirdrop, in lamports; null for no cap. Default 1,000 SOL. */
  airdropCapLamports?: bigint | null;
  faucetLamports?: bigint;
  /** Landed transactions kept for getTransaction / getSignatureStatuses. Default 100,000. */
  historyCapacity?: number;
}

export interface Localnet {
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly httpPort: number;
  readonly wsPort: number;
  readonly dataDir: string;
  readonly svm: LiteSVM;
  readonly ledger: Ledger;
  readonly keys: KeyStore;
  readonly manifest: LocalnetManifest;
  /** Produces `slots` slots at once (blockhash expiry in tests). */
  warp(slots: number): void;
  stop(): Promise<void>;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
}

export async function startLocalnet(options: LocalnetOptions = {}): Promise<Localnet> {
  const host = options.host ?? '127.0.0.1';
  const httpPort = options.httpPort ?? 8899;
  const wsPort = options.wsPort ?? (httpPort === 0 ? 0 : httpPort + 1);
  const slotMs = options.slotMs ?? 400;
  const dataDir = resolve(options.dataDir ?? join('.data', 'localnet'));
  const logger = options.logger ?? pino({ name: 'localnet' });
  const log = logger.child({ module: 'localnet' });

  mkdirSync(dataDir, { recursive: true });
  const keys = new KeyStore(join(dataDir, 'keys'));
  const ledger = new Ledger({
    slotMs,
    logger: logger.child({ module: 'localnet.ledger' }),
    faucet: keys.loadOrCreate('faucet'),
    faucetLamports: options.faucetLamports ?? 500_000_000n * BigInt(LAMPORTS_PER_SOL),
    historyCapacity: options.historyCapacity ?? 100_000,
  });
  const identity = keys.loadOrCreate('validator-identity').publicKey.toBase58();
  const manifest: LocalnetManifest = {
    rpcUrl: '',
    wsUrl: '',
    genesisHash: ledger.genesisHash,
    faucet: ledger.faucet.publicKey.toBase58(),
    programs: {},
    mints: {},
    traders: [],
    accounts: {},
  };
  ledger.start();

  const cleanup: (() => Promise<void>)[] = [async () => ledger.stop()];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const step of cleanup.reverse()) await step();
  };
  try {
    const ctx = createBootstrapContext({
      ledger,
      keys,
      manifest,
      log: logger.child({ module: 'localnet.bootstrap' }),
      onStop: (step) => {
        cleanup.push(async () => step());
      },
    });
    for (const step of options.bootstrap ?? defaultBootstrapSteps()) {
      const started = performance.now();
      await step.run(ctx);
      log.info({ step: step.name, ms: Math.round(performance.now() - started) }, 'bootstrap.step_done');
    }

    const methods = createRpcMethods({
      ledger,
      log: logger.child({ module: 'localnet.rpc' }),
      identity,
      airdropCapLamports: options.airdropCapLamports === undefined ? 1_000n * BigInt(LAMPORTS_PER_SOL) : options.airdropCapLamports,
    });
    const pubsub = new PubSub(ledger, logger.child({ module: 'localnet.pubsub' }));
    const http = await startRpcHttp({
      host,
      port: httpPort,
      maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
      methods,
      log: logger.child({ module: 'localnet.rpc' }),
    });
    cleanup.push(() => closeServer(http.server));
    // PubSub is also served on the RPC port, for clients that connect there.
    http.server.on('upgrade', (req, socket, head) => pubsub.handleUpgrade(req, socket, head));
    const ws = await startPubSubServer(pubsub, host, wsPort);
    cleanup.push(() => closeServer(ws.server));
    // Runs first on stop: upgraded sockets keep an HTTP server's close() waiting until they end.
    cleanup.push(() => pubsub.close());

    manifest.rpcUrl = `http://${host}:${http.port}`;
    manifest.wsUrl = `ws://${host}:${ws.port}`;
    writeFileSync(join(dataDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    log.info({ rpcUrl: manifest.rpcUrl, wsUrl: manifest.wsUrl, slotMs, dataDir, genesisHash: ledger.genesisHash }, 'localnet.started');

    return {
      rpcUrl: manifest.rpcUrl,
      wsUrl: manifest.wsUrl,
      httpPort: http.port,
      wsPort: ws.port,
      dataDir,
      svm: ledger.svm,
      ledger,
      keys,
      manifest,
      warp: (slots) => ledger.warp(slots),
      async stop() {
        await stop();
        log.info({}, 'localnet.stopped');
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
