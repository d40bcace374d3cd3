import { describe, expect, it } from 'vitest';
import { RoomCounts, judge, newer } from './sequence.ts';

describe('live price sequence rules', () => {
  it('applies the next number, ignores old ones, and calls a jump a gap', () => {
    expect(judge(undefined, { seq: 9 })).toBe('apply');
    expect(judge(4, { seq: 5 })).toBe('apply');
    expect(judge(4, { seq: 4 })).toBe('old');
    expect(judge(4, { seq: 2 })).toBe('old');
    expect(judge(4, { seq: 7 })).toBe('gap');
  });

  it('takes a snapshot only when it is not older than what is held', () => {
    const held = { publishTime: 100, slot: 5, receivedAt: 1_000 };
    expect(newer(undefined, held)).toBe(true);
    expect(newer(held, { publishTime: 99, slot: 9, receivedAt: 2_000 })).toBe(false);
    expect(newer(held, { publishTime: 100, slot: 6, receivedAt: 900 })).toBe(true);
    expect(newer(held, { publishTime: 100, slot: 4, receivedAt: 2_000 })).toBe(false);
    expect(newer(held, { publishTime: 101, receivedAt: 0 })).toBe(true);
  });

  it('joins a room for its first subscriber and leaves it after its last', () => {
    const rooms = new RoomCounts();
    expect(rooms.add(['SOL-PERP', 'BTC-PERP'])).toEqual(['SOL-PERP', 'BTC-PERP']);
    expect(rooms.add(['SOL-PERP'])).toEqual([]);
    expect(rooms.remove(['SOL-PERP'])).toEqual([]);
    expect(rooms.remove(['SOL-PERP', 'ETH-PERP'])).toEqual(['SOL-PERP']);
    expect(rooms.active).toEqual(['BTC-PERP']);
  });
});
