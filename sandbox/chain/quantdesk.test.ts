// The QuantDesk chain as the embedded chain (surfpool) boots it, driven through the real @solana/web3.js Connection
// (HTTP + WebSocket), with the market simulator in-process feeding Hermes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import {
  Connection,
  Keypair,
  SYSVAR_CLOCK_PUBKEY,
  PublicKey,
  SendTransactionError,
  Transaction,
  sendAndConfirmTransaction,
  type AccountInfo,
  type Signer,
  type TransactionInstruction,
} from '@solana/web3.js';
import {
  ACCOUNT_SIZE,
  accountDiscriminator,
  closePositionInstruction,
  customErrorCode,
  decodeConfig,
  decodeMarket,
  decodeKeeper,
  decodePosition,
  depositInstruction,
  insuranceFundAddress,
  keeperAddress,
  liquidateInstruction,
  marketAddress,
  marketParamsFromRegistry,
  openPositionInstruction,
  parsePerpEvents,
  perpErrorCode,
  positionAddress,
  updateOraclePriceInstruction,
  vaultAddress,
  withdrawInstruction,
  type MarketAccount,
} from '../../programs/client/quantdesk-perp.ts';
import { decodePriceUpdateV2, type PriceUpdateV2 } from '../../programs/client/pyth-price-update.ts';
import { ensureProgramBuilt } from '../../programs/sbpf/build.mjs';
import { liquidationRules, planLiquidation, toMarginPrice, unrealizedPnl } from '../../domain/margin.ts';
import { loadMarkets } from '../../runtime/markets.ts';
import { createMarketSim, type MarketSim } from '../market-sim/market-sim.ts';
import { startEmbeddedChain, type EmbeddedChain } from './chain.ts';
import { embeddedProgramId } from './program-keys.ts';
import { LOADER_ID, programDataAddress } from './upgradeable-loader.ts';
import type { QuantdeskManifest } from './bootstrap.ts';
import { DEFAULT_MARKETS_FILE, DEFAULT_PYTH_RECEIVER_PROGRAM_ID, quantdeskBootstrapSteps } from './quantdesk-bootstrap.ts';

const registry = loadMarkets(DEFAULT_MARKETS_FILE);
const USDC = 1_000_000n;

let sim: MarketSim | undefined;
let localnet: EmbeddedChain | undefined;
/** The program's id on the embedded chain. */
const PID = () => embeddedProgramId();
let dataDir: string | undefined;
let connection: Connection;
let q: QuantdeskManifest;

beforeAll(async () => {
  // A cold machine builds the program first.
  await ensureProgramBuilt();
  sim = createMarketSim({ port: 0, seed: 11, logLevel: 'silent' });
  const hermesUrl = await sim.start();
  dataDir = mkdtempSync(join(tmpdir(), 'localnet-quantdesk-'));
  localnet = await startEmbeddedChain({
    slotMs: 200,
    dataDir,
    logger: pino({ level: 'silent' }),
    bootstrap: quantdeskBootstrapSteps({ hermesUrl }),
  });
  connection = new Connection(localnet.rpcUrl, { wsEndpoint: localnet.wsUrl, commitment: 'confirmed' });
  q = localnet.manifest.quantdesk!;
}, 600_000);

afterAll(async () => {
  await localnet?.stop();
  await sim?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

function keypairFile(path: string): Keypair {
  return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(path, 'utf8')) as number[]));
}

const trader = (name: string) => {
  const t = localnet!.manifest.traders.find((x) => x.name === name)!;
  return { keypair: keypairFile(t.keypair), tokenAccount: new PublicKey(t.tokenAccounts.usdc!) };
};

async function send(instructions: TransactionInstruction[], signers: Signer[]): Promise<string> {
  return sendAndConfirmTransaction(connection, new Transaction().add(...instructions), signers, { commitment: 'confirmed' });
}

/** Sends expecting failure; returns the program's custom error code as the RPC reports it. */
async function failureCode(instructions: TransactionInstruction[], signers: Signer[]): Promise<number | undefined> {
  try {
    await send(instructions, signers);
  } catch (err) {
    expect(err).toBeInstanceOf(SendTransactionError);
    return customErrorCode(err, (err as SendTransactionError).logs ?? []);
  }
  throw new Error('the transaction was expected to fail');
}

async function account(address: PublicKey | string): Promise<AccountInfo<Buffer>> {
  const info = await connection.getAccountInfo(new PublicKey(address));
  if (info === null) throw new Error(`account ${String(address)} does not exist`);
  return info;
}

const market = async (symbol: string): Promise<MarketAccount> => decodeMarket((await account(marketAddress(symbol, PID()))).data);

async function tokenBalance(address: PublicKey): Promise<bigint> {
  return BigInt((await connection.getTokenAccountBalance(address)).value.amount);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The chain's clock (the Clock sysvar's unix_timestamp), what the program compares publish times with. */
async function chainTime(): Promise<bigint> {
  const clock = await account(SYSVAR_CLOCK_PUBKEY);
  return clock.data.readBigInt64LE(32);
}

/** A publish time after the market's last one, and not more than 2 s ahead of the chain's clock. */
async function nextPublishTime(symbol: string): Promise<bigint> {
  const last = (await market(symbol)).publishTime;
  for (;;) {
    const now = await chainTime();
    const t = last + 1n > now ? last + 1n : now;
    if (t <= now + 2n) return t;
    await sleep(500);
  }
}

/** The oracle authority (its keypair file from the manifest) pushes one price with expo -8. */
async function push(symbol: string, price: bigint, conf = 0n): Promise<{ publishTime: bigint; signature: string }> {
  const oracle = keypairFile(q.oracleAuthority.keypair);
  const publishTime = await nextPublishTime(symbol);
  const signature = await send(
    [updateOraclePriceInstruction({ programId: PID(), oracleAuthority: oracle.publicKey, updates: [{ market: marketAddress(symbol, PID()), price: { price, conf, expo: -8, publishTime } }] })],
    [oracle],
  );
  return { publishTime, signature };
}

/** The next `count` account notifications of `address` over the WebSocket. */
function notifications(address: PublicKey, count: number, timeoutMs = 10_000): Promise<AccountInfo<Buffer>[]> {
  return new Promise((resolve, reject) => {
    const seen: AccountInfo<Buffer>[] = [];
    const id = connection.onAccountChange(
      address,
      (info) => {
        seen.push(info);
        if (seen.length === count) {
          clearTimeout(timer);
          void connection.removeAccountChangeListener(id);
          resolve(seen);
        }
      },
      { commitment: 'confirmed' },
    );
    const timer = setTimeout(() => {
      void connection.removeAccountChangeListener(id);
      reject(new Error(`${seen.length} of ${count} notifications for ${address.toBase58()} in ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

const published = (u: Pick<PriceUpdateV2, 'feedId' | 'publishTime' | 'price'>) => sim!.publishedAt(u.feedId, Number(u.publishTime), u.price.toString());

describe('deployment', () => {
  it('deploys the program, executable, at the embedded program id', async () => {
    expect(q.programId).toBe(PID().toBase58());
    expect(localnet!.manifest.programs.quantdesk_perp).toBe(q.programId);
    const info = await account(q.programId);
    expect(info.executable).toBe(true);
    // Through the upgradeable loader, as on a cluster: the program account points at its ProgramData.
    expect(info.owner.equals(LOADER_ID)).toBe(true);
    expect((await account(programDataAddress(PID()))).owner.equals(LOADER_ID)).toBe(true);
  });

  it('initializes the config with the mint, oracle authority, keeper fee ceiling and the Pyth receiver', async () => {
    const config = decodeConfig((await account(q.config)).data);
    expect(config.admin.toBase58()).toBe(keypairFile(q.admin.keypair).publicKey.toBase58());
    expect(config.oracleAuthority.toBase58()).toBe(keypairFile(join(localnet!.dataDir, 'keys', 'oracle-authority.json')).publicKey.toBase58());
    expect(config.oracleAuthority.toBase58()).toBe(q.oracleAuthority.publicKey);
    expect(config.pythReceiver.toBase58()).toBe(DEFAULT_PYTH_RECEIVER_PROGRAM_ID.toBase58());
    expect(config.mint.toBase58()).toBe(localnet!.manifest.mints.usdc!.address);
    expect(config.vault.toBase58()).toBe(vaultAddress(PID()).toBase58());
    expect(config.vault.toBase58()).toBe(q.vault);
    expect(config.maxKeeperFeeBps).toBe(q.maxKeeperFeeBps);
    expect([config.insuranceFund?.toBase58(), config.keeperStakeVault?.toBase58()]).toEqual([q.insuranceFund, q.keeperStakeVault]);
    expect([config.minKeeperStake, config.keeperCooldownSlots]).toEqual([BigInt(q.minKeeperStake), BigInt(q.keeperCooldownSlots)]);
  });

  it('funds the insurance fund and registers keeper-1 with its stake, keypair in the keys folder', async () => {
    expect(q.insuranceFund).toBe(insuranceFundAddress(PID()).toBase58());
    expect(await tokenBalance(insuranceFundAddress(PID()))).toBeGreaterThanOrEqual(10_000n * USDC);
    const k = q.keepers.find((x) => x.name === 'keeper-1')!;
    expect(k.keypair).toBe(join(localnet!.dataDir, 'keys', 'keeper-1.json'));
    expect(k.keeperAccount).toBe(keeperAddress(keypairFile(k.keypair).publicKey, PID()).toBase58());
    const onChain = decodeKeeper((await account(k.keeperAccount)).data);
    expect([onChain.status, onChain.stake, onChain.authority.toBase58()]).toEqual(['active', BigInt(k.stake), k.publicKey]);
  });

  it('creates one market per registry entry with the registry bounds, found by getProgramAccounts too', async () => {
    for (const m of registry.all) {
      expect(localnet!.manifest.accounts[`market:${m.symbol}`]).toBe(marketAddress(m.symbol, PID()).toBase58());
      const onChain = await market(m.symbol);
      expect(onChain.symbol).toBe(m.symbol);
      expect(onChain.feedId).toBe(m.pythFeedId);
      expect(onChain.params).toEqual(marketParamsFromRegistry(m));
      expect(onChain.oracle?.toBase58()).toBe(localnet!.manifest.accounts[`pyth:${m.symbol}`]);
    }
    const all = await connection.getProgramAccounts(PID(), {
      filters: [{ dataSize: ACCOUNT_SIZE.Market }, { memcmp: { offset: 0, bytes: accountDiscriminator('Market').toString('base64'), encoding: 'base64' } }],
    });
    expect(all.map((a) => decodeMarket(a.account.data).symbol).sort()).toEqual(registry.all.map((m) => m.symbol).sort());
  });

  it('pushed the simulator\'s latest price to every market at boot', async () => {
    expect([...q.initialPrices].sort()).toEqual(registry.all.map((m) => m.symbol).sort());
    for (const m of registry.all) {
      const onChain = await market(m.symbol);
      expect(onChain.price).toBeGreaterThan(0n);
      expect(published({ feedId: m.pythFeedId, publishTime: onChain.publishTime, price: onChain.price })).toEqual(expect.any(Number));
    }
  });
});

describe('update_oracle_price through Connection', () => {
  it('the oracle authority\'s push changes the market to exactly the pushed values', async () => {
    const before = await market('SOL-PERP');
    const { publishTime, signature } = await push('SOL-PERP', 15_123_456_789n, 1_234_567n);
    const after = await market('SOL-PERP');
    expect([after.price, after.conf, after.expo, after.publishTime]).toEqual([15_123_456_789n, 1_234_567n, -8, publishTime]);
    expect(after.publishTime).toBeGreaterThan(before.publishTime);
    const tx = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    expect(after.priceSlot).toBe(BigInt(tx!.slot));
  });

  it('refuses a push signed by someone else with Unauthorized, visible in the RPC error', async () => {
    const before = await market('SOL-PERP');
    const impostor = trader('trader-2').keypair;
    const code = await failureCode(
      [
        updateOraclePriceInstruction({ programId: PID(),
          oracleAuthority: impostor.publicKey,
          updates: [{ market: marketAddress('SOL-PERP', PID()), price: { price: 1n, conf: 0n, expo: -8, publishTime: await nextPublishTime('SOL-PERP') } }],
        }),
      ],
      [impostor],
    );
    expect(code).toBe(perpErrorCode('Unauthorized'));
    expect(await market('SOL-PERP')).toEqual(before);
  });
});

describe('Pyth PriceUpdateV2 accounts', () => {
  it('follow the simulator: account notifications carry what the simulator published', async () => {
    const m = registry.bySymbol('ETH-PERP')!;
    const address = new PublicKey(localnet!.manifest.accounts['pyth:ETH-PERP']!);
    const seen = await notifications(address, 3);
    let previous = -1n;
    for (const info of seen) {
      expect(info.owner.toBase58()).toBe(q.pythReceiver);
      const u = decodePriceUpdateV2(info.data);
      expect(u.verification).toEqual({ kind: 'full' });
      expect(u.feedId).toBe(m.pythFeedId);
      expect(published(u)).toEqual(expect.any(Number));
      expect(u.postedSlot).toBeGreaterThan(previous);
      previous = u.postedSlot;
    }
    expect(Number(previous)).toBeLessThanOrEqual(await connection.getSlot('processed'));
  });

  it('are pinned: an open must pass the market\'s account, and uses it when it is newer than the pushed price', async () => {
    const t = trader('trader-1');
    const address = new PublicKey(localnet!.manifest.accounts['pyth:BTC-PERP']!);
    const btc = marketAddress('BTC-PERP', PID());
    const size = 10_000_000n; // 0.01 BTC
    await send([depositInstruction({ programId: PID(), owner: t.keypair.publicKey, market: btc, ownerTokenAccount: t.tokenAccount, amount: 500n * USDC })], [t.keypair]);
    expect(await failureCode([openPositionInstruction({ programId: PID(), owner: t.keypair.publicKey, market: btc, size })], [t.keypair])).toBe(perpErrorCode('OracleAccountMissing'));
    // A pushed price 4 % below the simulator's (within the sanity band), then a newer Pyth update.
    const live = decodePriceUpdateV2((await account(address)).data);
    const { publishTime } = await push('BTC-PERP', (live.price * 96n) / 100n);
    for (;;) {
      sim!.control.stall('pyth', ['BTC-PERP']);
      await sleep(300);
      if (decodePriceUpdateV2((await account(address)).data).publishTime > publishTime) break;
      sim!.control.unstall('pyth', ['BTC-PERP']);
      await sleep(500);
    }
    try {
      const frozen = decodePriceUpdateV2((await account(address)).data);
      expect(published(frozen)).toEqual(expect.any(Number));
      const signature = await send([openPositionInstruction({ programId: PID(), owner: t.keypair.publicKey, market: btc, size, priceUpdate: address })], [t.keypair]);
      const p = decodePosition((await account(positionAddress(btc, t.keypair.publicKey, PID()))).data);
      expect([p.size, p.entryPrice]).toEqual([size, toMarginPrice(frozen.price, frozen.exponent)]);
      const tx = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
      expect(tx!.meta!.logMessages).toContain('Program log: price source: pyth');
      expect((await market('BTC-PERP')).lastUsedPublishTime).toBe(frozen.publishTime);
    } finally {
      sim!.control.unstall('pyth', ['BTC-PERP']);
    }
  });
});

/** Stalls the simulator's Pyth feed of `symbol` for `run` and waits a second, so pushes are the newest price. */
async function withPythStalled<T>(symbol: string, run: () => Promise<T>): Promise<T> {
  sim!.control.stall('pyth', [symbol]);
  try {
    await sleep(1_100);
    return await run();
  } finally {
    sim!.control.unstall('pyth', [symbol]);
  }
}

const pinned = (symbol: string) => new PublicKey(localnet!.manifest.accounts[`pyth:${symbol}`]!);

describe('demo traders', () => {
  it('hold the positions the manifest lists: long, short, and several near their liquidation price', async () => {
    expect(q.positions.map((p) => [p.trader, p.symbol, p.side, p.nearLiquidation])).toEqual([
      ['trader-1', 'SOL-PERP', 'long', false],
      ['trader-2', 'BTC-PERP', 'short', false],
      ['trader-3', 'ETH-PERP', 'long', true],
      ['trader-2', 'SOL-PERP', 'long', true],
      ['trader-3', 'BTC-PERP', 'long', true],
      ['trader-1', 'ETH-PERP', 'short', true],
    ]);
    for (const listed of q.positions) {
      const owner = new PublicKey(localnet!.manifest.traders.find((t) => t.name === listed.trader)!.publicKey);
      const address = positionAddress(marketAddress(listed.symbol, PID()), owner, PID());
      expect(listed.position).toBe(address.toBase58());
      expect(localnet!.manifest.accounts[`position:${listed.trader}:${listed.symbol}`]).toBe(listed.position);
      const p = decodePosition((await account(address)).data);
      expect(p.owner.toBase58()).toBe(owner.toBase58());
      expect(p.market.toBase58()).toBe(marketAddress(listed.symbol, PID()).toBase58());
      expect([p.size.toString(), p.collateral.toString(), p.entryPrice.toString()]).toEqual([listed.size, listed.collateral, listed.entryPrice]);
      expect(listed.side === 'long' ? p.size > 0n : p.size < 0n).toBe(true);
    }
    for (const near of q.positions.filter((p) => p.nearLiquidation)) {
      const gap = BigInt(near.entryPrice) - BigInt(near.liquidationPrice!);
      const distance = Number(near.side === 'long' ? gap : -gap) / Number(near.entryPrice);
      expect(distance, `${near.trader} ${near.symbol}`).toBeGreaterThan(0);
      expect(distance, `${near.trader} ${near.symbol}`).toBeLessThan(0.06);
    }
  });

  it('deposit, open, close and withdraw round trip with exact balances', async () => {
    await withPythStalled('JUP-PERP', () => roundTrip());
  });
});

/** trader-1 deposits, opens, closes and withdraws in JUP-PERP at pushed prices, with exact balances. */
async function roundTrip(): Promise<void> {
  const t = trader('trader-1');
  const priceUpdate = pinned('JUP-PERP');
  const jup = marketAddress('JUP-PERP', PID());
  const vault = vaultAddress(PID());
  const [tokensBefore, vaultBefore] = [await tokenBalance(t.tokenAccount), await tokenBalance(vault)];
  await push('JUP-PERP', 100_000_000n, 100_000n); // $1.00 ± 0.001
  const size = 1_000n * 1_000_000_000n; // 1,000 JUP long
  await send(
    [
      depositInstruction({ programId: PID(), owner: t.keypair.publicKey, market: jup, ownerTokenAccount: t.tokenAccount, amount: 500n * USDC }),
      openPositionInstruction({ programId: PID(), owner: t.keypair.publicKey, market: jup, size, priceUpdate }),
    ],
    [t.keypair],
  );
  expect(await tokenBalance(t.tokenAccount)).toBe(tokensBefore - 500n * USDC);
  expect(await tokenBalance(vault)).toBe(vaultBefore + 500n * USDC);
  const opened = decodePosition((await account(positionAddress(jup, t.keypair.publicKey, PID()))).data);
  expect([opened.size, opened.entryPrice, opened.collateral]).toEqual([size, 1_000_000_000n, 500n * USDC]);

  await push('JUP-PERP', 110_000_000n, 100_000n); // $1.10
  await send([closePositionInstruction({ programId: PID(), owner: t.keypair.publicKey, market: jup, priceUpdate })], [t.keypair]);
  const pnl = unrealizedPnl(opened, 1_100_000_000n);
  expect(pnl).toBe(100n * USDC);
  const closed = decodePosition((await account(positionAddress(jup, t.keypair.publicKey, PID()))).data);
  expect([closed.size, closed.collateral]).toEqual([0n, 500n * USDC + pnl]);

  await send(
    [
      withdrawInstruction({ programId: PID(),
        owner: t.keypair.publicKey,
        market: jup,
        ownerTokenAccount: t.tokenAccount,
        amount: 500n * USDC + pnl,
      }),
    ],
    [t.keypair],
  );
  expect(await tokenBalance(t.tokenAccount)).toBe(tokensBefore + pnl);
  expect(await tokenBalance(vault)).toBe(vaultBefore - pnl);
  expect(decodePosition((await account(positionAddress(jup, t.keypair.publicKey, PID()))).data).collateral).toBe(0n);
}

describe('liquidation by keeper-1', () => {
  it('refuses a healthy position, then partially liquidates the under-margined one, paying the keeper and the insurance fund', async () => {
    const keeperInfo = q.keepers.find((k) => k.name === 'keeper-1')!;
    const keeper = keypairFile(keeperInfo.keypair);
    expect(keeper.publicKey.toBase58()).toBe(localnet!.manifest.accounts['keeper-1']);
    const keeperTokens = new PublicKey(keeperInfo.tokenAccount);
    const liquidate = (symbol: string, owner: PublicKey) =>
      liquidateInstruction({ programId: PID(), keeper: keeper.publicKey, market: marketAddress(symbol, PID()), owner, keeperTokenAccount: keeperTokens, priceUpdate: pinned(symbol) });

    // trader-1's SOL long (3×) is healthy.
    expect(await failureCode([liquidate('SOL-PERP', trader('trader-1').keypair.publicKey)], [keeper])).toBe(perpErrorCode('PositionHealthy'));

    // trader-3's ETH long, at the highest leverage: push a price 2 % below its liquidation price.
    await withPythStalled('ETH-PERP', async () => {
      const near = q.positions.find((p) => p.trader === 'trader-3' && p.symbol === 'ETH-PERP')!;
      const owner = trader('trader-3').keypair.publicKey;
      const eth = marketAddress('ETH-PERP', PID());
      const before = decodePosition((await account(positionAddress(eth, owner, PID()))).data);
      const pushed = (BigInt(near.liquidationPrice!) * 98n) / 100n / 10n;
      await push('ETH-PERP', pushed);
      const fund = insuranceFundAddress(PID());
      const [keeperBefore, vaultBefore, fundBefore] = [await tokenBalance(keeperTokens), await tokenBalance(vaultAddress(PID())), await tokenBalance(fund)];
      const expected = planLiquidation(before, toMarginPrice(pushed, -8), liquidationRules(registry.bySymbol('ETH-PERP')!), fundBefore)!;
      expect(expected.full).toBe(false);
      expect(expected.keeperFee).toBeGreaterThan(0n);
      const signature = await send([liquidate('ETH-PERP', owner)], [keeper]);
      expect(await tokenBalance(keeperTokens)).toBe(keeperBefore + expected.keeperFee);
      expect(await tokenBalance(fund)).toBe(fundBefore + expected.insuranceFee);
      expect(await tokenBalance(vaultAddress(PID()))).toBe(vaultBefore - expected.fee);
      const after = decodePosition((await account(positionAddress(eth, owner, PID()))).data);
      expect([after.size, after.entryPrice, after.collateral]).toEqual([expected.remainingSize, before.entryPrice, expected.remainingCollateral]);
      const tx = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
      const [event] = parsePerpEvents(tx!.meta!.logMessages!);
      expect(event).toMatchObject({ name: 'LiquidationEvent', data: { full: false, sizeLiquidated: expected.sizeLiquidated, keeperFee: expected.keeperFee, registeredKeeper: true } });
      expect(decodeKeeper((await account(keeperInfo.keeperAccount)).data)).toMatchObject({ liquidations: 1n, rewardsEarned: expected.keeperFee });
      // What is left meets maintenance plus the buffer.
      expect(await failureCode([liquidate('ETH-PERP', owner)], [keeper])).toBe(perpErrorCode('PositionHealthy'));
    });
  });
});
