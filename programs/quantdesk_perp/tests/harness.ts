// An in-process chain for the program's tests and CU benchmark: LiteSVM with the packed program
// deployed, a USDC-like mint, the config initialised, and helpers to create markets, push prices,
// write Pyth PriceUpdateV2 accounts, fund traders and send transactions built by the client.
import { readFileSync } from 'node:fs';
import { Clock, LiteSVM } from 'litesvm';
import { address, getTransactionDecoder } from '@solana/kit';
import { Keypair, PublicKey, SystemProgram, Transaction, type TransactionInstruction } from '@solana/web3.js';
import {
  ACCOUNT_SIZE,
  AccountLayout,
  MINT_SIZE,
  TOKEN_PROGRAM_ID,
  createInitializeAccount3Instruction,
  createInitializeMint2Instruction,
  createMintToInstruction,
} from '@solana/spl-token';
import { ensureProgramBuilt } from '../../sbpf/build.mjs';
import {
  QUANTDESK_PERP_PROGRAM_ID,
  configAddress,
  createMarketInstruction,
  customErrorCode,
  decodeConfig,
  decodeKeeper,
  decodeMarket,
  decodePosition,
  depositInstruction,
  initializeInstruction,
  initializeKeeperNetworkInstruction,
  insuranceFundAddress,
  keeperAddress,
  registerKeeperInstruction,
  marketAddress,
  openPositionInstruction,
  perpErrorName,
  positionAddress,
  setMarketOracleInstruction,
  updateOraclePriceInstruction,
  type ConfigAccount,
  type KeeperAccount,
  type MarketAccount,
  type MarketParams,
  type PositionAccount,
  type PriceInput,
} from '../../client/quantdesk-perp.ts';
import { encodePriceUpdateV2, type VerificationLevel } from '../../client/pyth-price-update.ts';

/** The tests' "now": the same instant tests/vectors/validation.json uses. */
export const NOW = 1_800_000_000n;
export const START_SLOT = 1_000n;
export const SOL_FEED = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
export const BTC_FEED = 'e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43';
export const ETH_FEED = 'ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace';
export const USDC = 1_000_000n;
export const BASE = 1_000_000_000n;
export const PRICE = 1_000_000_000n;

/** SOL-PERP's bounds from config/markets.json. */
export const MAJOR_PARAMS: MarketParams = {
  expoMin: -18,
  expoMax: 0,
  maxFutureSkewSec: 5,
  maxAgeDisplaySec: 60,
  maxAgePushSec: 30,
  maxAgeMarginSec: 20,
  maxAgeLiquidationSec: 10,
  maxConfPushBps: 100,
  maxConfMarginBps: 75,
  maxConfLiquidationBps: 50,
  initialMarginBps: 1000,
  maintenanceMarginBps: 500,
  liquidationFeeBps: 100,
  sanityBandBps: 1000,
  emaBandBps: 2000,
  liquidationBufferBps: 200,
  insuranceFeeShareBps: 2500,
  minPositionNotional: 10_000_000n,
  permissionlessLiquidation: true,
  permissionlessAfterSlots: 150n,
};

/** initialize_keeper_network's parameters in the harness: 100 USDC minimum stake, 50 slots cooldown. */
export const MIN_KEEPER_STAKE = 100n * 1_000_000n;
export const KEEPER_COOLDOWN_SLOTS = 50n;

export interface TxResult {
  ok: boolean;
  /** The custom error code, when the transaction failed with one. */
  code?: number;
  /** The program's name for `code`. */
  error?: string;
  logs: string[];
  computeUnits: bigint;
  /** LiteSVM's description of a failure. */
  failure?: string;
}

export interface Trader {
  keypair: Keypair;
  tokenAccount: PublicKey;
}

/** A cold machine may first install the toolchain and build the sysroot: give the build time. */
export const BUILD_TIMEOUT_MS = 600_000;

let programBytes: Uint8Array | undefined;

/** Builds the program if needed (once per process) and returns its bytes. */
export async function loadProgram(): Promise<Uint8Array> {
  programBytes ??= readFileSync(await ensureProgramBuilt());
  return programBytes;
}

/** A 1.8e9-second price: 150.00000000 with expo -8 and conf 0.015 unless overridden. */
export function price(p: Partial<PriceInput> & { ageSec?: number } = {}, now = NOW): PriceInput {
  return {
    price: p.price ?? 15_000_000_000n,
    conf: p.conf ?? 1_500_000n,
    expo: p.expo ?? -8,
    publishTime: p.publishTime ?? now - BigInt(p.ageSec ?? 1),
  };
}

export class PerpHarness {
  readonly svm: LiteSVM;
  readonly programId: PublicKey;
  readonly payer = Keypair.generate();
  readonly admin = Keypair.generate();
  readonly oracle = Keypair.generate();
  readonly mintAuthority = Keypair.generate();
  readonly mint = Keypair.generate();
  /** Stands for the Pyth receiver program: PriceUpdateV2 accounts owned by it are genuine. */
  readonly pythReceiver = Keypair.generate().publicKey;
  private clockNow = NOW;
  private clockSlot = START_SLOT;
  /** Pinned PriceUpdateV2 addresses by feed id: where writePythUpdate writes unless told. */
  private readonly pinned = new Map<string, PublicKey>();

  private constructor(bytes: Uint8Array, programId: PublicKey) {
    this.programId = programId;
    this.svm = new LiteSVM();
    this.svm.addProgram(address(programId.toBase58()), bytes);
    this.setTime(NOW, START_SLOT);
    for (const k of [this.payer, this.admin, this.oracle, this.mintAuthority]) this.airdrop(k.publicKey, 100n * 1_000_000_000n);
  }

  /**
   * A chain with the program and the mint; `initialize` (default) also runs the program's
   * initialize, and `keeperNetwork` (default: with initialize) initialize_keeper_network.
   */
  static async create(opts: { initialize?: boolean; keeperNetwork?: boolean; programId?: PublicKey; maxKeeperFeeBps?: number } = {}): Promise<PerpHarness> {
    const h = new PerpHarness(await loadProgram(), opts.programId ?? QUANTDESK_PERP_PROGRAM_ID);
    h.createMint(h.mint, 6);
    const initialize = opts.initialize ?? true;
    if (initialize) h.mustSend([h.initializeIx(opts.maxKeeperFeeBps ?? 200)], [h.admin]);
    if (opts.keeperNetwork ?? initialize) h.mustSend([h.keeperNetworkIx()], [h.admin]);
    return h;
  }

  keeperNetworkIx(minKeeperStake = MIN_KEEPER_STAKE, keeperCooldownSlots = KEEPER_COOLDOWN_SLOTS): TransactionInstruction {
    return initializeKeeperNetworkInstruction({ admin: this.admin.publicKey, mint: this.mint.publicKey, minKeeperStake, keeperCooldownSlots, programId: this.programId });
  }

  /** A registered keeper: a trader with `usdc` tokens that locked `stake` of them. */
  keeper(stake = MIN_KEEPER_STAKE, usdc = 1_000n): Trader {
    const t = this.trader(usdc);
    this.mustSend([registerKeeperInstruction({ authority: t.keypair.publicKey, authorityTokenAccount: t.tokenAccount, stake, programId: this.programId })], [t.keypair]);
    return t;
  }

  keeperAccount(authority: PublicKey): KeeperAccount {
    return decodeKeeper(this.mustAccount(keeperAddress(authority, this.programId)).data);
  }

  /** Mints `amount` quote units straight into the insurance fund (anyone may send it tokens). */
  fundInsurance(amount: bigint): void {
    this.mustSend([createMintToInstruction(this.mint.publicKey, insuranceFundAddress(this.programId), this.mintAuthority.publicKey, amount)], [this.mintAuthority]);
  }

  initializeIx(maxKeeperFeeBps = 200): TransactionInstruction {
    return initializeInstruction({
      admin: this.admin.publicKey,
      mint: this.mint.publicKey,
      oracleAuthority: this.oracle.publicKey,
      pythReceiver: this.pythReceiver,
      maxKeeperFeeBps,
      programId: this.programId,
    });
  }

  get now(): bigint {
    return this.clockNow;
  }

  get slot(): bigint {
    return this.clockSlot;
  }

  setTime(unixTimestamp: bigint, slot = this.clockSlot): void {
    this.clockNow = unixTimestamp;
    this.clockSlot = slot;
    this.svm.setClock(new Clock(slot, unixTimestamp - 1000n, 0n, 0n, unixTimestamp));
  }

  /** Moves the clock forward: `seconds`, and about 2.5 slots per second. */
  advance(seconds: number): void {
    this.setTime(this.clockNow + BigInt(seconds), this.clockSlot + BigInt(Math.ceil(seconds * 2.5)));
  }

  airdrop(to: PublicKey, lamports: bigint): void {
    const r = this.svm.airdrop(address(to.toBase58()), lamports as never);
    if (!r || 'err' in r) throw new Error(`airdrop to ${to.toBase58()} failed`);
  }

  /** Signs with `signers` (the first pays unless the harness payer is asked for) and runs it. */
  send(instructions: TransactionInstruction[], signers: Keypair[], opts: { feePayer?: Keypair } = {}): TxResult {
    const feePayer = opts.feePayer ?? signers[0] ?? this.payer;
    const tx = new Transaction();
    tx.add(...instructions);
    tx.recentBlockhash = this.svm.latestBlockhash();
    tx.feePayer = feePayer.publicKey;
    const all = [feePayer, ...signers.filter((s) => !s.publicKey.equals(feePayer.publicKey))];
    tx.sign(...all);
    const wire = getTransactionDecoder().decode(tx.serialize());
    const res = this.svm.sendTransaction(wire as Parameters<LiteSVM['sendTransaction']>[0]);
    // A fresh blockhash per transaction: identical retries must reach the program, not the
    // duplicate-signature check.
    this.svm.expireBlockhash();
    if ('err' in res && typeof res.err === 'function') {
      const meta = res.meta();
      const logs = meta.logs();
      const code = customErrorCode(duckTypedError(res.err()), logs);
      return { ok: false, code, error: code === undefined ? undefined : perpErrorName(code), logs, computeUnits: meta.computeUnitsConsumed(), failure: res.toString() };
    }
    const meta = res as unknown as { logs(): string[]; computeUnitsConsumed(): bigint };
    return { ok: true, logs: meta.logs(), computeUnits: meta.computeUnitsConsumed() };
  }

  /** `send`, throwing with the logs when the transaction fails. */
  mustSend(instructions: TransactionInstruction[], signers: Keypair[], opts: { feePayer?: Keypair } = {}): TxResult {
    const r = this.send(instructions, signers, opts);
    if (!r.ok) throw new Error(`transaction failed (${r.error ?? r.failure}):\n${r.logs.join('\n')}`);
    return r;
  }

  account(key: PublicKey): { data: Uint8Array; owner: PublicKey; lamports: bigint } | undefined {
    const a = this.svm.getAccount(address(key.toBase58()));
    if (!a.exists) return undefined;
    return { data: new Uint8Array(a.data), owner: new PublicKey(a.programAddress), lamports: BigInt(a.lamports) };
  }

  /** Writes an account directly (setup of situations a transaction cannot create). */
  setAccount(key: PublicKey, data: Uint8Array, owner: PublicKey, lamports?: bigint): void {
    this.svm.setAccount({
      address: address(key.toBase58()),
      data,
      executable: false,
      lamports: (lamports ?? this.svm.minimumBalanceForRentExemption(BigInt(data.length))) as never,
      programAddress: address(owner.toBase58()),
      space: BigInt(data.length),
    } as Parameters<LiteSVM['setAccount']>[0]);
  }

  config(): ConfigAccount {
    return decodeConfig(this.mustAccount(configAddress(this.programId)).data);
  }

  market(key: PublicKey): MarketAccount {
    return decodeMarket(this.mustAccount(key).data);
  }

  position(market: PublicKey, owner: PublicKey): PositionAccount {
    return decodePosition(this.mustAccount(positionAddress(market, owner, this.programId)).data);
  }

  mustAccount(key: PublicKey) {
    const a = this.account(key);
    if (!a) throw new Error(`account ${key.toBase58()} does not exist`);
    return a;
  }

  createMint(mint: Keypair, decimals: number): void {
    this.mustSend(
      [
        SystemProgram.createAccount({
          fromPubkey: this.payer.publicKey,
          newAccountPubkey: mint.publicKey,
          lamports: Number(this.svm.minimumBalanceForRentExemption(BigInt(MINT_SIZE))),
          space: MINT_SIZE,
          programId: TOKEN_PROGRAM_ID,
        }),
        createInitializeMint2Instruction(mint.publicKey, decimals, this.mintAuthority.publicKey, null),
      ],
      [this.payer, mint],
    );
  }

  /** A token account of `mint` (default: the collateral mint) owned by `owner`, holding `amount`. */
  createTokenAccount(owner: PublicKey, amount = 0n, mint = this.mint.publicKey): PublicKey {
    const account = Keypair.generate();
    const ixs = [
      SystemProgram.createAccount({
        fromPubkey: this.payer.publicKey,
        newAccountPubkey: account.publicKey,
        lamports: Number(this.svm.minimumBalanceForRentExemption(BigInt(ACCOUNT_SIZE))),
        space: ACCOUNT_SIZE,
        programId: TOKEN_PROGRAM_ID,
      }),
      createInitializeAccount3Instruction(account.publicKey, mint, owner),
    ];
    const signers = [this.payer, account];
    if (amount > 0n) {
      ixs.push(createMintToInstruction(mint, account.publicKey, this.mintAuthority.publicKey, amount));
      signers.push(this.mintAuthority);
    }
    this.mustSend(ixs, signers);
    return account.publicKey;
  }

  tokenBalance(account: PublicKey): bigint {
    return AccountLayout.decode(this.mustAccount(account).data).amount;
  }

  /** A trader with SOL for fees and `usdc` whole collateral tokens. */
  trader(usdc = 1_000n): Trader {
    const keypair = Keypair.generate();
    this.airdrop(keypair.publicKey, 10n * 1_000_000_000n);
    return { keypair, tokenAccount: this.createTokenAccount(keypair.publicKey, usdc * USDC) };
  }

  /** Creates a market; with `pinOracle`, also pins a fresh PriceUpdateV2 address (see `oracleOf`). */
  createMarket(symbol = 'SOL-PERP', feedId = SOL_FEED, params: MarketParams = MAJOR_PARAMS, opts: { pinOracle?: boolean } = {}): PublicKey {
    this.mustSend([createMarketInstruction({ admin: this.admin.publicKey, symbol, feedId, params, programId: this.programId })], [this.admin]);
    const market = marketAddress(symbol, this.programId);
    if (opts.pinOracle) this.pinOracle(market, feedId);
    return market;
  }

  /** Pins `oracle` (default: a fresh address) as the market's PriceUpdateV2 account. */
  pinOracle(market: PublicKey, feedId = SOL_FEED, oracle = Keypair.generate().publicKey): PublicKey {
    this.mustSend([setMarketOracleInstruction({ admin: this.admin.publicKey, market, oracle, programId: this.programId })], [this.admin]);
    this.pinned.set(feedId, oracle);
    return oracle;
  }

  /** The address pinned for `feedId` by this harness. */
  oracleOf(feedId = SOL_FEED): PublicKey {
    const key = this.pinned.get(feedId);
    if (!key) throw new Error(`no oracle pinned for feed ${feedId}`);
    return key;
  }

  pushIx(updates: { market: PublicKey; price: PriceInput }[]): TransactionInstruction {
    return updateOraclePriceInstruction({ oracleAuthority: this.oracle.publicKey, updates, programId: this.programId });
  }

  push(market: PublicKey, p: PriceInput = price({}, this.clockNow)): TxResult {
    return this.send([this.pushIx([{ market, price: p }])], [this.oracle]);
  }

  mustPush(market: PublicKey, p: PriceInput = price({}, this.clockNow)): void {
    this.mustSend([this.pushIx([{ market, price: p }])], [this.oracle]);
  }

  deposit(t: Trader, market: PublicKey, amount: bigint): TxResult {
    return this.send([depositInstruction({ owner: t.keypair.publicKey, market, ownerTokenAccount: t.tokenAccount, amount, programId: this.programId })], [t.keypair]);
  }

  /** Deposits `collateral` and opens `size` at the current pushed price. */
  openWith(t: Trader, market: PublicKey, collateral: bigint, size: bigint, priceUpdate?: PublicKey): TxResult {
    const r = this.deposit(t, market, collateral);
    if (!r.ok) return r;
    return this.send([openPositionInstruction({ owner: t.keypair.publicKey, market, size, priceUpdate, programId: this.programId })], [t.keypair]);
  }

  /**
   * Writes a PriceUpdateV2 account (owned by the receiver unless `owner` says otherwise) at `key`,
   * by default the address pinned for its feed, else a fresh one. The EMA equals the price unless given.
   */
  writePythUpdate(u: {
    key?: PublicKey;
    feedId?: string;
    price?: bigint;
    conf?: bigint;
    exponent?: number;
    publishTime?: bigint;
    emaPrice?: bigint;
    verification?: VerificationLevel;
    owner?: PublicKey;
  }): PublicKey {
    const key = u.key ?? this.pinned.get(u.feedId ?? SOL_FEED) ?? Keypair.generate().publicKey;
    const publishTime = u.publishTime ?? this.clockNow - 1n;
    const data = encodePriceUpdateV2({
      writeAuthority: this.payer.publicKey,
      verification: u.verification ?? { kind: 'full' },
      feedId: u.feedId ?? SOL_FEED,
      price: u.price ?? 15_100_000_000n,
      conf: u.conf ?? 1_500_000n,
      exponent: u.exponent ?? -8,
      publishTime,
      prevPublishTime: publishTime - 1n,
      emaPrice: u.emaPrice ?? u.price ?? 15_100_000_000n,
      emaConf: u.conf ?? 1_500_000n,
      postedSlot: this.clockSlot,
    });
    this.setAccount(key, data, u.owner ?? this.pythReceiver);
    return key;
  }
}

/** LiteSVM's failure object as the plain `{ InstructionError: [i, { Custom: n }] }` shape. */
function duckTypedError(err: unknown): unknown {
  const e = err as { index?: number; err?: () => unknown };
  if (typeof e?.err === 'function') {
    const inner = e.err() as { code?: number };
    if (typeof inner?.code === 'number') return { InstructionError: [e.index ?? 0, { Custom: inner.code }] };
  }
  return undefined;
}

/** Whether `logs` contain a program log line equal to `message`. */
export function logged(logs: readonly string[], message: string): boolean {
  return logs.some((l) => l === `Program log: ${message}`);
}
