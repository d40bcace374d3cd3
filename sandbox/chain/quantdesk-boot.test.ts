// Booting the QuantDesk chain without the simulator, with overrides, and from the CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Connection, Keypair, PublicKey, type AccountInfo } from '@solana/web3.js';
import { configAddress, decodeConfig, decodeMarket, marketAddress, QUANTDESK_PERP_PROGRAM_ID } from '../../programs/client/quantdesk-perp.ts';
import { decodePriceUpdateV2 } from '../../programs/client/pyth-price-update.ts';
import { ensureProgramBuilt } from '../../programs/sbpf/build.mjs';
import { indexMarkets, marketRegistrySchema } from '../../domain/markets.ts';
import { createMarketSim, type MarketSim } from '../market-sim/market-sim.ts';
import type { LocalnetManifest } from './bootstrap.ts';
import { embeddedProgramId } from './program-keys.ts';
import { startEmbeddedChain } from './chain.ts';
import { KeyStore } from './keystore.ts';
import { DEFAULT_MARKETS_FILE, quantdeskBootstrapSteps } from './quantdesk-bootstrap.ts';
import { freePort } from '../free-port.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const silent = pino({ level: 'silent' });
const cleanups: (() => unknown)[] = [];

beforeAll(() => ensureProgramBuilt(), 600_000);

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'localnet-boot-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}


/** The default registry cut down to SOL-PERP and ETH-PERP. */
function twoMarkets() {
  const json = JSON.parse(readFileSync(DEFAULT_MARKETS_FILE, 'utf8')) as { markets: { symbol: string }[] };
  return { markets: json.markets.filter((m) => m.symbol === 'SOL-PERP' || m.symbol === 'ETH-PERP') };
}

describe('without the simulator', () => {
  it('boots without prices or positions, then fills the PriceUpdateV2 accounts once Hermes comes up', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const localnet = await startEmbeddedChain({
      slotMs: 200,
      dataDir: tempDir(),
      logger: silent,
      bootstrap: quantdeskBootstrapSteps({ hermesUrl: `http://127.0.0.1:${port}`, hermesTimeoutMs: 500, feed: { initialBackoffMs: 50, maxBackoffMs: 200 } }),
    });
    cleanups.push(() => localnet.stop());
    const q = localnet.manifest.quantdesk!;
    expect([q.initialPrices, q.positions]).toEqual([[], []]);
    const connection = new Connection(localnet.rpcUrl, { wsEndpoint: localnet.wsUrl, commitment: 'confirmed' });
    for (const m of q.markets) {
      expect(decodeMarket((await connection.getAccountInfo(new PublicKey(m.market)))!.data).price).toBe(0n);
      expect(m.priceUpdate).toBe(localnet.manifest.accounts[`pyth:${m.symbol}`]);
      expect(await connection.getAccountInfo(new PublicKey(m.priceUpdate!))).toBeNull();
    }

    const sol = q.markets.find((m) => m.symbol === 'SOL-PERP')!;
    const first = new Promise<AccountInfo<Buffer>>((resolve) => {
      const id = connection.onAccountChange(new PublicKey(sol.priceUpdate!), (info) => {
        void connection.removeAccountChangeListener(id);
        resolve(info);
      });
    });
    const sim: MarketSim = createMarketSim({ port, seed: 9, logLevel: 'silent' });
    await sim.start();
    cleanups.push(() => sim.stop());
    const info = await first;
    expect(info.owner.toBase58()).toBe(q.pythReceiver);
    const u = decodePriceUpdateV2(info.data);
    expect(u.feedId).toBe(sol.feedId);
    expect(sim.publishedAt(u.feedId, Number(u.publishTime), u.price.toString())).toEqual(expect.any(Number));
  });

  it('writes no PriceUpdateV2 accounts without a Hermes URL; program id, receiver and markets are configurable', { timeout: 180_000 }, async () => {
    // Another program id: the loader deploys it with its keypair, which the keystore holds.
    const dataDir = tempDir();
    const programId = new KeyStore(join(dataDir, 'keys')).loadOrCreate('program-quantdesk_perp').publicKey;
    const pythReceiver = Keypair.generate().publicKey;
    const markets = indexMarkets(marketRegistrySchema.parse(twoMarkets()));
    const localnet = await startEmbeddedChain({
      slotMs: 200,
      dataDir,
      logger: silent,
      bootstrap: quantdeskBootstrapSteps({ programId, pythReceiver, markets, traders: 2 }),
    });
    cleanups.push(() => localnet.stop());
    const m = localnet.manifest;
    expect(m.quantdesk).toMatchObject({ programId: programId.toBase58(), pythReceiver: pythReceiver.toBase58(), hermesUrl: null, initialPrices: [], positions: [] });
    expect(Object.keys(m.accounts).filter((k) => k.startsWith('pyth:'))).toEqual([]);
    expect(m.quantdesk!.markets.map((x) => [x.symbol, x.market, x.priceUpdate])).toEqual([
      ['SOL-PERP', marketAddress('SOL-PERP', programId).toBase58(), undefined],
      ['ETH-PERP', marketAddress('ETH-PERP', programId).toBase58(), undefined],
    ]);
    const connection = new Connection(localnet.rpcUrl, 'confirmed');
    expect((await connection.getAccountInfo(programId))?.executable).toBe(true);
    expect(await connection.getAccountInfo(QUANTDESK_PERP_PROGRAM_ID)).toBeNull();
    const config = decodeConfig((await connection.getAccountInfo(configAddress(programId)))!.data);
    expect(config.pythReceiver.toBase58()).toBe(pythReceiver.toBase58());
    expect(m.traders.map((t) => t.name)).toEqual(['trader-1', 'trader-2']);
  });
});

/** Runs main.ts under tsx; resolves the `chain.ready` line. The child is killed after the test. */
function runMain(args: string[]): { child: ChildProcess; ready: Promise<Record<string, unknown>>; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === 'chain.ready') resolve(entry);
    });
    void exited.then((code) => reject(new Error(`main.ts exited (${code}) before ready:\n${err}`)));
  });
  // A run that is expected to fail never becomes ready; only awaiting `ready` should see that.
  ready.catch(() => undefined);
  return { child, ready, exited, stderr: () => err };
}

describe('main.ts', () => {
  it('boots the QuantDesk chain from flags at the embedded program id, prints chain.ready, and stops surfpool with it on SIGTERM', async () => {
    const dir = tempDir();
    const marketsFile = join(dir, 'markets.json');
    writeFileSync(marketsFile, JSON.stringify(twoMarkets()));
    const programId = embeddedProgramId().toBase58();
    const receiver = Keypair.generate().publicKey.toBase58();
    const dataDir = join(dir, 'ln');
    const run = runMain(['--port', '0', '--slot-ms', '200', '--data-dir', dataDir, '--markets', marketsFile, '--pyth-receiver', receiver]);
    const ready = await run.ready;
    expect(ready).toMatchObject({ manifest: join(dataDir, 'manifest.json'), quantdesk: programId });
    const manifest = JSON.parse(readFileSync(join(dataDir, 'manifest.json'), 'utf8')) as LocalnetManifest;
    expect([ready.rpcUrl, ready.wsUrl]).toEqual([manifest.rpcUrl, manifest.wsUrl]);
    expect(manifest.quantdesk).toMatchObject({ programId, pythReceiver: receiver, hermesUrl: null });
    expect(manifest.quantdesk!.oracleAuthority.keypair).toBe(join(dataDir, 'keys', 'oracle-authority.json'));
    expect(manifest.quantdesk!.keepers.map((k) => k.keypair)).toEqual([join(dataDir, 'keys', 'keeper-1.json')]);
    const connection = new Connection(manifest.rpcUrl, 'confirmed');
    const eth = decodeMarket((await connection.getAccountInfo(new PublicKey(manifest.accounts['market:ETH-PERP']!)))!.data);
    expect(eth.symbol).toBe('ETH-PERP');
    expect(await connection.getAccountInfo(marketAddress('BTC-PERP', new PublicKey(programId)))).toBeNull();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    // surfpool went with it: nothing answers on the RPC port any more.
    await expect(connection.getSlot()).rejects.toThrow();
  });

  it('takes surfpool down with it when killed outright', async () => {
    const run = runMain(['--port', '0', '--data-dir', join(tempDir(), 'ln')]);
    const ready = await run.ready;
    const connection = new Connection(String(ready.rpcUrl), 'confirmed');
    expect(await connection.getSlot()).toBeGreaterThan(0);
    run.child.kill('SIGKILL');
    await run.exited;
    await expect.poll(() => connection.getSlot().then(() => 'up', () => 'down'), { timeout: 5_000 }).toBe('down');
  });

  it('refuses a bad flag with a clear message', async () => {
    const bad = runMain(['--port', '0', '--hermes-url', 'ftp://127.0.0.1:4010']);
    expect(await bad.exited).not.toBe(0);
    expect(bad.stderr()).toContain('--hermes-url must be an http(s) URL');
  });
});
