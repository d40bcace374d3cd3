import { HermesClient } from '@pythnetwork/hermes-client';
import { describe, expect, it } from 'vitest';
import { CORRUPTIONS, type Corruption } from './faults.ts';
import { unknownIdFor } from './hermes-wire.ts';
import type { MarketSim } from './market-sim.ts';
import { BTC, recordMessages, SOL, startSim, track, waitFor } from './test-support.ts';

interface Parsed {
  id: string;
  price: { price: string; conf: string; expo: number; publish_time: number };
  ema_price: { price: string; expo: number; publish_time: number };
}

const nowSec = () => Math.floor(Date.now() / 1000);

/** What a client sees of a corrupted SOL entry (or whole message), per kind. */
const pythChecks: Record<Corruption, (data: string) => void> = {
  'nan-price': (d) => expect(sol(d).price.price).toBe('NaN'),
  'negative-price': (d) => expect(BigInt(sol(d).price.price)).toBeLessThan(0n),
  'zero-price': (d) => expect(sol(d).price.price).toBe('0'),
  'expo-high': (d) => expect([sol(d).price.expo, sol(d).ema_price.expo]).toEqual([7, 7]),
  'expo-low': (d) => expect([sol(d).price.expo, sol(d).ema_price.expo]).toEqual([-40, -40]),
  'stale-time': (d) => expect(sol(d).price.publish_time).toBeLessThanOrEqual(nowSec() - 590),
  'future-time': (d) => expect(sol(d).price.publish_time).toBeGreaterThanOrEqual(nowSec() + 590),
  'unknown-id': (d) => {
    const ids = parsed(d).map((p) => p.id);
    expect(ids).not.toContain(SOL);
    expect(ids).toContain(unknownIdFor(SOL));
  },
  'malformed-json': (d) => expect(() => JSON.parse(d)).toThrow(SyntaxError),
  oversized: (d) => {
    expect(d.length).toBeGreaterThan(1_000_000);
    expect(parsed(d).map((p) => p.id)).toEqual([SOL, BTC]);
  },
};

function parsed(data: string): Parsed[] {
  return (JSON.parse(data) as { parsed: Parsed[] }).parsed;
}
function sol(data: string): Parsed {
  const entry = parsed(data).find((p) => p.id === SOL);
  if (entry === undefined) throw new Error('no SOL entry');
  return entry;
}
const WHOLE_MESSAGE: readonly Corruption[] = ['malformed-json', 'oversized'];

function isClean(data: string, id: string): boolean {
  let entry: Parsed | undefined;
  try {
    entry = parsed(data).find((p) => p.id === id);
  } catch {
    return false;
  }
  return (
    entry !== undefined &&
    data.length < 10_000 &&
    /^\d+$/.test(entry.price.price) &&
    entry.price.price !== '0' &&
    entry.price.expo === -8 &&
    Math.abs(entry.price.publish_time - nowSec()) <= 2
  );
}

async function openStream(sim: MarketSim) {
  const client = new HermesClient(sim.url, { httpRetries: 0 });
  const rec = recordMessages(track(await client.getPriceUpdatesStream([SOL, BTC], { parsed: true })));
  await waitFor(() => rec.opens === 1, 'stream open');
  return rec;
}

describe('bad Pyth payloads on the stream', () => {
  it.each(CORRUPTIONS)('%s: the next update of the feed is bad, the one after is clean', async (kind) => {
    const sim = await startSim({ autoPublish: false });
    const rec = await openStream(sim);

    sim.control.inject('pyth', kind, { count: 1, feeds: ['SOL-PERP'] });
    sim.step();
    sim.step();
    await waitFor(() => rec.messages.length === 2, 'two updates');
    const [bad, good] = rec.messages.map((m) => m.data);
    expect(isClean(bad!, SOL)).toBe(false);
    pythChecks[kind](bad!);
    // Per-entry kinds leave the other feed's entry alone; whole-message kinds spoil the message.
    expect(isClean(bad!, BTC)).toBe(!WHOLE_MESSAGE.includes(kind));
    expect(isClean(good!, SOL)).toBe(true);
    expect(isClean(good!, BTC)).toBe(true);
    expect(sim.control.state().pyth.injections).toHaveLength(0);
  });

  it('a continuous injection corrupts every update until cleared, for every feed when none is named', async () => {
    const sim = await startSim({ autoPublish: false });
    const rec = await openStream(sim);
    sim.control.inject('pyth', 'zero-price');
    for (let i = 0; i < 3; i++) sim.step();
    await waitFor(() => rec.messages.length === 3, 'three updates');
    for (const m of rec.messages) expect(parsed(m.data).map((p) => p.price.price)).toEqual(['0', '0']);

    sim.control.clearInjections('pyth');
    sim.step();
    await waitFor(() => rec.messages.length === 4, 'fourth update');
    expect(isClean(rec.messages[3]!.data, SOL) && isClean(rec.messages[3]!.data, BTC)).toBe(true);
  });

  it('the latest endpoint serves the corrupted update too: HermesClient fails on malformed JSON', async () => {
    const sim = await startSim({ autoPublish: false });
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    sim.control.inject('pyth', 'malformed-json', { count: 1 });
    sim.step();
    await expect(client.getLatestPriceUpdates([SOL])).rejects.toThrow(SyntaxError);
    sim.step();
    expect((await client.getLatestPriceUpdates([SOL])).parsed).toHaveLength(1);

    sim.control.inject('pyth', 'negative-price', { count: 1, feeds: [BTC] });
    sim.step();
    const res = (await client.getLatestPriceUpdates([SOL, BTC])).parsed as Parsed[];
    expect(BigInt(res[0]!.price.price)).toBeGreaterThan(0n);
    expect(BigInt(res[1]!.price.price)).toBeLessThan(0n);
  });

  it('the archive answers whole what the stream truncated or padded, and bad values as they were published', async () => {
    const sim = await startSim({ autoPublish: false, strictPublishTime: true });
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const rec = await openStream(sim);
    const seconds: number[] = [];
    for (const kind of ['malformed-json', 'oversized', 'negative-price'] as const) {
      await new Promise((r) => setTimeout(r, 1_000 - (Date.now() % 1_000) + 5));
      sim.control.inject('pyth', kind, { count: 1, feeds: ['SOL-PERP'] });
      sim.step();
      seconds.push(sim.published('SOL-PERP').at(-1)!.publishTime);
    }
    await waitFor(() => rec.messages.length >= 3, 'three streamed updates');
    const streamed = rec.messages.slice(-3).map((m) => m.data);
    pythChecks['malformed-json'](streamed[0]!);
    pythChecks.oversized(streamed[1]!);

    const [truncated, padded, negative] = await Promise.all(seconds.map((t) => client.getPriceUpdatesAtTimestamp(t, [SOL, BTC], { parsed: true })));
    for (const [i, answer] of [truncated!, padded!].entries()) {
      const text = JSON.stringify(answer);
      expect(text.length, 'not padded').toBeLessThan(10_000);
      expect((answer.parsed as Parsed[]).map((p) => [p.id, p.price.publish_time])).toEqual([
        [SOL, seconds[i]],
        [BTC, seconds[i]],
      ]);
      expect(BigInt((answer.parsed as Parsed[])[0]!.price.price)).toBeGreaterThan(0n);
    }
    expect(BigInt((negative!.parsed as Parsed[])[0]!.price.price)).toBeLessThan(0n);
  });
});

describe('bad CoinGecko payloads', () => {
  type Prices = Record<string, { usd: number | null; last_updated_at: number }>;
  const checks: Record<Corruption, (text: string) => void> = {
    'nan-price': (t) => expect((JSON.parse(t) as Prices).solana!.usd).toBeNull(),
    'negative-price': (t) => expect((JSON.parse(t) as Prices).solana!.usd).toBeLessThan(0),
    'zero-price': (t) => expect((JSON.parse(t) as Prices).solana!.usd).toBe(0),
    'expo-high': (t) => expect((JSON.parse(t) as Prices).solana!.usd).toBeGreaterThan(1e8),
    'expo-low': (t) => expect((JSON.parse(t) as Prices).solana!.usd).toBeLessThan(1e-30),
    'stale-time': (t) => expect((JSON.parse(t) as Prices).solana!.last_updated_at).toBeLessThanOrEqual(nowSec() - 590),
    'future-time': (t) =>
      expect((JSON.parse(t) as Prices).solana!.last_updated_at).toBeGreaterThanOrEqual(nowSec() + 590),
    'unknown-id': (t) => expect(Object.keys(JSON.parse(t) as Prices).sort()).toEqual(['bitcoin', 'unknown-solana']),
    'malformed-json': (t) => expect(() => JSON.parse(t)).toThrow(SyntaxError),
    oversized: (t) => {
      expect(t.length).toBeGreaterThan(1_000_000);
      expect(Object.keys(JSON.parse(t) as Prices).sort()).toEqual(['bitcoin', 'solana']);
    },
  };
  const clean = (text: string, coin: string) => {
    let p: Prices[string] | undefined;
    try {
      p = (JSON.parse(text) as Prices)[coin];
    } catch {
      return false;
    }
    return (
      p !== undefined &&
      text.length < 10_000 &&
      typeof p.usd === 'number' &&
      p.usd > 1 &&
      p.usd < 1e6 &&
      Math.abs(p.last_updated_at - nowSec()) <= 2
    );
  };

  it.each(CORRUPTIONS)('%s: the next response is bad for that coin, the one after is clean', async (kind) => {
    const sim = await startSim({ autoPublish: false });
    const url = `${sim.url}/api/v3/simple/price?ids=solana,bitcoin&vs_currencies=usd&include_last_updated_at=true&precision=full`;
    sim.control.inject('coingecko', kind, { count: 1, feeds: ['solana'] });

    const bad = await (await fetch(url)).text();
    const good = await (await fetch(url)).text();
    expect(clean(bad, 'solana')).toBe(false);
    checks[kind](bad);
    expect(clean(bad, 'bitcoin')).toBe(!WHOLE_MESSAGE.includes(kind));
    expect(clean(good, 'solana') && clean(good, 'bitcoin')).toBe(true);
  });
});
