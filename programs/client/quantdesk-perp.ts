// Client for the quantdesk_perp program: instruction builders and account decoders driven by the
// Anchor-format IDL (programs/quantdesk_perp/idl/quantdesk_perp.json) through @coral-xyz/anchor's
// BorshCoder, PDA helpers, and error-code names. Account order, signer and writable flags come from
// the IDL, so the builders cannot drift from it.
import anchor, { type Idl } from '@coral-xyz/anchor';
import { PublicKey, TransactionInstruction, type AccountMeta } from '@solana/web3.js';
import idlJson from '../quantdesk_perp/idl/quantdesk_perp.json' with { type: 'json' };

// Anchor ships CommonJS whose named exports Node's ESM loader cannot see: take them from the default.
const { BN, BorshCoder } = anchor;
type BN = InstanceType<typeof BN>;

export const QUANTDESK_PERP_IDL = idlJson as unknown as Idl;
/** The address the IDL names; deployments may use another (every helper takes `programId`). */
export const QUANTDESK_PERP_PROGRAM_ID = new PublicKey(QUANTDESK_PERP_IDL.address);
export const perpCoder = new BorshCoder(QUANTDESK_PERP_IDL);

/** Scales shared with domain/decimal.ts and the program's math/constants.rs. */
export const QUOTE_DECIMALS = 6;
export const BASE_DECIMALS = 9;
export const PRICE_DECIMALS = 9;
export const SYMBOL_BYTES = 16;

// ---------------------------------------------------------------------------------------------
// Program addresses

const seed = (s: string) => Buffer.from(s, 'utf8');

export function configAddress(programId = QUANTDESK_PERP_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([seed('config')], programId)[0];
}

/** The collateral vault: an SPL token account that is its own authority. */
export function vaultAddress(programId = QUANTDESK_PERP_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([seed('vault')], programId)[0];
}

/** The insurance fund: a token account of the collateral mint that is its own authority. */
export function insuranceFundAddress(programId = QUANTDESK_PERP_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([seed('insurance_fund')], programId)[0];
}

/** The keepers' stakes: a token account of the collateral mint that is its own authority. */
export function keeperStakeVaultAddress(programId = QUANTDESK_PERP_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([seed('keeper_stake')], programId)[0];
}

/** A keeper's account: its stake, status and statistics. */
export function keeperAddress(authority: PublicKey, programId = QUANTDESK_PERP_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([seed('keeper'), authority.toBuffer()], programId)[0];
}

export function marketAddress(symbol: string, programId = QUANTDESK_PERP_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([seed('market'), symbolSeed(symbol)], programId)[0];
}

export function positionAddress(market: PublicKey, owner: PublicKey, programId = QUANTDESK_PERP_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([seed('position'), market.toBuffer(), owner.toBuffer()], programId)[0];
}

function symbolSeed(symbol: string): Buffer {
  const bytes = Buffer.from(symbol, 'ascii');
  if (bytes.length === 0 || bytes.length > SYMBOL_BYTES || !/^[A-Z0-9-]+$/.test(symbol)) {
    throw new RangeError(`symbol ${JSON.stringify(symbol)} must be 1–16 characters of A–Z, 0–9 or '-'`);
  }
  return bytes;
}

function symbolBytes(symbol: string): number[] {
  const out = new Array<number>(SYMBOL_BYTES).fill(0);
  symbolSeed(symbol).forEach((b, i) => (out[i] = b));
  return out;
}

/** A Pyth feed id as 32 bytes, from hex with or without 0x. */
export function feedIdBytes(feedId: string | Uint8Array): number[] {
  if (typeof feedId !== 'string') {
    if (feedId.length !== 32) throw new RangeError('a feed id is 32 bytes');
    return [...feedId];
  }
  const hex = feedId.replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new RangeError(`feed id ${feedId} is not 32 bytes of hex`);
  return [...Buffer.from(hex, 'hex')];
}

// ---------------------------------------------------------------------------------------------
// Instructions

/** A market's bounds and rules, as config/markets.json states them (validation, margin, liquidation). */
export interface MarketParams {
  expoMin: number;
  expoMax: number;
  maxFutureSkewSec: number;
  /** A last good price older than this no longer anchors the sanity band (the display age). */
  maxAgeDisplaySec: number;
  maxAgePushSec: number;
  maxAgeMarginSec: number;
  maxAgeLiquidationSec: number;
  maxConfPushBps: number;
  maxConfMarginBps: number;
  maxConfLiquidationBps: number;
  initialMarginBps: number;
  maintenanceMarginBps: number;
  liquidationFeeBps: number;
  /** Largest move of a Pyth price against the market's last good price that margin and liquidation accept. */
  sanityBandBps: number;
  /** Largest distance of a Pyth price from its EMA that margin and liquidation accept. */
  emaBandBps: number;
  /** A partial liquidation restores maintenance margin plus this buffer. */
  liquidationBufferBps: number;
  /** The insurance fund's share of every liquidation fee. */
  insuranceFeeShareBps: number;
  /** Quote units: a remainder whose notional would be below this is liquidated too. */
  minPositionNotional: bigint;
  /** Whether anyone may liquidate once `permissionlessAfterSlots` passed without a registered keeper. */
  permissionlessLiquidation: boolean;
  permissionlessAfterSlots: bigint;
}

/** The parts of a config/markets.json entry (domain/markets.ts) that the program enforces. */
export interface RegistryMarketBounds {
  validation: {
    expoRange: readonly [number, number];
    maxAgeSec: { display: number; push: number; margin: number; liquidation: number };
    maxConfBps: { push: number; margin: number; liquidation: number };
    maxFutureSkewSec: number;
    sanityBandBps: number;
    emaBandBps: number;
  };
  margin: { initialBps: number; maintenanceBps: number; liquidationFeeBps: number };
  liquidation: {
    liquidationBufferBps: number;
    insuranceFeeShareBps: number;
    /** Quote units, as a decimal string. */
    minPositionNotional: string;
    permissionlessFallback: boolean;
    permissionlessAfterSlots: number;
  };
}

/** A registry market's bounds as `create_market` takes them. */
export function marketParamsFromRegistry(m: RegistryMarketBounds): MarketParams {
  const v = m.validation;
  return {
    expoMin: v.expoRange[0],
    expoMax: v.expoRange[1],
    maxFutureSkewSec: v.maxFutureSkewSec,
    maxAgeDisplaySec: v.maxAgeSec.display,
    maxAgePushSec: v.maxAgeSec.push,
    maxAgeMarginSec: v.maxAgeSec.margin,
    maxAgeLiquidationSec: v.maxAgeSec.liquidation,
    maxConfPushBps: v.maxConfBps.push,
    maxConfMarginBps: v.maxConfBps.margin,
    maxConfLiquidationBps: v.maxConfBps.liquidation,
    initialMarginBps: m.margin.initialBps,
    maintenanceMarginBps: m.margin.maintenanceBps,
    liquidationFeeBps: m.margin.liquidationFeeBps,
    sanityBandBps: v.sanityBandBps,
    emaBandBps: v.emaBandBps,
    liquidationBufferBps: m.liquidation.liquidationBufferBps,
    insuranceFeeShareBps: m.liquidation.insuranceFeeShareBps,
    minPositionNotional: BigInt(m.liquidation.minPositionNotional),
    permissionlessLiquidation: m.liquidation.permissionlessFallback,
    permissionlessAfterSlots: BigInt(m.liquidation.permissionlessAfterSlots),
  };
}

/** One pushed price: price × 10^expo ± conf × 10^expo at publishTime (Unix seconds). */
export interface PriceInput {
  price: bigint;
  conf: bigint;
  expo: number;
  publishTime: bigint;
}

const bn = (v: bigint | number) => new BN(v.toString());

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A params object with the IDL's snake_case field names; bigints become BN. */
function snakeCase(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [snake(k), typeof v === 'bigint' ? bn(v) : v]));
}

/** The named fields of a decoded object, camelCased; BN becomes bigint. */
function camelCase<T>(r: Record<string, unknown>, keys: readonly (keyof T & string)[]): T {
  return Object.fromEntries(keys.map((k) => {
    const v = r[snake(k)];
    return [k, BN.isBN(v) ? BigInt((v as BN).toString()) : v];
  })) as T;
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The camelCased field names of an IDL struct type. */
function idlFields(typeName: string): string[] {
  const t = QUANTDESK_PERP_IDL.types?.find((x) => x.name === typeName);
  if (!t || t.type.kind !== 'struct' || !Array.isArray(t.type.fields)) throw new Error(`IDL type ${typeName} is not a struct`);
  return (t.type.fields as { name: string }[]).map((f) => camel(f.name));
}

const MARKET_PARAM_KEYS = idlFields('MarketParams') as (keyof MarketParams & string)[];

type IdlInstruction = Idl['instructions'][number];
type IdlAccountItem = IdlInstruction['accounts'][number];

function idlInstruction(name: string): IdlInstruction {
  const ix = QUANTDESK_PERP_IDL.instructions.find((i) => i.name === name);
  if (!ix) throw new Error(`instruction ${name} is not in the IDL`);
  return ix;
}

/**
 * Account metas in the IDL's order. Accounts with a fixed address in the IDL are filled in;
 * optional accounts left out are omitted (a market that pins no price account takes none).
 */
function accountMetas(name: string, given: Record<string, PublicKey | undefined>): AccountMeta[] {
  const metas: AccountMeta[] = [];
  for (const item of idlInstruction(name).accounts as IdlAccountItem[]) {
    if ('accounts' in item) throw new Error(`instruction ${name}: nested account groups are not used by this program`);
    const a = item as { name: string; writable?: boolean; signer?: boolean; optional?: boolean; address?: string };
    const pubkey = given[a.name] ?? (a.address ? new PublicKey(a.address) : undefined);
    if (!pubkey) {
      if (a.optional) continue;
      throw new Error(`instruction ${name}: account ${a.name} is required`);
    }
    metas.push({ pubkey, isSigner: a.signer ?? false, isWritable: a.writable ?? false });
  }
  return metas;
}

function instruction(name: string, args: Record<string, unknown>, accounts: Record<string, PublicKey | undefined>, programId: PublicKey, remaining: AccountMeta[] = []) {
  return new TransactionInstruction({
    programId,
    keys: [...accountMetas(name, accounts), ...remaining],
    data: perpCoder.instruction.encode(name, args),
  });
}

export function initializeInstruction(p: {
  admin: PublicKey;
  mint: PublicKey;
  oracleAuthority: PublicKey;
  pythReceiver: PublicKey;
  maxKeeperFeeBps: number;
  programId?: PublicKey;
}): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'initialize',
    { oracle_authority: p.oracleAuthority, pyth_receiver: p.pythReceiver, max_keeper_fee_bps: p.maxKeeperFeeBps },
    { admin: p.admin, config: configAddress(programId), mint: p.mint, vault: vaultAddress(programId) },
    programId,
  );
}

export function createMarketInstruction(p: {
  admin: PublicKey;
  symbol: string;
  feedId: string | Uint8Array;
  params: MarketParams;
  programId?: PublicKey;
}): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  const m = p.params;
  return instruction(
    'create_market',
    {
      symbol: symbolBytes(p.symbol),
      feed_id: feedIdBytes(p.feedId),
      params: snakeCase(m),
    },
    { admin: p.admin, config: configAddress(programId), market: marketAddress(p.symbol, programId) },
    programId,
  );
}

/**
 * Pins the Pyth PriceUpdateV2 account `market` trusts (on a real cluster, the receiver's sponsored
 * feed account); from then on margin and liquidation must pass exactly it. `null` unpins.
 */
export function setMarketOracleInstruction(p: { admin: PublicKey; market: PublicKey; oracle: PublicKey | null; programId?: PublicKey }): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction('set_market_oracle', { oracle: p.oracle ?? PublicKey.default }, { admin: p.admin, config: configAddress(programId), market: p.market }, programId);
}

/** Pushes prices for several markets in one instruction (the program takes up to 32). */
export function updateOraclePriceInstruction(p: {
  oracleAuthority: PublicKey;
  updates: { market: PublicKey; price: PriceInput }[];
  programId?: PublicKey;
}): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'update_oracle_price',
    { updates: p.updates.map(({ price: u }) => ({ price: bn(u.price), conf: bn(u.conf), expo: u.expo, publish_time: bn(u.publishTime) })) },
    { oracle_authority: p.oracleAuthority, config: configAddress(programId) },
    programId,
    p.updates.map((u) => ({ pubkey: u.market, isSigner: false, isWritable: true })),
  );
}

export function depositInstruction(p: { owner: PublicKey; market: PublicKey; ownerTokenAccount: PublicKey; amount: bigint; programId?: PublicKey }): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'deposit',
    { amount: bn(p.amount) },
    {
      owner: p.owner,
      config: configAddress(programId),
      market: p.market,
      position: positionAddress(p.market, p.owner, programId),
      owner_token_account: p.ownerTokenAccount,
      vault: vaultAddress(programId),
    },
    programId,
  );
}

export function withdrawInstruction(p: {
  owner: PublicKey;
  market: PublicKey;
  ownerTokenAccount: PublicKey;
  amount: bigint;
  priceUpdate?: PublicKey;
  programId?: PublicKey;
}): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'withdraw',
    { amount: bn(p.amount) },
    {
      owner: p.owner,
      config: configAddress(programId),
      market: p.market,
      position: positionAddress(p.market, p.owner, programId),
      owner_token_account: p.ownerTokenAccount,
      vault: vaultAddress(programId),
      price_update: p.priceUpdate,
    },
    programId,
  );
}

/** Opens a position of `size` base units (10^-9; negative for a short). */
export function openPositionInstruction(p: { owner: PublicKey; market: PublicKey; size: bigint; priceUpdate?: PublicKey; programId?: PublicKey }): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'open_position',
    { size: bn(p.size) },
    { owner: p.owner, config: configAddress(programId), market: p.market, position: positionAddress(p.market, p.owner, programId), price_update: p.priceUpdate },
    programId,
  );
}

export function closePositionInstruction(p: { owner: PublicKey; market: PublicKey; priceUpdate?: PublicKey; programId?: PublicKey }): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'close_position',
    {},
    { owner: p.owner, config: configAddress(programId), market: p.market, position: positionAddress(p.market, p.owner, programId), price_update: p.priceUpdate },
    programId,
  );
}

/**
 * Liquidates `owner`'s position in `market` (partially or fully, as the program decides); the
 * keeper's share of the fee goes to `keeperTokenAccount`. `keeper` signs: a registered keeper, or
 * anyone where the market allows permissionless liquidation. Pass the market's pinned account as
 * `priceUpdate` (MarketAccount.oracle).
 */
export function liquidateInstruction(p: {
  keeper: PublicKey;
  market: PublicKey;
  owner: PublicKey;
  keeperTokenAccount: PublicKey;
  priceUpdate?: PublicKey;
  programId?: PublicKey;
}): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'liquidate',
    {},
    {
      keeper: p.keeper,
      config: configAddress(programId),
      market: p.market,
      position: positionAddress(p.market, p.owner, programId),
      keeper_account: keeperAddress(p.keeper, programId),
      keeper_token_account: p.keeperTokenAccount,
      vault: vaultAddress(programId),
      insurance_fund: insuranceFundAddress(programId),
      price_update: p.priceUpdate,
    },
    programId,
  );
}

/** Creates the insurance fund and the keeper stake vault (admin, once). */
export function initializeKeeperNetworkInstruction(p: {
  admin: PublicKey;
  mint: PublicKey;
  /** Quote units. */
  minKeeperStake: bigint;
  keeperCooldownSlots: bigint;
  programId?: PublicKey;
}): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'initialize_keeper_network',
    { min_keeper_stake: bn(p.minKeeperStake), keeper_cooldown_slots: bn(p.keeperCooldownSlots) },
    {
      admin: p.admin,
      config: configAddress(programId),
      mint: p.mint,
      insurance_fund: insuranceFundAddress(programId),
      keeper_stake_vault: keeperStakeVaultAddress(programId),
    },
    programId,
  );
}

/** Locks `stake` quote units from `authorityTokenAccount` and registers `authority` as a keeper. */
export function registerKeeperInstruction(p: { authority: PublicKey; authorityTokenAccount: PublicKey; stake: bigint; programId?: PublicKey }): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'register_keeper',
    { stake: bn(p.stake) },
    {
      authority: p.authority,
      config: configAddress(programId),
      keeper: keeperAddress(p.authority, programId),
      authority_token_account: p.authorityTokenAccount,
      keeper_stake_vault: keeperStakeVaultAddress(programId),
    },
    programId,
  );
}

/** Starts the cooldown after which the stake can be withdrawn; the keeper stops liquidating. */
export function deregisterKeeperInstruction(p: { authority: PublicKey; programId?: PublicKey }): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction('deregister_keeper', {}, { authority: p.authority, keeper: keeperAddress(p.authority, programId) }, programId);
}

/** Returns the stake to `authorityTokenAccount` once the cooldown has passed. */
export function withdrawKeeperStakeInstruction(p: { authority: PublicKey; authorityTokenAccount: PublicKey; programId?: PublicKey }): TransactionInstruction {
  const programId = p.programId ?? QUANTDESK_PERP_PROGRAM_ID;
  return instruction(
    'withdraw_keeper_stake',
    {},
    {
      authority: p.authority,
      config: configAddress(programId),
      keeper: keeperAddress(p.authority, programId),
      authority_token_account: p.authorityTokenAccount,
      keeper_stake_vault: keeperStakeVaultAddress(programId),
    },
    programId,
  );
}

// ---------------------------------------------------------------------------------------------
// Accounts

export interface ConfigAccount {
  admin: PublicKey;
  oracleAuthority: PublicKey;
  pythReceiver: PublicKey;
  mint: PublicKey;
  vault: PublicKey;
  /** Null until initialize_keeper_network. */
  insuranceFund: PublicKey | null;
  keeperStakeVault: PublicKey | null;
  /** Quote units. */
  minKeeperStake: bigint;
  keeperCooldownSlots: bigint;
  maxKeeperFeeBps: number;
  bump: number;
  vaultBump: number;
  insuranceFundBump: number;
  keeperStakeVaultBump: number;
}

export interface MarketAccount {
  symbol: string;
  /** Lower-case hex, no 0x (as in config/markets.json after parsing). */
  feedId: string;
  /** The pinned Pyth PriceUpdateV2 account, to pass as `priceUpdate`; null: none (pushed prices only). */
  oracle: PublicKey | null;
  /** The pushed price; 0 when nothing was pushed yet. */
  price: bigint;
  conf: bigint;
  expo: number;
  publishTime: bigint;
  priceSlot: bigint;
  /** The last price margin or liquidation used (mantissa at `lastUsedExpo`). */
  lastUsedPrice: bigint;
  lastUsedExpo: number;
  /** The watermark: no price published before max(this, publishTime) is used again; 0 before the first use. */
  lastUsedPublishTime: bigint;
  /** Losses beyond collateral the insurance fund could not cover, quote units, cumulative. */
  badDebt: bigint;
  /** Losses beyond collateral the insurance fund covered, quote units, cumulative. */
  insuranceCovered: bigint;
  params: MarketParams;
  bump: number;
}

export interface PositionAccount {
  owner: PublicKey;
  market: PublicKey;
  /** Quote units (10^-6). */
  collateral: bigint;
  /** Base units (10^-9), long > 0. */
  size: bigint;
  /** 10^-9 USD per base unit; 0 when flat. */
  entryPrice: bigint;
  openSlot: bigint;
  /** When a liquidator that is not a registered keeper first saw it liquidatable; 0 otherwise. */
  liquidatableSinceSlot: bigint;
  /** Slot of the last liquidation (partial ones leave the position open); 0 when never liquidated. */
  lastLiquidationSlot: bigint;
  bump: number;
}

export type KeeperStatus = 'inactive' | 'active' | 'deregistering';
const KEEPER_STATUS: readonly KeeperStatus[] = ['inactive', 'active', 'deregistering'];

export interface KeeperAccount {
  authority: PublicKey;
  /** Quote units locked in the keeper stake vault. */
  stake: bigint;
  registeredSlot: bigint;
  /** The slot the cooldown counts from; 0 while active. */
  deregisteredSlot: bigint;
  liquidations: bigint;
  /** Notional liquidated, quote units. */
  volumeLiquidated: bigint;
  /** Fees received, quote units. */
  rewardsEarned: bigint;
  lastActiveSlot: bigint;
  status: KeeperStatus;
  bump: number;
}

/** What the coder decodes: untyped Borsh objects keyed by the IDL's field names. */
type Raw = Record<string, any>;
const big = (v: BN) => BigInt(v.toString());
const orNull = (k: PublicKey) => (k.equals(PublicKey.default) ? null : k);

export function decodeConfig(data: Uint8Array): ConfigAccount {
  const r: Raw = perpCoder.accounts.decode('Config', Buffer.from(data));
  return {
    admin: r.admin,
    oracleAuthority: r.oracle_authority,
    pythReceiver: r.pyth_receiver,
    mint: r.mint,
    vault: r.vault,
    insuranceFund: orNull(r.insurance_fund),
    keeperStakeVault: orNull(r.keeper_stake_vault),
    minKeeperStake: big(r.min_keeper_stake),
    keeperCooldownSlots: big(r.keeper_cooldown_slots),
    maxKeeperFeeBps: r.max_keeper_fee_bps,
    bump: r.bump,
    vaultBump: r.vault_bump,
    insuranceFundBump: r.insurance_fund_bump,
    keeperStakeVaultBump: r.keeper_stake_vault_bump,
  };
}

export function decodeMarket(data: Uint8Array): MarketAccount {
  const r: Raw = perpCoder.accounts.decode('Market', Buffer.from(data));
  const symbol = Buffer.from(r.symbol as number[]);
  const end = symbol.indexOf(0);
  return {
    symbol: symbol.subarray(0, end < 0 ? SYMBOL_BYTES : end).toString('ascii'),
    feedId: Buffer.from(r.feed_id as number[]).toString('hex'),
    oracle: orNull(r.oracle),
    price: big(r.price),
    conf: big(r.conf),
    expo: r.expo,
    publishTime: big(r.publish_time),
    priceSlot: big(r.price_slot),
    lastUsedPrice: big(r.last_used_price),
    lastUsedExpo: r.last_used_expo,
    lastUsedPublishTime: big(r.last_used_publish_time),
    badDebt: big(r.bad_debt),
    insuranceCovered: big(r.insurance_covered),
    params: camelCase<MarketParams>(r, MARKET_PARAM_KEYS),
    bump: r.bump,
  };
}

export function decodePosition(data: Uint8Array): PositionAccount {
  const r: Raw = perpCoder.accounts.decode('Position', Buffer.from(data));
  return {
    owner: r.owner,
    market: r.market,
    collateral: big(r.collateral),
    size: big(r.size),
    entryPrice: big(r.entry_price),
    openSlot: big(r.open_slot),
    liquidatableSinceSlot: big(r.liquidatable_since_slot),
    lastLiquidationSlot: big(r.last_liquidation_slot),
    bump: r.bump,
  };
}

export function decodeKeeper(data: Uint8Array): KeeperAccount {
  const r: Raw = perpCoder.accounts.decode('Keeper', Buffer.from(data));
  const status = KEEPER_STATUS[r.status as number];
  if (status === undefined) throw new Error(`keeper status ${r.status} is unknown`);
  return {
    authority: r.authority,
    stake: big(r.stake),
    registeredSlot: big(r.registered_slot),
    deregisteredSlot: big(r.deregistered_slot),
    liquidations: big(r.liquidations),
    volumeLiquidated: big(r.volume_liquidated),
    rewardsEarned: big(r.rewards_earned),
    lastActiveSlot: big(r.last_active_slot),
    status,
    bump: r.bump,
  };
}

/** Account sizes, for getProgramAccounts filters. */
export const ACCOUNT_SIZE = {
  Config: perpCoder.accounts.size('Config'),
  Market: perpCoder.accounts.size('Market'),
  Position: perpCoder.accounts.size('Position'),
  Keeper: perpCoder.accounts.size('Keeper'),
} as const;

/** Anchor account discriminators (the first 8 bytes of each account), for memcmp filters. */
export function accountDiscriminator(name: 'Config' | 'Market' | 'Position' | 'Keeper'): Buffer {
  return perpCoder.accounts.accountDiscriminator(name);
}

// ---------------------------------------------------------------------------------------------
// Events

/** One liquidation, partial or full (amounts in quote units, sizes in base units, price at 10^-9). */
export interface LiquidationEvent {
  market: PublicKey;
  position: PublicKey;
  owner: PublicKey;
  keeper: PublicKey;
  registeredKeeper: boolean;
  full: boolean;
  sizeLiquidated: bigint;
  remainingSize: bigint;
  price: bigint;
  publishTime: bigint;
  priceSource: 'pushed' | 'pyth';
  notionalLiquidated: bigint;
  realizedPnl: bigint;
  keeperFee: bigint;
  insuranceFee: bigint;
  insuranceCover: bigint;
  badDebt: bigint;
  remainingCollateral: bigint;
  slot: bigint;
}

/** A liquidator that is not a registered keeper first saw the position liquidatable; anyone may from `eligibleSlot`. */
export interface LiquidationDeferred {
  market: PublicKey;
  position: PublicKey;
  liquidator: PublicKey;
  price: bigint;
  publishTime: bigint;
  seenSlot: bigint;
  eligibleSlot: bigint;
}

export type PerpEvent = { name: 'LiquidationEvent'; data: LiquidationEvent } | { name: 'LiquidationDeferred'; data: LiquidationDeferred };

/**
 * The program's events in a transaction's logs (`Program data: <base64>` lines, Anchor's
 * encoding), in order. Lines of other programs that happen to decode are not told apart: pass the
 * logs of transactions that call this program.
 */
export function parsePerpEvents(logs: readonly string[]): PerpEvent[] {
  const out: PerpEvent[] = [];
  for (const line of logs) {
    const m = /^Program data: (\S+)$/.exec(line);
    const decoded = m ? perpCoder.events.decode(m[1]!) : null;
    if (!decoded) continue;
    const data = camelCase<Record<string, unknown>>(decoded.data as Raw, idlFields(decoded.name));
    if (decoded.name === 'LiquidationEvent') {
      out.push({ name: 'LiquidationEvent', data: { ...data, priceSource: data.priceSource === 1 ? 'pyth' : 'pushed' } as unknown as LiquidationEvent });
    } else if (decoded.name === 'LiquidationDeferred') {
      out.push({ name: 'LiquidationDeferred', data: data as unknown as LiquidationDeferred });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Errors

export interface PerpErrorInfo {
  code: number;
  name: string;
  msg: string;
}

export const PERP_ERRORS: ReadonlyMap<number, PerpErrorInfo> = new Map(
  (QUANTDESK_PERP_IDL.errors ?? []).map((e) => [e.code, { code: e.code, name: e.name, msg: e.msg ?? e.name }]),
);

/** The program's error name for a custom error code, e.g. 6023 → "PriceStale". */
export function perpErrorName(code: number): string | undefined {
  return PERP_ERRORS.get(code)?.name;
}

/** The code of a program error by name, e.g. "PriceStale" → 6023. */
export function perpErrorCode(name: string): number {
  for (const e of PERP_ERRORS.values()) if (e.name === name) return e.code;
  throw new Error(`no program error named ${name}`);
}

/**
 * The program's price errors as domain/validation.ts names the same reasons, so a refused push or
 * trade can be recorded under the reason the off-chain validation would give.
 */
export const PRICE_ERROR_REASONS: Readonly<Record<string, string>> = Object.freeze({
  ExponentOutOfRange: 'exponent_out_of_range',
  NonPositivePrice: 'non_positive_price',
  PriceInFuture: 'future_publish_time',
  PriceStale: 'stale',
  PublishTimeRegressed: 'publish_time_regressed',
  PublishTimeDuplicate: 'duplicate',
  ConfidenceTooWide: 'confidence_too_wide',
  SanityBandExceeded: 'sanity_band_exceeded',
  EmaBandExceeded: 'ema_band_exceeded',
});

/**
 * The custom error code of a failed transaction, from what a client sees: a web3.js error value
 * `{ InstructionError: [index, { Custom: code }] }`, an error carrying it (`err`, `transactionError`),
 * or program logs ("custom program error: 0x1777").
 */
export function customErrorCode(failure: unknown, logs: readonly string[] = []): number | undefined {
  const visit = (v: unknown, depth: number): number | undefined => {
    if (depth > 4 || v === null || typeof v !== 'object') return undefined;
    const o = v as Record<string, unknown>;
    const ie = o.InstructionError;
    if (Array.isArray(ie) && ie[1] && typeof ie[1] === 'object' && typeof (ie[1] as { Custom?: unknown }).Custom === 'number') {
      return (ie[1] as { Custom: number }).Custom;
    }
    for (const key of ['err', 'transactionError', 'value', 'cause']) {
      const found = visit(o[key], depth + 1);
      if (found !== undefined) return found;
    }
    if (Array.isArray(o.logs)) return fromLogs(o.logs as string[]);
    return undefined;
  };
  return visit(failure, 0) ?? fromLogs(logs);
}

function fromLogs(logs: readonly string[]): number | undefined {
  for (const line of logs) {
    const m = /custom program error: 0x([0-9a-f]+)/i.exec(line);
    if (m) return parseInt(m[1]!, 16);
  }
  return undefined;
}
