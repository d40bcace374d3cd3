import {
  NOTIONAL_DIVISOR,
  initialMargin,
  liquidationPrice,
  marginRatioBps,
  meetsInitialMargin,
  notional,
  toMarginPrice,
  unrealizedPnl,
  type Position,
} from '$domain/margin.ts';
import type { MarginParams } from '$domain/markets.ts';

/**
 * What a trade will meet, before it is signed: the on-chain price the program will use (it trades
 * at the pushed price: the dashboard passes no Pyth account), whether the program will accept it
 * for margin, and the position before → after — all from domain/margin.ts, the formulas the program
 * implements. Pure.
 */

/** The market account's pushed price and the bounds the program applies to it for margin. */
export interface OnChainPrice {
  /** Pyth mantissa and exponent as pushed. */
  price: bigint;
  conf: bigint;
  expo: number;
  publishTime: number;
}

export interface MarketBounds extends MarginParams {
  maxAgeMarginSec: number;
  maxConfMarginBps: number;
  maxFutureSkewSec?: number;
}

export interface PriceCheck {
  /** 10^-9 USD per base unit. */
  mark: bigint;
  conf: bigint;
  ageSec: number;
  /** conf / price in basis points (rounded up). */
  confBps: bigint;
  /** Why the program would refuse it for margin now; empty when usable. */
  problems: string[];
}

export function checkPrice(p: OnChainPrice | undefined, b: MarketBounds, nowSec: number): PriceCheck | undefined {
  if (!p || p.price <= 0n) return undefined;
  const mark = toMarginPrice(p.price, p.expo);
  const conf = toMarginPrice(p.conf, p.expo, 'ceil');
  const ageSec = nowSec - p.publishTime;
  const confBps = (p.conf * BigInt(10_000) + p.price - 1n) / p.price;
  const problems: string[] = [];
  if (ageSec > b.maxAgeMarginSec) problems.push(`the on-chain price is ${ageSec} s old; the program accepts at most ${b.maxAgeMarginSec} s for margin (PriceStale)`);
  if (ageSec < -(b.maxFutureSkewSec ?? 5)) problems.push('the on-chain price is in the future (PriceInFuture)');
  if (p.conf * 10_000n > BigInt(b.maxConfMarginBps) * p.price) problems.push(`confidence is ${confBps} bps of the price; the program accepts at most ${b.maxConfMarginBps} bps (ConfidenceTooWide)`);
  if (mark === 0n) problems.push('the price is below 10^-9 (PriceBelowPrecision)');
  return { mark, conf, ageSec: Math.max(ageSec, 0), confBps, problems };
}

export interface Side {
  notional?: bigint;
  collateral: bigint;
  marginRatioBps?: bigint;
  liquidationPrice?: bigint;
  initialMargin?: bigint;
}

function sideOf(p: Position, mark: bigint, params: MarginParams): Side {
  if (p.size === 0n) return { collateral: p.collateral };
  const liq = liquidationPrice(p, params);
  return {
    collateral: p.collateral,
    notional: notional(p.size, mark),
    initialMargin: initialMargin(p, mark, params),
    ...(marginRatioBps(p, mark) !== undefined && { marginRatioBps: marginRatioBps(p, mark)! }),
    ...(liq !== undefined && { liquidationPrice: liq }),
  };
}

export type TradeAction = { kind: 'open'; size: bigint } | { kind: 'close' } | { kind: 'deposit'; amount: bigint } | { kind: 'withdraw'; amount: bigint };

export interface Preview {
  action: TradeAction;
  before: Side;
  after: Side;
  /** The PnL a close realises, quote units. */
  realisedPnl?: bigint;
  /** Why the program would refuse this (besides the price); empty when it should pass. */
  problems: string[];
  /** Close to the limit: the price may move before the transaction lands. */
  warnings: string[];
}

/** The position after `action` at `mark`, as the program would compute it. */
export function preview(position: Position, action: TradeAction, mark: bigint, params: MarginParams, walletQuote: bigint): Preview {
  const problems: string[] = [];
  const warnings: string[] = [];
  let after: Position = position;
  let realisedPnl: bigint | undefined;
  switch (action.kind) {
    case 'open':
      if (action.size === 0n) problems.push('the size is zero (ZeroSize)');
      if (position.size !== 0n) problems.push('a position is already open in this market: close it first (PositionAlreadyOpen)');
      after = { ...position, size: action.size, entryPrice: mark };
      if (action.size !== 0n) {
        // The program opens at the price it reads when the transaction lands: the requirement grows with it.
        const up = mark + (mark * 50n) / 10_000n;
        if (!meetsInitialMargin(after, mark, params)) problems.push('collateral is below initial margin for this size (OpenExceedsLeverage)');
        else if (!meetsInitialMargin({ ...after, entryPrice: up }, up, params)) warnings.push('within 0.5 % of the leverage limit: a price rise before it lands would refuse it');
      }
      break;
    case 'close': {
      if (position.size === 0n) problems.push('there is no open position (PositionNotOpen)');
      realisedPnl = unrealizedPnl(position, mark);
      const left = position.collateral + realisedPnl;
      after = { size: 0n, entryPrice: 0n, collateral: left > 0n ? left : 0n };
      if (left < 0n) warnings.push('the loss exceeds the collateral: the rest is bad debt');
      break;
    }
    case 'deposit':
      if (action.amount <= 0n) problems.push('the amount is zero (ZeroAmount)');
      if (action.amount > walletQuote) problems.push('the wallet holds less test USDC than that');
      after = { ...position, collateral: position.collateral + action.amount };
      break;
    case 'withdraw':
      if (action.amount <= 0n) problems.push('the amount is zero (ZeroAmount)');
      if (action.amount > position.collateral) problems.push('more than the collateral (InsufficientCollateral)');
      after = { ...position, collateral: position.collateral - action.amount };
      if (position.size !== 0n && after.collateral >= 0n && !meetsInitialMargin(after, mark, params)) problems.push('it would leave the position below initial margin (WithdrawBelowInitialMargin)');
      break;
  }
  return { action, before: sideOf(position, mark, params), after: sideOf(after, mark, params), ...(realisedPnl !== undefined && { realisedPnl }), problems, warnings };
}

/**
 * Size (base units, 10^-9) for `collateral` at `leverageTenths`/10 × at `mark`, rounded toward zero:
 * notional = collateral × leverage, size = notional × K / mark.
 */
export function sizeForLeverage(collateral: bigint, leverageTenths: number, mark: bigint): bigint {
  if (mark <= 0n || leverageTenths <= 0) return 0n;
  return (collateral * BigInt(leverageTenths) * NOTIONAL_DIVISOR) / (10n * mark);
}

/** Highest leverage initial margin allows, in tenths (10 000 / initialBps). */
export const maxLeverageTenths = (params: MarginParams) => Math.floor(100_000 / params.initialBps);
