import { describe, expect, it } from 'vitest';
import { groupBy } from './group-by.ts';

describe('groupBy', () => {
  it('groups in first-seen key order, keeping input order within a group', () => {
    const g = groupBy([5, 2, 8, 3, 4, 9, 1], (n) => n % 3);
    expect([...g]).toEqual([
      [2, [5, 2, 8]],
      [0, [3, 9]],
      [1, [4, 1]],
    ]);
    expect(groupBy([], (n: number) => n).size).toBe(0);
  });
});
