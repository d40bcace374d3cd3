import { deviatesAtLeast } from './decimal.ts';
import type { PushPolicy, ValidationBounds } from './markets.ts';
import { confOf, priceOf, type ValidPrice } from './price.ts';
import { gradePrice, type UnusableReason } from './validation.ts';

/**
 * When to push a price on-chain: the rule of Pyth's price pusher, decided exactly in integers.
 * Push when the price moved at least `deviationBps`, the confidence interval changed by at least
 * `confChangeBps`, or the on-chain price is `heartbeatSec` old. Never push a price that is unusable
 * for the `push` action (stale, too uncertain, from a source that may not move money) or that is not
 * newer than what the chain holds.
 */

/** What the program's market account holds (all zero before the first push). */
export interface OnChainPrice {
  price: bigint;
  conf: bigint;
  expo: number;
  publishTime: number;
}

export const PUSH_TRIGGERS = ['initial', 'deviation', 'confidence', 'heartbeat'] as const;
export type PushTrigger = (typeof PUSH_TRIGGERS)[number];

export type PushDecision =
  | { push: true; triggers: PushTrigger[] }
  | { push: false; reason: 'not_newer' | 'within_thresholds' | UnusableReason };

export function decidePush(args: {
  candidate: ValidPrice;
  onChain: OnChainPrice | undefined;
  /** Unix seconds. */
  now: number;
  policy: PushPolicy;
  bounds: ValidationBounds;
}): PushDecision {
  const { candidate, onChain, now, policy, bounds } = args;
  const grade = gradePrice(candidate, now, bounds).push;
  if (!grade.ok) return { push: false, reason: grade.reason };
  if (!onChain || onChain.publishTime === 0 || onChain.price <= 0n) return { push: true, triggers: ['initial'] };
  if (candidate.publishTime <= onChain.publishTime) return { push: false, reason: 'not_newer' };

  const triggers: PushTrigger[] = [];
  if (deviatesAtLeast(priceOf(candidate), priceOf(onChain), policy.deviationBps)) triggers.push('deviation');
  if (confidenceChanged(candidate, onChain, policy.confChangeBps)) triggers.push('confidence');
  if (now - onChain.publishTime >= policy.heartbeatSec) triggers.push('heartbeat');
  return triggers.length > 0 ? { push: true, triggers } : { push: false, reason: 'within_thresholds' };
}

/** |conf − conf₀| ≥ bps × conf₀; a confidence appearing from zero is a change. */
function confidenceChanged(candidate: ValidPrice, onChain: OnChainPrice, bps: number): boolean {
  if (onChain.conf === 0n) return candidate.conf !== 0n;
  return deviatesAtLeast(confOf(candidate), confOf(onChain), bps);
}
