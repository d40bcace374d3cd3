import type { LivePrice } from '../../bus/follower.ts';
import type { Market } from '../../domain/markets.ts';
import { decidePush, type OnChainPrice } from '../../domain/push-policy.ts';
import type { ValidPrice } from '../../domain/price.ts';
import type { InflightUpdate, PushDoc } from '../../store/roles.ts';

/**
 * The sync's decision (the role Pyth's price pusher gives `shouldUpdate`): for each market, push
 * the served price or hold it, by `domain/push-policy.ts`; group what is due into batches. A market
 * whose last batch the program refused is sent alone, so one bad market cannot hold up the others.
 * Why a price is held is recorded once per change of reason, not at every price.
 */

/** Reasons worth an audit record when a market starts holding back for them. */
const RECORDED_HOLDS = new Set(['stale', 'confidence_too_wide', 'source_not_allowed']);

export interface Decisions {
  due: InflightUpdate[];
  /** `skipped` records for markets that just started holding back. */
  skipped: Omit<PushDoc, 'recordedAt'>[];
}

const candidateOf = (p: LivePrice): ValidPrice => ({
  symbol: p.symbol,
  feedId: p.feedId,
  source: p.source,
  price: BigInt(p.price),
  conf: BigInt(p.conf),
  expo: p.expo,
  publishTime: p.publishTime,
  ...(p.slot !== undefined && { slot: p.slot }),
  hasConfidence: p.source === 'pyth',
});

export class PushDecider {
  /** Why each market holds back now, while it does. */
  readonly holding = new Map<string, string>();
  /** Markets to send one per transaction. */
  private readonly isolated = new Set<string>();
  /** Markets a keeper asked to push now (if there is anything newer than the chain's). */
  private readonly requested = new Set<string>();

  request(symbol: string): void {
    this.requested.add(symbol);
  }

  /** `stale`: the market's ingestion reports no source delivering (its price is only the last good one). */
  decide(
    markets: readonly Market[],
    latest: (symbol: string) => LivePrice | undefined,
    onChain: (symbol: string) => OnChainPrice | undefined,
    nowMs: number,
    stale: (symbol: string) => boolean = () => false,
  ): Decisions {
    const nowSec = Math.floor(nowMs / 1000);
    const out: Decisions = { due: [], skipped: [] };
    for (const m of markets) {
      const p = latest(m.symbol);
      if (!p) continue;
      const decision = stale(m.symbol)
        ? ({ push: false, reason: 'stale' } as const)
        : decidePush({ candidate: candidateOf(p), onChain: onChain(m.symbol), now: nowSec, policy: m.push, bounds: m.validation });
      const update = { symbol: m.symbol, feedId: m.pythFeedId, price: p.price, conf: p.conf, expo: p.expo, publishTime: p.publishTime, receivedAt: new Date(p.receivedAt) };
      if (!decision.push && decision.reason === 'within_thresholds' && this.requested.has(m.symbol)) {
        this.requested.delete(m.symbol);
        out.due.push({ ...update, triggers: ['requested'] });
        continue;
      }
      if (decision.push || decision.reason !== 'within_thresholds') this.requested.delete(m.symbol);
      if (!decision.push) {
        const hold = RECORDED_HOLDS.has(decision.reason) ? decision.reason : undefined;
        if (hold && hold !== this.holding.get(m.symbol)) {
          out.skipped.push({ ...update, batchId: 'none', attempt: 0, triggers: [], decidedAt: new Date(nowMs), outcome: 'skipped', error: `not pushable: ${hold}` });
        }
        if (hold) this.holding.set(m.symbol, hold);
        else this.holding.delete(m.symbol);
        continue;
      }
      this.holding.delete(m.symbol);
      out.due.push({ ...update, triggers: decision.triggers });
    }
    return out;
  }

  batches(due: readonly InflightUpdate[], maxPerTx: number): InflightUpdate[][] {
    const alone = due.filter((u) => this.isolated.has(u.symbol)).map((u) => [u]);
    const together = due.filter((u) => !this.isolated.has(u.symbol));
    const out = [...alone];
    for (let i = 0; i < together.length; i += maxPerTx) out.push(together.slice(i, i + maxPerTx));
    return out;
  }

  /** After an outcome: a refused batch of several is split up; a market that landed alone rejoins. */
  outcome(updates: readonly InflightUpdate[], status: 'confirmed' | 'rejected' | 'other'): void {
    if (status === 'rejected' && updates.length > 1) for (const u of updates) this.isolated.add(u.symbol);
    if (status === 'confirmed' && updates.length === 1) this.isolated.delete(updates[0]!.symbol);
  }
}
