import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bs58 from 'bs58';
import { chromium, type Browser } from 'playwright-core';
import { indexMarkets, marketRegistrySchema, type MarketRegistry } from '../domain/markets.ts';
import { createLogger } from '../runtime/logger.ts';
import { startEmbeddedChain, type EmbeddedChain } from '../sandbox/chain/chain.ts';
import { quantdeskBootstrapSteps } from '../sandbox/chain/quantdesk-bootstrap.ts';
import { createMarketSim, type MarketSim } from '../sandbox/market-sim/market-sim.ts';
import type { LiquidationManifest } from './liquidation-system.ts';
// @ts-expect-error plain ESM without types (it runs before dependencies are loaded)
import { ensureWebBuilt } from '../web/build.mjs';
import { createTestNamespace, endSystemWorkflows, freePort, ROOT, startNodeChild, startProcess, testConfig, testDatabaseUri, uniqueName, waitFor, type ChildHandle } from './support.ts';

/**
 * The whole system for browser tests and the web benchmark, on embedded-like services of the test's
 * own: a market simulator and a localnet (our program, markets, a demo trader) in this process; the
 * gateway, ingest and sync workers and the dashboard as processes, on free ports, against npm test's
 * Temporal, FerretDB and Redis. Nothing here runs on npm start's ports.
 */
export interface WebSystem {
  sim: MarketSim;
  localnet: EmbeddedChain | undefined;
  gatewayUrl: string;
  webUrl: string;
  registry: MarketRegistry;
  processes: Partial<Record<'gateway' | 'ingest' | 'sync' | 'keeper' | 'web', ChildHandle>>;
  /** The system's Temporal namespace. */
  namespace: string;
  stop(): Promise<void>;
}

export const shippedRegistry = (): MarketRegistry => marketRegistrySchema.parse(JSON.parse(readFileSync(join(ROOT, 'config/markets.json'), 'utf8')));

/** `chain: false`: no localnet and no sync worker (the gateway's RPC is a closed port), for price-only benchmarks. */
export async function startWebSystem(o: { registry?: MarketRegistry; seed?: number; chain?: boolean; traders?: number; keeper?: boolean } = {}): Promise<WebSystem> {
  if (testConfig.embedded.temporal || testConfig.embedded.mongodb || testConfig.embedded.redis) {
    throw new Error('the web system needs the test services: run it through npm test or npm run bench');
  }
  const entry: string = await ensureWebBuilt();
  const registry = o.registry ?? shippedRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'qd-web-'));
  const marketsFile = join(dir, 'markets.json');
  writeFileSync(marketsFile, JSON.stringify(registry));
  const sim = createMarketSim({ port: 0, seed: o.seed ?? 5, registry, coingeckoIntervalMs: 1_000, logLevel: 'warn' });
  await sim.start();
  const withChain = o.chain ?? true;
  const localnet: EmbeddedChain | undefined = !withChain ? undefined : await startEmbeddedChain({
    slotMs: 200,
    dataDir: join(dir, 'localnet'),
    logger: createLogger('localnet', 'warn'),
    bootstrap: quantdeskBootstrapSteps({ hermesUrl: sim.url, markets: marketsFile, traders: o.traders ?? 1 }),
  });
  const namespace = uniqueName('web');
  await createTestNamespace(namespace);
  const gatewayPort = await freePort();
  const webPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const webUrl = `http://127.0.0.1:${webPort}`;
  const env: Record<string, string> = {
    // At debug, so that the secrets test sees every line the processes can write.
    QD_LOG_LEVEL: 'debug',
    // Secrets that must never reach a log line (the simulator accepts any key).
    QD_HERMES_API_KEY: `hermes-secret-${uniqueName('k')}`,
    QD_COINGECKO_API_KEY: `coingecko-secret-${uniqueName('k')}`,
    QD_DATA_DIR: dir,
    QD_TEMPORAL_NAMESPACE: namespace,
    QD_MONGODB_URI: testDatabaseUri(uniqueName('qd-web')),
    QD_BUS_PREFIX: uniqueName('qd-web'),
    QD_MARKETS_FILE: marketsFile,
    QD_HERMES_URL: sim.url,
    QD_COINGECKO_URL: sim.url,
    QD_SOLANA_RPC_URL: localnet?.rpcUrl ?? `http://127.0.0.1:${await freePort()}`,
    ...(localnet && { QD_SOLANA_WS_URL: localnet.wsUrl, QD_PROGRAM_ID: localnet.manifest.quantdesk!.programId }),
    QD_ORACLE_AUTHORITY_KEYPAIR: join(dir, 'localnet', 'keys', 'oracle-authority.json'),
    QD_GATEWAY_PORT: String(gatewayPort),
    QD_GATEWAY_URL: gatewayUrl,
    QD_WEB_PORT: String(webPort),
    QD_SOLANA_LOCALNET: 'true',
  };
  const secrets = localnet ? keypairSecrets(join(dir, 'localnet', 'keys')) : [];
  const processes = {
    gateway: startProcess('server/main.ts', env, [], secrets),
    ingest: startProcess('workers/ingest/main.ts', { ...env, QD_METRICS_PORT: String(await freePort()) }, [], secrets),
    ...(withChain && { sync: startProcess('workers/sync/main.ts', { ...env, QD_METRICS_PORT: String(await freePort()) }, [], secrets) }),
    // The localnet's bootstrap registered keeper-1.
    ...(withChain && o.keeper && { keeper: startProcess('workers/keeper/main.ts', { ...env, QD_KEEPER_KEYPAIR: join(dir, 'localnet', 'keys', 'keeper-1.json'), QD_METRICS_PORT: String(await freePort()) }, [], secrets) }),
    web: startNodeChild([entry], { ...env, PORT: String(webPort), HOST: '127.0.0.1', ORIGIN: webUrl }, secrets),
  };
  const stop = async () => {
    const keepers = localnet && o.keeper ? (JSON.parse(readFileSync(join(dir, 'localnet', 'manifest.json'), 'utf8')) as LiquidationManifest).quantdesk.keepers : [];
    await endSystemWorkflows(namespace, indexMarkets(registry), keepers);
    await Promise.all(Object.values(processes).map((p) => p?.kill()));
    await localnet?.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('the gateway', async () => (await fetch(`${gatewayUrl}/api/live`)).ok, 90_000, 250);
    await waitFor('the dashboard', async () => (await fetch(webUrl)).status < 500, 60_000, 250);
  } catch (e) {
    const tails = Object.entries(processes).map(([n, p]) => `--- ${n}\n${p?.output().slice(-2_000)}`).join('\n');
    await stop();
    throw new Error(`${(e as Error).message}\n${tails}`);
  }
  return { sim, localnet, gatewayUrl, webUrl, registry, processes, namespace, stop };
}

/**
 * What the localnet's keypairs (the oracle authority, keepers, traders, mint authority) would look
 * like in a log line: the secret key's bytes as JSON or as a list, in base58 and in hex.
 */
function keypairSecrets(keysDir: string): string[] {
  return readdirSync(keysDir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const bytes = Uint8Array.from(JSON.parse(readFileSync(join(keysDir, f), 'utf8')) as number[]);
      const secret = bytes.subarray(0, 32);
      return [Array.from(secret.subarray(0, 12)).join(','), bs58.encode(bytes), Buffer.from(secret).toString('hex').slice(0, 32)];
    });
}

/**
 * Debian's Chromium through playwright-core (INFRA.md "Browser tests"). Playwright gives every
 * launch a fresh temporary profile itself (it refuses a --user-data-dir flag).
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
