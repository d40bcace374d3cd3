import { describe, expect, it } from 'vitest';
import { testMarkets } from '../../tests/support.ts';
import { SourceHealth } from './source-health.ts';

/** The per-market problems of a `sources` report (undefined when there was no report). */
const problemsOf = (h: SourceHealth) => {
  const r = h.changed();
  if (r && r.kind !== 'sources') throw new Error(`unexpected ${r.kind} report`);
  return r?.problems;
};

const group = testMarkets().all.filter((m) => m.feedGroup === testMarkets().all[0]!.feedGroup);
const [a, b] = group.map((m) => m.symbol) as [string, string];

describe('SourceHealth', () => {
  it('reports a change once, ignores a detail that changes alone, and reports the problem clearing', () => {
    let t = 1_000;
    const h = new SourceHealth('g', group, () => t);
    expect(problemsOf(h)?.[a]).toEqual([]);
    expect(h.changed()).toBeUndefined();

    h.set('pyth', [a], { reason: 'silent', detail: 'no accepted Pyth price for 4 s' });
    const silent = problemsOf(h);
    expect(silent?.[a]).toEqual([{ source: 'pyth', reason: 'silent', detail: 'no accepted Pyth price for 4 s', since: 1_000 }]);
    expect(silent?.[b]).toEqual([]);

    // The same problem, a newer detail: kept (health shows it), not announced again, `since` kept.
    t = 2_000;
    h.set('pyth', [a], { reason: 'silent', detail: 'no accepted Pyth price for 5 s' });
    expect(h.changed()).toBeUndefined();
    expect(h.problemOf(a, 'pyth')).toMatchObject({ detail: 'no accepted Pyth price for 5 s', since: 1_000 });

    // Another reason is a change; so is clearing it.
    h.set('pyth', [a], { reason: 'unauthorized', detail: 'HTTP 401' });
    expect(problemsOf(h)?.[a]).toMatchObject([{ reason: 'unauthorized', since: 2_000 }]);
    h.set('pyth', [a], undefined);
    expect(problemsOf(h)?.[a]).toEqual([]);
    expect(h.changed()).toBeUndefined();
    // Clearing what is not there changes nothing.
    h.clear('coingecko');
    expect(h.changed()).toBeUndefined();
  });
});
