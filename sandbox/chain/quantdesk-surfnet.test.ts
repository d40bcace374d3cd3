// The QuantDesk chain booted on surfpool by the same steps as the localnet, but over plain RPC: the
// program through the upgradeable loader, then mint, config, keepers, markets, Pyth accounts kept
// current from the simulator's Hermes, demo positions. Read back through a web3.js Connection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { PublicKey, type AccountInfo } from '@solana/web3.js';
import { decodeConfig, decodeKeeper, decodeMarket, decodePosition, marketAddress } from '../../programs/client/quantdesk-perp.ts';
import { PRICE_UPDATE_V2_SIZE, decodePriceUpdateV2 } from '../../programs/client/pyth-price-update.ts';
import { ensureProgramBuilt } from '../../programs/sbpf/build.mjs';
import { createMarketSim, type MarketSim } from '../market-sim/market-sim.ts';
import type { QuantdeskManifest } from '../localnet/bootstrap.ts';
import { DEFAULT_PYTH_RECEIVER_PROGRAM_ID, quantdeskBootstrapSteps } from '../localnet/quantdesk-bootstrap.ts';
import { startEmbeddedChain, type EmbeddedChain } from './chain.ts';
import { LOADER_ID } from './upgradeable-loader.ts';

let sim: MarketSim | undefined;
let chain: EmbeddedChain | undefined;
let dataDir: string | undefined;
let q: QuantdeskManifest;
let bootMs = 0;

beforeAll(async () => {
  await ensureProgramBuilt();
  sim = createMarketSim({ port: 0, seed: 11, logLevel: 'silent' });
  const hermesUrl = await sim.start();
  dataDir = mkdtempSync(join(tmpdir(), 'surfnet-quantdesk-'));
  const started = Date.now();
  chain = await startEmbeddedChain({ dataDir, slotMs: 400, logger: pino({ level: 'silent' }), bootstrap: quantdeskBootstrapSteps({ hermesUrl }) });
  bootMs = Date.now() - started;
  q = chain.manifest.quantdesk!;
}, 300_000);

afterAll(async () => {
  await chain?.stop();
  await sim?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

async function account(address: PublicKey | string): Promise<AccountInfo<Buffer>> {
  const info = await chain!.connection.getAccountInfo(new PublicKey(address));
  if (info === null) throw new Error(`account ${String(address)} does not exist`);
  return info;
}

describe('the QuantDesk chain on surfpool', () => {
  it('deploys the program through the upgradeable loader at the keystore program id', async () => {
    const programId = chain!.keys.loadOrCreate('program-quantdesk_perp').publicKey.toBase58();
    expect(q.programId).toBe(programId);
    expect(chain!.manifest.programs.quantdesk_perp).toBe(programId);
    const info = await account(programId);
    expect(info.executable).toBe(true);
    expect(info.owner.equals(LOADER_ID)).toBe(true);
    console.log(`surfnet: QuantDesk chain booted in ${bootMs} ms at 400 ms slots`);
  });

  it('initializes the config, registers the keeper and creates every market with a price from Hermes', async () => {
    const programId = new PublicKey(q.programId);
    const config = decodeConfig((await account(q.config)).data);
    expect(config.oracleAuthority.toBase58()).toBe(q.oracleAuthority.publicKey);
    expect(config.pythReceiver.toBase58()).toBe(DEFAULT_PYTH_RECEIVER_PROGRAM_ID.toBase58());
    expect(config.mint.toBase58()).toBe(chain!.manifest.mints.usdc!.address);
    const keeper = decodeKeeper((await account(q.keepers[0]!.keeperAccount)).data);
    expect(keeper.status).toBe('active');
    expect(q.initialPrices.length).toBe(q.markets.length);
    for (const m of q.markets) {
      const onChain = decodeMarket((await account(marketAddress(m.symbol, programId))).data);
      expect(onChain.price, m.symbol).toBeGreaterThan(0n);
      expect(onChain.oracle?.toBase58()).toBe(m.priceUpdate);
    }
  });

  it('keeps the PriceUpdateV2 accounts current from the Hermes stream, with account notifications', async () => {
    const sol = q.markets.find((m) => m.symbol === 'SOL-PERP')!;
    const address = new PublicKey(sol.priceUpdate!);
    const before = decodePriceUpdateV2((await account(address)).data);
    const seen = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no notification of the SOL PriceUpdateV2 account in 10 s')), 10_000);
      const id = chain!.connection.onAccountChange(address, (info) => {
        clearTimeout(timer);
        void chain!.connection.removeAccountChangeListener(id);
        resolve(info.data);
      });
    });
    const info = await account(address);
    expect(info.owner.equals(DEFAULT_PYTH_RECEIVER_PROGRAM_ID)).toBe(true);
    expect(info.data.length).toBe(PRICE_UPDATE_V2_SIZE);
    const after = decodePriceUpdateV2(seen);
    expect(after.feedId).toBe(sol.feedId);
    expect(after.verification).toEqual({ kind: 'full' });
    expect(after.publishTime).toBeGreaterThanOrEqual(before.publishTime);
    expect(sim!.publishedAt(after.feedId, Number(after.publishTime), after.price.toString())).toBeDefined();
  });

  it('opens the demo positions, near-liquidation ones included', async () => {
    expect(q.positions.length).toBeGreaterThanOrEqual(6);
    expect(q.positions.some((p) => p.nearLiquidation)).toBe(true);
    for (const p of q.positions) {
      const onChain = decodePosition((await account(p.position)).data);
      expect(onChain.size.toString(), `${p.trader} ${p.symbol}`).toBe(p.size);
    }
  });
});
