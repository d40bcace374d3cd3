import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GapWalk, planGaps, type Gap, type WalkStep } from './backfill.ts';

const NOW = 1_800_000_000;

describe('planGaps', () => {
  it('is the seconds strictly between the last known and the first live update, or up to now', () => {
    const { gaps, skipped } = planGaps(
      [
        { feedId: 'a', lastKnown: NOW - 30, firstLive: NOW - 2 },
        { feedId: 'b', lastKnown: NOW - 10 },
        { feedId: 'c', lastKnown: NOW - 5, firstLive: NOW - 4 }, // adjacent: nothing missing
        { feedId: 'd', lastKnown: NOW - 5, firstLive: NOW - 5 }, // the same second again
        { feedId: 'e', firstLive: NOW }, // nothing to continue from
      ],
      NOW,
      600,
    );
    expect(gaps).toEqual([
      { feedId: 'a', from: NOW - 29, to: NOW - 3 },
      { feedId: 'b', from: NOW - 9, to: NOW },
    ]);
    expect(skipped).toEqual([]);
  });

  it('skips, whole, a gap longer than the maximum', () => {
    const { gaps, skipped } = planGaps(
      [
        { feedId: 'a', lastKnown: NOW - 601, firstLive: NOW }, // 600 s missing: fetched
        { feedId: 'b', lastKnown: NOW - 602, firstLive: NOW }, // 601 s: skipped
        { feedId: 'c', lastKnown: NOW - 3_600 },
      ],
      NOW,
      600,
    );
    expect(gaps).toEqual([{ feedId: 'a', from: NOW - 600, to: NOW - 1 }]);
    expect(skipped).toEqual([
      { feedId: 'b', from: NOW - 601, to: NOW - 1 },
      { feedId: 'c', from: NOW - 3_599, to: NOW },
    ]);
  });
});

/** Runs a walk against a source holding these publish times per feed; returns the requests and what was kept. */
function walkOver(gaps: Gap[], published: Record<string, number[]>) {
  const walk = new GapWalk(gaps);
  const steps: WalkStep[] = [];
  const kept: Record<string, number[]> = {};
  for (let step = walk.next(); step; step = walk.next()) {
    steps.push(step);
    if (steps.length > 10_000) throw new Error('the walk does not end');
    const answers = new Map<string, number>();
    for (const id of step.feedIds) {
      const p = (published[id] ?? []).filter((t) => t >= step.at).sort((x, y) => x - y)[0];
      if (p !== undefined) answers.set(id, p);
    }
    for (const id of walk.answer(step, answers)) (kept[id] ??= []).push(answers.get(id)!);
  }
  expect(walk.done).toBe(true);
  return { steps, kept };
}

describe('GapWalk', () => {
  it('fetches each second of the gap that has an update, once, and nothing outside it', () => {
    const { steps, kept } = walkOver(
      [
        { feedId: 'a', from: 100, to: 105 },
        { feedId: 'b', from: 100, to: 105 },
      ],
      { a: [98, 99, 100, 101, 102, 103, 104, 105, 106], b: [99, 102, 105, 109] },
    );
    expect(kept).toEqual({ a: [100, 101, 102, 103, 104, 105], b: [102, 105] });
    // Together while they need the same second, each alone when not.
    expect(steps.map((s) => `${s.at}:${s.feedIds.join('')}`)).toEqual(['100:ab', '101:a', '102:a', '103:ab', '104:a', '105:a']);
  });

  it('closes a feed with no answer, with an answer past its gap, or with one that does not move it forward', () => {
    const walk = new GapWalk([
      { feedId: 'none', from: 10, to: 20 },
      { feedId: 'past', from: 10, to: 20 },
      { feedId: 'back', from: 10, to: 20 },
      { feedId: 'ok', from: 10, to: 20 },
    ]);
    const step = walk.next()!;
    expect(step).toEqual({ at: 10, feedIds: ['none', 'past', 'back', 'ok'] });
    const keep = walk.answer(step, new Map([['past', 21], ['back', 9], ['ok', 20]]));
    expect([...keep]).toEqual(['ok']);
    expect(walk.done).toBe(true);
    expect(walk.next()).toBeUndefined();
  });

  it('gives up a skipped second only: its feeds go on from the next one, and close at the end of their gap', () => {
    const walk = new GapWalk([
      { feedId: 'a', from: 10, to: 12 },
      { feedId: 'b', from: 10, to: 10 },
      { feedId: 'c', from: 11, to: 13 },
    ]);
    const first = walk.next()!;
    expect(first).toEqual({ at: 10, feedIds: ['a', 'b'] });
    walk.skip(first);
    // b's gap was that second alone; c was not asked, so it does not move.
    expect(walk.next()).toEqual({ at: 11, feedIds: ['a', 'c'] });
    walk.skip({ at: 10, feedIds: ['a'] });
    expect(walk.next()).toEqual({ at: 11, feedIds: ['a', 'c'] });
    expect([...walk.answer(walk.next()!, new Map([['a', 12], ['c', 11]]))]).toEqual(['a', 'c']);
    expect(walk.next()).toEqual({ at: 12, feedIds: ['c'] });
    walk.skip(walk.next()!);
    walk.skip(walk.next()!);
    expect(walk.done).toBe(true);
  });

  it('keeps exactly the published seconds inside each gap, in at most one request per second', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ from: fc.integer({ min: 0, max: 60 }), len: fc.integer({ min: 1, max: 60 }), published: fc.uniqueArray(fc.integer({ min: 0, max: 150 }), { maxLength: 80 }) }),
          { minLength: 1, maxLength: 4 },
        ),
        (feeds) => {
          const gaps = feeds.map((f, i) => ({ feedId: `f${i}`, from: f.from, to: f.from + f.len - 1 }));
          const published = Object.fromEntries(feeds.map((f, i) => [`f${i}`, f.published]));
          const { steps, kept } = walkOver(gaps, published);
          for (const [i, f] of feeds.entries()) {
            const inside = f.published.filter((t) => t >= f.from && t <= f.from + f.len - 1).sort((x, y) => x - y);
            expect(kept[`f${i}`] ?? []).toEqual(inside);
          }
          expect(steps.length).toBeLessThanOrEqual(gaps.reduce((n, g) => n + g.to - g.from + 1, 0));
          const ats = steps.map((s) => s.at);
          expect([...ats].sort((x, y) => x - y)).toEqual(ats);
        },
      ),
    );
  });
});
