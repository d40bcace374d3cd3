import { describe, expect, it } from 'vitest';
import { bucketQuantile } from './latency.ts';

describe('bucketQuantile', () => {
  const buckets = (counts: number[], les = [0.01, 0.1, 1, Infinity]) => les.map((le, i) => ({ le, count: counts[i]! }));

  it('interpolates inside the bucket that holds the rank, as histogram_quantile does', () => {
    // 100 observations: 50 under 10 ms, 40 more under 100 ms, 10 more under 1 s.
    const b = buckets([50, 90, 100, 100]);
    expect(bucketQuantile(0.5, b)).toBeCloseTo(0.01);
    expect(bucketQuantile(0.7, b)).toBeCloseTo(0.01 + 0.09 * (20 / 40));
    expect(bucketQuantile(0.99, b)).toBeCloseTo(0.1 + 0.9 * (9 / 10));
  });

  it('says nothing without observations, and no more than the last finite bound beyond it', () => {
    expect(bucketQuantile(0.5, buckets([0, 0, 0, 0]))).toBeUndefined();
    expect(bucketQuantile(0.99, buckets([0, 0, 0, 10]))).toBe(1);
  });
});
