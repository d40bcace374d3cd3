import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../tests/vectors/push.json' with { type: 'json' };
import { decidePush, type OnChainPrice } from './push-policy.ts';
import { testMarket, vectorPrice, type VectorPrice } from './test-fixtures.ts';

const market = testMarket(vectors.bounds as never, { push: vectors.policy });
const onChainOf = (v: Omit<VectorPrice, 'source'> | null): OnChainPrice | undefined =>
  v ? { price: BigInt(v.price), conf: BigInt(v.conf), expo: v.expo, publishTime: v.publishTime } : undefined;

describe('shared vectors: push policy', () => {
  it.each(vectors.cases)('$name', (c) => {
    const decision = decidePush({
      candidate: vectorPrice(c.candidate, market),
      onChain: onChainOf(c.onChain),
      now: c.now,
      policy: market.push,
      bounds: market.validation,
    });
    expect(decision).toEqual(c.expect);
  });
});

describe('push policy invariants', () => {
  const now = 1_800_000_000;
  it('never pushes a price that is not newer than the chain’s, whatever the thresholds', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 29 }),
        fc.integer({ min: 0, max: 600 }),
        (price, chainPrice, candidateAge, chainAge) => {
          const candidate = vectorPrice({ source: 'pyth', price: String(price), conf: '0', expo: -8, publishTime: now - candidateAge }, market);
          const onChain = { price: chainPrice, conf: 0n, expo: -8, publishTime: now - chainAge };
          const d = decidePush({ candidate, onChain, now, policy: market.push, bounds: market.validation });
          if (candidate.publishTime <= onChain.publishTime) expect(d).toEqual({ push: false, reason: 'not_newer' });
          if (d.push) expect(candidate.publishTime).toBeGreaterThan(onChain.publishTime);
        },
      ),
    );
  });

  it('pushes whenever the chain’s price is a heartbeat old and the candidate is pushable and newer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 10_000 }), fc.integer({ min: 0, max: 9 }), (chainAge, candidateAge) => {
        const candidate = vectorPrice({ source: 'pyth', price: '15000000000', conf: '1500000', expo: -8, publishTime: now - candidateAge }, market);
        const onChain = { price: 15000000000n, conf: 1500000n, expo: -8, publishTime: now - chainAge };
        const d = decidePush({ candidate, onChain, now, policy: market.push, bounds: market.validation });
        expect(d).toEqual({ push: true, triggers: ['heartbeat'] });
      }),
    );
  });
});
