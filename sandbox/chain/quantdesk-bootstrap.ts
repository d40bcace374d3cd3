// The QuantDesk chain at boot: the quantdesk_perp program, the USDC-like mint, the demo traders, the
// admin / oracle authority / keeper keypairs, `initialize`, the keeper network (insurance fund,
// stake vault) with the demo keepers registered, one market per registry entry, Pyth PriceUpdateV2
// accounts fed from Hermes (the market simulator) and pinned as the markets' oracles, initial
// pushed prices and demo positions, several of them at the highest leverage an open allows so that
// a simulator move of ~6 % (its `bias` control) makes them liquidatable. Everything lands as real
// transactions through the bootstrap context.
import { fileURLToPath } from 'node:url';
import { LAMPORTS_PER_SOL, PublicKey, type Keypair } from '@solana/web3.js';
import { createAssociatedTokenAccountIdempotentInstruction, createMintToInstruction, getAssociatedTokenAddressSync } from '@solana/spl-token';
import { HermesClient } from '@pythnetwork/hermes-client';
import { ensureProgramBuilt } from '../../programs/sbpf/build.mjs';
import {
  QUANTDESK_PERP_PROGRAM_ID,
  configAddress,
  createMarketInstruction,
  decodeMarket,
  decodePosition,
  depositInstruction,
  initializeInstruction,
  initializeKeeperNetworkInstruction,
  insuranceFundAddress,
  keeperAddress,
  keeperStakeVaultAddress,
  marketAddress,
  marketParamsFromRegistry,
  openPositionInstruction,
  positionAddress,
  registerKeeperInstruction,
  setMarketOracleInstruction,
  updateOraclePriceInstruction,
  vaultAddress,
  type PriceInput,
} from '../../programs/client/quantdesk-perp.ts';
import { BPS } from '../../domain/decimal.ts';
import { NOTIONAL_DIVISOR, liquidationPrice, meetsInitialMargin, toMarginPrice } from '../../domain/margin.ts';
import type { Market, MarketIndex } from '../../domain/markets.ts';
import { loadMarkets } from '../../runtime/markets.ts';
import {
  BOOTSTRAP_CONCURRENCY,
  BootstrapError,
  bootstrapPayer,
  demoTradersStep,
  mapConcurrently,
  usdcMintStep,
  type BootstrapContext,
  type BootstrapStep,
  type QuantdeskManifest,
} from './bootstrap.ts';
import { PRICE_UPDATE_V2_SIZE } from '../../programs/client/pyth-price-update.ts';
import { HermesAccountFeed, PriceUpdateWriter, priceMessageFromHermes, priceUpdateAddress, type PythFeedTarget } from './pyth-accounts.ts';

/**
 * The Pyth Solana receiver's program id on mainnet and devnet today. Pyth announced new ids for its
 * 2026 upgrade, so this is only the default of `pythReceiver` (`--pyth-receiver`); nothing else in
 * the localnet names it.
 */
export const DEFAULT_PYTH_RECEIVER_PROGRAM_ID = new PublicKey('rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ');
export const DEFAULT_MARKETS_FILE = fileURLToPath(new URL('../../config/markets.json', import.meta.url));
export const PROGRAM_NAME = 'quantdesk_perp';
/** Keystore names (files `<dataDir>/keys/<name>.json`); workers read these files. */
export const ADMIN_KEYPAIR = 'admin';
export const ORACLE_AUTHORITY_KEYPAIR = 'oracle-authority';
export const keeperKeypairName = (i: number) => `keeper-${i}`;
/** Signs nothing: the `write_authority` recorded in the localnet's PriceUpdateV2 accounts. */
const PYTH_POSTER_KEYPAIR = 'pyth-poster';

const ROLE_LAMPORTS = 100n * BigInt(LAMPORTS_PER_SOL);
const USDC = 1_000_000n;

export interface QuantdeskBootstrapOptions {
  /** The program's .so; default: `ensureProgramBuilt()` (builds it when its sources changed). */
  soPath?: string;
  /** Default: the context's `defaultProgramId` (on the embedded chain, the embedded program id). */
  programId?: PublicKey;
  /** The feed registry, or the path of its JSON file. Default config/markets.json. */
  markets?: MarketIndex | string;
  /** Owner of the PriceUpdateV2 accounts and `initialize`'s Pyth receiver. */
  pythReceiver?: PublicKey;
  /**
   * Hermes (v2) base URL, e.g. the market simulator. null/absent: no PriceUpdateV2 accounts, no
   * initial prices, no demo positions.
   */
  hermesUrl?: string | null;
  /** Demo traders trader-1..N. Default 3. */
  traders?: number;
  /** Keepers keeper-1..N (SOL, a collateral token account, registered with `keeperStake`). Default 1. */
  keepers?: number;
  /** `initialize`'s ceiling on every market's liquidation fee. Default 200 bps. */
  maxKeeperFeeBps?: number;
  /** `initialize_keeper_network`: the least stake, quote units. Default 100 USDC. */
  minKeeperStake?: bigint;
  /** `initialize_keeper_network`: slots between deregistering and withdrawing the stake. Default 150 (~1 min). */
  keeperCooldownSlots?: bigint;
  /** What each demo keeper locks, quote units. Default 1,000 USDC (it is given 10,000). */
  keeperStake?: bigint;
  /** Quote units minted into the insurance fund at boot. Default 10,000 USDC. */
  insuranceFund?: bigint;
  /**
   * A crowd of near-liquidation longs for tests and benchmarks: traders `trader-4` … `trader-(3 + count)`
   * (give `traders` enough) each open one in `symbol` with `collateralUsdc` at the highest leverage.
   */
  crowd?: { symbol: string; count: number; collateralUsdc?: bigint };
  /** How long boot waits for Hermes' latest prices. Default 3 s. */
  hermesTimeoutMs?: number;
  /** Reconnect and silence timing of the SSE feed (see HermesAccountFeed). */
  feed?: { initialBackoffMs?: number; maxBackoffMs?: number; silenceMs?: number };
}

/** Everything the QuantDesk steps need, resolved once. */
interface Plan {
  programId: PublicKey;
  markets: MarketIndex;
  pythReceiver: PublicKey;
  hermesUrl: string | null;
  maxKeeperFeeBps: number;
  keepers: number;
  minKeeperStake: bigint;
  keeperCooldownSlots: bigint;
  keeperStake: bigint;
  insuranceFund: bigint;
}

/**
 * The embedded chain's default boot: program, mint, traders, then the QuantDesk steps. Start it with
 * `startEmbeddedChain({ bootstrap: quantdeskBootstrapSteps({ hermesUrl }) })`.
 */
export function quantdeskBootstrapSteps(options: QuantdeskBootstrapOptions = {}): BootstrapStep[] {
  const markets = options.markets ?? DEFAULT_MARKETS_FILE;
  const plan: Plan = {
    programId: options.programId ?? QUANTDESK_PERP_PROGRAM_ID,
    markets: typeof markets === 'string' ? loadMarkets(markets) : markets,
    pythReceiver: options.pythReceiver ?? DEFAULT_PYTH_RECEIVER_PROGRAM_ID,
    hermesUrl: options.hermesUrl ?? null,
    maxKeeperFeeBps: options.maxKeeperFeeBps ?? 200,
    keepers: options.keepers ?? 1,
    minKeeperStake: options.minKeeperStake ?? 100n * USDC,
    keeperCooldownSlots: options.keeperCooldownSlots ?? 150n,
    keeperStake: options.keeperStake ?? 1_000n * USDC,
    insuranceFund: options.insuranceFund ?? 10_000n * USDC,
  };
  return [
    {
      name: `program:${PROGRAM_NAME}`,
      async run(ctx) {
        plan.programId = options.programId ?? ctx.defaultProgramId(PROGRAM_NAME);
        await ctx.deployProgram(PROGRAM_NAME, plan.programId, options.soPath ?? (await ensureProgramBuilt()));
      },
    },
    usdcMintStep(),
    demoTradersStep(options.traders === undefined ? {} : { count: options.traders }),
    { name: 'quantdesk:markets', run: (ctx) => initializeMarkets(ctx, plan) },
    { name: 'quantdesk:pyth', run: (ctx) => startPythAccounts(ctx, plan, options) },
    { name: 'quantdesk:demo-positions', run: (ctx) => openDemoPositions(ctx, plan, options.crowd) },
  ];
}

function quantdesk(ctx: BootstrapContext): QuantdeskManifest {
  const q = ctx.manifest.quantdesk;
  if (q === undefined) throw new BootstrapError('the quantdesk:markets step must run first');
  return q;
}

async function fundedRole(ctx: BootstrapContext, name: string): Promise<Keypair> {
  const keypair = ctx.keys.loadOrCreate(name);
  await ctx.airdrop(keypair.publicKey, ROLE_LAMPORTS);
  return keypair;
}

/** Tokens a demo keeper gets, of which it locks `keeperStake`. */
const KEEPER_TOKENS = 10_000n * USDC;

/**
 * Admin, oracle authority and keepers; `initialize`; `initialize_keeper_network` with the
 * insurance fund seeded; each keeper registered with its stake; `create_market` for every registry
 * market.
 */
async function initializeMarkets(ctx: BootstrapContext, plan: Plan): Promise<void> {
  const mintInfo = ctx.manifest.mints.usdc;
  if (mintInfo === undefined) throw new BootstrapError('QuantDesk needs the "usdc" mint (usdcMintStep)');
  const mint = new PublicKey(mintInfo.address);
  const mintAuthority = ctx.keys.loadOrCreate('usdc-mint-authority');
  const { programId } = plan;
  const admin = await fundedRole(ctx, ADMIN_KEYPAIR);
  const oracle = await fundedRole(ctx, ORACLE_AUTHORITY_KEYPAIR);
  const payer = bootstrapPayer(ctx);

  await ctx.send(
    [
      initializeInstruction({
        admin: admin.publicKey,
        mint,
        oracleAuthority: oracle.publicKey,
        pythReceiver: plan.pythReceiver,
        maxKeeperFeeBps: plan.maxKeeperFeeBps,
        programId,
      }),
      initializeKeeperNetworkInstruction({ admin: admin.publicKey, mint, minKeeperStake: plan.minKeeperStake, keeperCooldownSlots: plan.keeperCooldownSlots, programId }),
    ],
    [admin],
  );
  const insuranceFund = insuranceFundAddress(programId);
  if (plan.insuranceFund > 0n) await ctx.send([createMintToInstruction(mint, insuranceFund, mintAuthority.publicKey, plan.insuranceFund)], [payer, mintAuthority]);

  const keepers: QuantdeskManifest['keepers'] = [];
  for (let i = 1; i <= plan.keepers; i++) {
    const name = keeperKeypairName(i);
    const keeper = await fundedRole(ctx, name);
    const tokenAccount = getAssociatedTokenAddressSync(mint, keeper.publicKey);
    await ctx.send(
      [
        createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, tokenAccount, keeper.publicKey, mint),
        createMintToInstruction(mint, tokenAccount, mintAuthority.publicKey, KEEPER_TOKENS),
      ],
      [payer, mintAuthority],
    );
    await ctx.send([registerKeeperInstruction({ authority: keeper.publicKey, authorityTokenAccount: tokenAccount, stake: plan.keeperStake, programId })], [keeper]);
    const keeperAccount = keeperAddress(keeper.publicKey, programId).toBase58();
    keepers.push({ name, publicKey: keeper.publicKey.toBase58(), keypair: ctx.keys.path(name), tokenAccount: tokenAccount.toBase58(), keeperAccount, stake: plan.keeperStake.toString() });
    ctx.manifest.accounts[name] = keeper.publicKey.toBase58();
    ctx.manifest.accounts[`keeper-account:${name}`] = keeperAccount;
  }
  const markets: QuantdeskManifest['markets'] = [];
  for (const m of plan.markets.all) {
    await ctx.send(
      [createMarketInstruction({ admin: admin.publicKey, symbol: m.symbol, feedId: m.pythFeedId, params: marketParamsFromRegistry(m), programId })],
      [admin],
    );
    const market = marketAddress(m.symbol, programId).toBase58();
    markets.push({ symbol: m.symbol, feedId: m.pythFeedId, market });
    ctx.manifest.accounts[`market:${m.symbol}`] = market;
  }

  const config = configAddress(programId).toBase58();
  const vault = vaultAddress(programId).toBase58();
  const keeperStakeVault = keeperStakeVaultAddress(programId).toBase58();
  Object.assign(ctx.manifest.accounts, {
    config,
    vault,
    'insurance-fund': insuranceFund.toBase58(),
    'keeper-stake-vault': keeperStakeVault,
    [ADMIN_KEYPAIR]: admin.publicKey.toBase58(),
    [ORACLE_AUTHORITY_KEYPAIR]: oracle.publicKey.toBase58(),
  });
  ctx.manifest.quantdesk = {
    programId: programId.toBase58(),
    config,
    vault,
    insuranceFund: insuranceFund.toBase58(),
    keeperStakeVault,
    minKeeperStake: plan.minKeeperStake.toString(),
    keeperCooldownSlots: plan.keeperCooldownSlots.toString(),
    mint: mint.toBase58(),
    pythReceiver: plan.pythReceiver.toBase58(),
    maxKeeperFeeBps: plan.maxKeeperFeeBps,
    admin: { publicKey: admin.publicKey.toBase58(), keypair: ctx.keys.path(ADMIN_KEYPAIR) },
    oracleAuthority: { publicKey: oracle.publicKey.toBase58(), keypair: ctx.keys.path(ORACLE_AUTHORITY_KEYPAIR) },
    keepers,
    markets,
    hermesUrl: plan.hermesUrl,
    initialPrices: [],
    positions: [],
  };
  ctx.log.info(
    { programId: programId.toBase58(), markets: markets.length, pythReceiver: plan.pythReceiver.toBase58(), keepers: keepers.length, insuranceFund: String(plan.insuranceFund) },
    'bootstrap.quantdesk_initialized',
  );
}

/**
 * With a Hermes URL: PriceUpdateV2 accounts for every market, pinned as the market's oracle
 * (`set_market_oracle`, so every priced instruction must pass exactly that account), written first
 * from Hermes' latest prices (which are also pushed with `update_oracle_price`, so markets have a
 * price before any sync worker runs), then kept current from the SSE stream until the localnet
 * stops. Hermes being down only costs the initial prices; the stream keeps retrying.
 */
async function startPythAccounts(ctx: BootstrapContext, plan: Plan, options: QuantdeskBootstrapOptions): Promise<void> {
  const q = quantdesk(ctx);
  if (plan.hermesUrl === null) {
    ctx.log.info({}, 'bootstrap.pyth_skipped');
    return;
  }
  const targets: PythFeedTarget[] = plan.markets.all.map((m) => ({
    symbol: m.symbol,
    feedId: m.pythFeedId,
    address: priceUpdateAddress(m.pythFeedId, plan.pythReceiver),
  }));
  const admin = ctx.keys.loadOrCreate(ADMIN_KEYPAIR);
  for (const t of targets) {
    await ctx.send([setMarketOracleInstruction({ admin: admin.publicKey, market: marketAddress(t.symbol, plan.programId), oracle: t.address, programId: plan.programId })], [admin]);
    ctx.manifest.accounts[`pyth:${t.symbol}`] = t.address.toBase58();
    const entry = q.markets.find((m) => m.symbol === t.symbol);
    if (entry !== undefined) entry.priceUpdate = t.address.toBase58();
  }
  const writer = new PriceUpdateWriter({
    chain: ctx.cheat,
    lamports: await ctx.rentExempt(PRICE_UPDATE_V2_SIZE),
    receiver: plan.pythReceiver,
    writeAuthority: ctx.keys.loadOrCreate(PYTH_POSTER_KEYPAIR).publicKey,
    targets,
  });

  const latest = await fetchLatest(ctx, plan.hermesUrl, writer.feedIds, options.hermesTimeoutMs ?? 3_000);
  const oracle = ctx.keys.loadOrCreate(ORACLE_AUTHORITY_KEYPAIR);
  for (const entry of latest) {
    const outcome = await writer.write(entry);
    if (!('written' in outcome)) {
      ctx.log.warn({ reason: outcome.skipped, detail: outcome.detail }, 'bootstrap.initial_price_skipped');
      continue;
    }
    const message = priceMessageFromHermes(entry);
    if ('invalid' in message) continue;
    const price: PriceInput = { price: message.price, conf: message.conf, expo: message.exponent, publishTime: message.publishTime };
    const symbol = outcome.written.symbol;
    try {
      await ctx.send(
        [updateOraclePriceInstruction({ oracleAuthority: oracle.publicKey, updates: [{ market: marketAddress(symbol, plan.programId), price }], programId: plan.programId })],
        [oracle],
      );
      q.initialPrices.push(symbol);
    } catch (err) {
      // A price the program refuses (a simulator fault, say) leaves that market without one.
      if (!(err instanceof BootstrapError)) throw err;
      ctx.log.warn({ market: symbol, err: err.message, logs: err.logs }, 'bootstrap.initial_push_refused');
    }
  }
  ctx.log.info({ pushed: q.initialPrices }, 'bootstrap.initial_prices');

  const feed = new HermesAccountFeed({ hermesUrl: plan.hermesUrl, writer, log: ctx.log.child({ component: 'pyth-feed' }), ...options.feed });
  feed.start();
  ctx.onStop(() => feed.stop());
}

async function fetchLatest(ctx: BootstrapContext, hermesUrl: string, ids: string[], timeoutMs: number): Promise<unknown[]> {
  const client = new HermesClient(hermesUrl, { httpRetries: 0, timeout: timeoutMs });
  try {
    const update = await client.getLatestPriceUpdates(ids, { parsed: true, encoding: 'hex', ignoreInvalidPriceIds: true });
    return update.parsed ?? [];
  } catch (err) {
    ctx.log.warn({ hermesUrl, err: (err as Error).message }, 'bootstrap.hermes_unavailable');
    return [];
  }
}

/**
 * What the demo traders open: trader-N's side, collateral and leverage in a market (null = 99 % of
 * what initial margin allows, ~5 % from the liquidation price: the nearest an open can be). The
 * near ones are liquidated, partially, by a ~6 % move against them (the simulator's `bias`
 * control: −600 bps on SOL-PERP, ETH-PERP or BTC-PERP for the longs, +600 on ETH-PERP for the short).
 */
const DEMO_POSITIONS: { trader: number; symbol: string; side: 'long' | 'short'; collateralUsdc: bigint; leverageBps: bigint | null }[] = [
  { trader: 1, symbol: 'SOL-PERP', side: 'long', collateralUsdc: 2_000n, leverageBps: 30_000n },
  { trader: 2, symbol: 'BTC-PERP', side: 'short', collateralUsdc: 2_500n, leverageBps: 20_000n },
  { trader: 3, symbol: 'ETH-PERP', side: 'long', collateralUsdc: 1_000n, leverageBps: null },
  { trader: 2, symbol: 'SOL-PERP', side: 'long', collateralUsdc: 1_000n, leverageBps: null },
  { trader: 3, symbol: 'BTC-PERP', side: 'long', collateralUsdc: 1_000n, leverageBps: null },
  { trader: 1, symbol: 'ETH-PERP', side: 'short', collateralUsdc: 1_000n, leverageBps: null },
];

/** Base units for `collateral` at `leverageBps`, or at 99 % of the most initial margin allows. */
function demoSize(m: Market, mark: bigint, collateral: bigint, leverageBps: bigint | null): bigint {
  const notional = leverageBps === null ? (collateral * BPS * 99n) / (BigInt(m.margin.initialBps) * 100n) : (collateral * leverageBps) / BPS;
  return (notional * NOTIONAL_DIVISOR) / mark;
}

/**
 * Opens DEMO_POSITIONS where the trader exists and the market got a price, passing the market's
 * pinned account. The entry price is the program's (the newer of the pinned account and the
 * pushed price), read back from the position.
 */
async function openDemoPositions(ctx: BootstrapContext, plan: Plan, crowd?: QuantdeskBootstrapOptions['crowd']): Promise<void> {
  const q = quantdesk(ctx);
  if (q.initialPrices.length === 0) {
    ctx.log.info({}, 'bootstrap.demo_positions_skipped');
    return;
  }
  const crowdPositions = Array.from({ length: crowd?.count ?? 0 }, (_, i) => ({
    trader: 4 + i,
    symbol: crowd!.symbol,
    side: 'long' as const,
    collateralUsdc: crowd!.collateralUsdc ?? 100n,
    leverageBps: null,
  }));
  const opened = await mapConcurrently([...DEMO_POSITIONS, ...crowdPositions], BOOTSTRAP_CONCURRENCY, (demo) => openDemoPosition(ctx, plan, q, demo));
  for (const p of opened) {
    if (p === undefined) continue;
    q.positions.push(p);
    ctx.manifest.accounts[`position:${p.trader}:${p.symbol}`] = p.position;
  }
}

async function openDemoPosition(ctx: BootstrapContext, plan: Plan, q: QuantdeskManifest, demo: (typeof DEMO_POSITIONS)[number]): Promise<QuantdeskManifest['positions'][number] | undefined> {
  const trader = ctx.manifest.traders.find((t) => t.name === `trader-${demo.trader}`);
  const m = plan.markets.bySymbol(demo.symbol);
  if (trader === undefined || m === undefined || !q.initialPrices.includes(m.symbol)) return undefined;
  const market = marketAddress(m.symbol, plan.programId);
  const onChain = decodeMarket((await ctx.readAccount(market))!.data);
  const mark = toMarginPrice(onChain.price, onChain.expo, 'trunc');
  const collateral = demo.collateralUsdc * USDC;
  const magnitude = demoSize(m, mark, collateral, demo.leverageBps);
  const size = demo.side === 'long' ? magnitude : -magnitude;
  if (magnitude === 0n || !meetsInitialMargin({ size, entryPrice: mark, collateral }, mark, m.margin)) {
    ctx.log.warn({ market: m.symbol, trader: trader.name, size: String(size) }, 'bootstrap.demo_position_unfit');
    return undefined;
  }
  const owner = ctx.keys.loadOrCreate(trader.name);
  const tokenAccount = new PublicKey(trader.tokenAccounts.usdc!);
  const priceUpdate = onChain.oracle ?? undefined;
  try {
    await ctx.send(
      [
        depositInstruction({ owner: owner.publicKey, market, ownerTokenAccount: tokenAccount, amount: collateral, programId: plan.programId }),
        openPositionInstruction({ owner: owner.publicKey, market, size, priceUpdate, programId: plan.programId }),
      ],
      [owner],
    );
  } catch (err) {
    if (!(err instanceof BootstrapError)) throw err;
    ctx.log.warn({ market: m.symbol, trader: trader.name, err: err.message, logs: err.logs }, 'bootstrap.demo_position_refused');
    return undefined;
  }
  const address = positionAddress(market, owner.publicKey, plan.programId);
  const opened = decodePosition((await ctx.readAccount(address))!.data);
  const liq = liquidationPrice(opened, m.margin);
  const entry = {
    trader: trader.name,
    symbol: m.symbol,
    position: address.toBase58(),
    side: demo.side,
    size: size.toString(),
    collateral: collateral.toString(),
    entryPrice: opened.entryPrice.toString(),
    liquidationPrice: liq === undefined ? null : liq.toString(),
    nearLiquidation: demo.leverageBps === null,
  };
  ctx.log.info(
    { trader: trader.name, market: m.symbol, side: demo.side, size: String(size), entryPrice: String(opened.entryPrice), liquidationPrice: liq === undefined ? null : String(liq) },
    'bootstrap.demo_position_opened',
  );
  return entry;
}
