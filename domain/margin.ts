import { BASE_DECIMALS, BPS, PRICE_DECIMALS, QUOTE_DECIMALS, divRound, pow10, type Rounding } from './decimal.ts';
import type { MarginParams } from './markets.ts';

/**
 * Margin and PnL of a perpetual position, exact in integers. Units:
 *   size        signed base units, 10^-BASE_DECIMALS (positive long, negative short)
 *   prices      10^-PRICE_DECIMALS USD per base unit
 *   collateral  quote units, 10^-QUOTE_DECIMALS USD
 * Decisions (liquidatable, initial margin met) compare exact products and never round;
 * amounts shown or settled round in the protocol's favour unless asked otherwise.
 * The Rust program implements the same formulas; tests/vectors/margin.json pins both.
 */

/** size × price / K is a quote amount. */
export const NOTIONAL_DIVISOR = pow10(BASE_DECIMALS + PRICE_DECIMALS - QUOTE_DECIMALS);

export interface Position {
  size: bigint;
  entryPrice: bigint;
  collateral: bigint;
}

const abs = (x: bigint) => (x < 0n ? -x : x);

export class MarginError extends Error {
  constructor(
    readonly code: 'INVALID_POSITION' | 'INVALID_PRICE',
    message: string,
  ) {
    super(message);
    this.name = 'MarginError';
  }
}

function check(p: Position, mark?: bigint): void {
  if (p.collateral < 0n) throw new MarginError('INVALID_POSITION', `collateral ${p.collateral} is negative`);
  if (p.size !== 0n && p.entryPrice <= 0n) throw new MarginError('INVALID_POSITION', `entry price ${p.entryPrice} is not positive`);
  if (mark !== undefined && mark <= 0n) throw new MarginError('INVALID_PRICE', `mark price ${mark} is not positive`);
}

/** |size| × price in quote units. */
export function notional(size: bigint, price: bigint, rounding: Rounding = 'floor'): bigint {
  return divRound(abs(size) * price, NOTIONAL_DIVISOR, rounding);
}

/** size × (mark − entry) in quote units; floor by default (the trader's loss rounds up). */
export function unrealizedPnl(p: Position, mark: bigint, rounding: Rounding = 'floor'): bigint {
  check(p, mark);
  return divRound(p.size * (mark - p.entryPrice), NOTIONAL_DIVISOR, rounding);
}

/** Collateral plus unrealised PnL, quote units (may be negative: bad debt). */
export function equity(p: Position, mark: bigint): bigint {
  return p.collateral + unrealizedPnl(p, mark);
}

/** Equity scaled by NOTIONAL_DIVISOR × BPS, exact: the left side of every margin comparison. */
function scaledEquity(p: Position, mark: bigint): bigint {
  return BPS * (p.collateral * NOTIONAL_DIVISOR + p.size * (mark - p.entryPrice));
}

/** Required margin at `bps` of notional, scaled like `scaledEquity`. */
function scaledRequirement(p: Position, mark: bigint, bps: number): bigint {
  return abs(p.size) * mark * BigInt(bps);
}

/** Equity below maintenance margin: the position may be liquidated. Exact. */
export function isLiquidatable(p: Position, mark: bigint, params: MarginParams): boolean {
  check(p, mark);
  if (p.size === 0n) return false;
  return scaledEquity(p, mark) < scaledRequirement(p, mark, params.maintenanceBps);
}

/** Equity at or above initial margin: the position may be opened, increased, or collateral withdrawn. Exact. */
export function meetsInitialMargin(p: Position, mark: bigint, params: MarginParams): boolean {
  check(p, mark);
  if (p.size === 0n) return p.collateral >= 0n;
  return scaledEquity(p, mark) >= scaledRequirement(p, mark, params.initialBps);
}

export function maintenanceMargin(p: Position, mark: bigint, params: MarginParams): bigint {
  return divRound(notional(p.size, mark, 'ceil') * BigInt(params.maintenanceBps), BPS, 'ceil');
}

export function initialMargin(p: Position, mark: bigint, params: MarginParams): bigint {
  return divRound(notional(p.size, mark, 'ceil') * BigInt(params.initialBps), BPS, 'ceil');
}

/** Equity / notional in basis points (floor); undefined without a position. */
export function marginRatioBps(p: Position, mark: bigint): bigint | undefined {
  check(p, mark);
  if (p.size === 0n) return undefined;
  return divRound(scaledEquity(p, mark), abs(p.size) * mark, 'floor');
}

/**
 * The price at which the position becomes liquidatable: a long is liquidatable at every price below
 * it, a short at every price above it (exactly, for integer prices). Undefined when there is none:
 * no position, or a long so well collateralised that only a price ≤ 0 would do.
 *   long:  P* = (s·E − C·K)·10⁴ / (s·(10⁴ − m))     rounded up
 *   short: P* = (C·K + a·E)·10⁴ / (a·(10⁴ + m))     rounded down  (a = |s|)
 */
export function liquidationPrice(p: Position, params: MarginParams): bigint | undefined {
  check(p);
  if (p.size === 0n) return undefined;
  const m = BigInt(params.maintenanceBps);
  const ck = p.collateral * NOTIONAL_DIVISOR;
  if (p.size > 0n) {
    const num = (p.size * p.entryPrice - ck) * BPS;
    if (num <= 0n) return undefined;
    return divRound(num, p.size * (BPS - m), 'ceil');
  }
  const a = -p.size;
  return divRound((ck + a * p.entryPrice) * BPS, a * (BPS + m), 'floor');
}

/** Unrealised PnL at mark ∓ conf: the band the confidence interval allows. */
export function pnlBand(p: Position, mark: bigint, conf: bigint): { low: bigint; high: bigint } {
  const down = mark - conf > 0n ? mark - conf : 1n;
  const a = unrealizedPnl(p, down);
  const b = unrealizedPnl(p, mark + conf);
  return a <= b ? { low: a, high: b } : { low: b, high: a };
}

/**
 * Closing a position by liquidation at `mark`: PnL settles against collateral; the keeper's fee
 * (liquidationFeeBps of notional) comes out of what is left, never more; the rest returns to the
 * owner. A loss beyond collateral is bad debt.
 */
export function settleLiquidation(p: Position, mark: bigint, params: MarginParams) {
  const pnl = unrealizedPnl(p, mark);
  const remaining = p.collateral + pnl;
  const badDebt = remaining < 0n ? -remaining : 0n;
  const left = remaining > 0n ? remaining : 0n;
  const fee = divRound(notional(p.size, mark) * BigInt(params.liquidationFeeBps), BPS, 'floor');
  const keeperFee = fee < left ? fee : left;
  return { pnl, keeperFee, toOwner: left - keeperFee, badDebt };
}

/** Health for warnings: `warning` once equity is within `warnBufferBps` of maintenance margin. */
export type MarginHealth = 'none' | 'healthy' | 'warning' | 'liquidatable';

export function marginHealth(p: Position, mark: bigint, params: MarginParams, warnBufferBps = 250): MarginHealth {
  if (p.size === 0n) return 'none';
  if (isLiquidatable(p, mark, params)) return 'liquidatable';
  const warnAt = { ...params, maintenanceBps: params.maintenanceBps + warnBufferBps };
  return isLiquidatable(p, mark, warnAt) ? 'warning' : 'healthy';
}

/** A Pyth (price, expo) at PRICE_DECIMALS, for margin math. */
export function toMarginPrice(price: bigint, expo: number, rounding: Rounding = 'trunc'): bigint {
  const shift = PRICE_DECIMALS + expo;
  return shift >= 0 ? price * pow10(shift) : divRound(price, pow10(-shift), rounding);
}
