import { BASE_DECIMALS, BPS, PRICE_DECIMALS, QUOTE_DECIMALS, divRound, pow10, type Rounding } from './decimal.ts';
import type { LiquidationParams, MarginParams, Market } from './markets.ts';

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

/** What a liquidation needs of a market: maintenance margin and fee, buffer, fee split and minimum. */
export type LiquidationRules = Pick<MarginParams, 'maintenanceBps' | 'liquidationFeeBps'> &
  Pick<LiquidationParams, 'liquidationBufferBps' | 'insuranceFeeShareBps'> & {
    /** Quote units. */
    minPositionNotional: bigint;
  };

export function liquidationRules(m: Pick<Market, 'margin' | 'liquidation'>): LiquidationRules {
  return {
    maintenanceBps: m.margin.maintenanceBps,
    liquidationFeeBps: m.margin.liquidationFeeBps,
    liquidationBufferBps: m.liquidation.liquidationBufferBps,
    insuranceFeeShareBps: m.liquidation.insuranceFeeShareBps,
    minPositionNotional: BigInt(m.liquidation.minPositionNotional),
  };
}

export interface LiquidationPlan {
  /** The whole position goes. */
  full: boolean;
  /** Base units, signed like the position. */
  sizeLiquidated: bigint;
  remainingSize: bigint;
  /** Quote units (floor) of the liquidated size at the mark: the keeper's volume. */
  notionalLiquidated: bigint;
  realizedPnl: bigint;
  /** keeperFee + insuranceFee. */
  fee: bigint;
  keeperFee: bigint;
  insuranceFee: bigint;
  /** What stays as the owner's collateral. */
  remainingCollateral: bigint;
  /** The loss beyond collateral, covered by the insurance fund up to its balance… */
  lossBeyondCollateral: bigint;
  insuranceCover: bigint;
  /** …and bad debt beyond that. */
  badDebt: bigint;
}

/**
 * A liquidation as the program performs it (Drift's rules, simplified; tests/vectors/liquidation.json
 * pins both): below maintenance margin at `mark`, liquidate the least size d whose remainder, after
 * the fee on d, meets maintenance + buffer with one quote unit of allowance for rounding —
 *   d = ⌈(a·P·(m + b) − 10⁴·(C·K − K + s·(P − E))) / (P·(m + b − f))⌉, at least 1  (a = |s|) —
 * or all of it when d reaches the size or the remainder's notional would be below the minimum. The
 * remainder keeps its entry price. The fee is split (the insurance fund's share, floored; the rest to
 * the keeper); a loss beyond collateral takes the insurance fund first and is bad debt beyond it.
 * Undefined when the position is not liquidatable.
 */
export function planLiquidation(p: Position, mark: bigint, rules: LiquidationRules, insuranceBalance: bigint): LiquidationPlan | undefined {
  if (!isLiquidatable(p, mark, { initialBps: rules.maintenanceBps, maintenanceBps: rules.maintenanceBps, liquidationFeeBps: rules.liquidationFeeBps })) return undefined;
  const a = abs(p.size);
  const sign = p.size > 0n ? 1n : -1n;
  const target = BigInt(rules.maintenanceBps + rules.liquidationBufferBps);
  const feeBps = BigInt(rules.liquidationFeeBps);
  const fee = (n: bigint) => (n * feeBps) / BPS;
  const shortfall = a * mark * target - BPS * (p.collateral * NOTIONAL_DIVISOR - NOTIONAL_DIVISOR + p.size * (mark - p.entryPrice));
  const least = shortfall <= 0n ? 1n : divRound(shortfall, mark * (target - feeBps), 'ceil');
  const d = least < 1n ? 1n : least;
  const split = (plan: Omit<LiquidationPlan, 'keeperFee' | 'insuranceFee'>): LiquidationPlan => {
    const insuranceFee = (plan.fee * BigInt(rules.insuranceFeeShareBps)) / BPS;
    return { ...plan, keeperFee: plan.fee - insuranceFee, insuranceFee };
  };
  if (d < a && notional(a - d, mark) >= rules.minPositionNotional) {
    const delta = sign * d;
    const realizedPnl = unrealizedPnl({ ...p, size: delta }, mark);
    const notionalLiquidated = notional(delta, mark);
    const f = fee(notionalLiquidated);
    const left = p.collateral + realizedPnl - f;
    // A position in profit with almost no collateral cannot pay the fee from a part of it.
    if (left >= 0n) {
      return split({
        full: false,
        sizeLiquidated: delta,
        remainingSize: p.size - delta,
        notionalLiquidated,
        realizedPnl,
        fee: f,
        remainingCollateral: left,
        lossBeyondCollateral: 0n,
        insuranceCover: 0n,
        badDebt: 0n,
      });
    }
  }
  const realizedPnl = unrealizedPnl(p, mark);
  const rest = p.collateral + realizedPnl;
  const left = rest > 0n ? rest : 0n;
  const notionalLiquidated = notional(p.size, mark);
  const f = fee(notionalLiquidated) < left ? fee(notionalLiquidated) : left;
  const loss = rest < 0n ? -rest : 0n;
  const insuranceCover = loss < insuranceBalance ? loss : insuranceBalance;
  return split({
    full: true,
    sizeLiquidated: p.size,
    remainingSize: 0n,
    notionalLiquidated,
    realizedPnl,
    fee: f,
    remainingCollateral: left - f,
    lossBeyondCollateral: loss,
    insuranceCover,
    badDebt: loss - insuranceCover,
  });
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
