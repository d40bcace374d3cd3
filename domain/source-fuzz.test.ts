// Hermes and CoinGecko payloads, fuzzed (seeded, bounded) through the real parsers and the
// validator: whatever arrives ends as accepted prices that hold the invariants, or as named
// rejections — never an exception, never an accepted price that breaks a bound.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_REJECTIONS, parseCoinGeckoPrices, parseHermesMessage } from './payload.ts';
import { shippedMarkets as markets } from './test-fixtures.ts';
import { REJECTION_REASONS, validateObservation, type Observation } from './validation.ts';

const NOW = 1_800_000_000;
const RUNS = { seed: 4_242, numRuns: 500 };
const feeds = markets.all.map((m) => m.pythFeedId);

/** Values a field may take: real-looking ones and every kind of junk. */
const integerText = fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String);
const junk = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-Infinity', 'inf', '', ' ', '1e5', '150.25', '0x10', '-0', '00012', '9'.repeat(400), null, true, [], {}),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 30 }),
  fc.anything({ maxDepth: 2 }),
);
const mantissa = fc.oneof({ weight: 4, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 15n }).map(String) }, { weight: 1, arbitrary: integerText }, { weight: 1, arbitrary: junk });
const expo = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -12, max: -2 }) }, { weight: 1, arbitrary: fc.oneof(fc.integer({ min: -400, max: 400 }), junk) });
const publishTime = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: NOW - 120, max: NOW + 30 }) }, { weight: 1, arbitrary: junk });
const feedId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...feeds).chain((f) => fc.constantFrom(f, `0x${f}`, f.toUpperCase())) },
  { weight: 1, arbitrary: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ maxLength: 80 })) },
);
const pythPrice = fc.record({ price: mantissa, conf: mantissa, expo, publish_time: publishTime }, { requiredKeys: [] });
const hermesEntry = fc.record(
  {
    id: feedId,
    price: pythPrice,
    ema_price: pythPrice,
    metadata: fc.oneof(fc.record({ slot: fc.oneof(fc.nat(), junk), proof_available_time: fc.nat(), prev_publish_time: fc.nat() }), junk),
  },
  { requiredKeys: ['id', 'price'] },
);
const hermesBody = fc.record({ binary: fc.constant({ encoding: 'hex', data: ['00'] }), parsed: fc.array(hermesEntry, { maxLength: 6 }) });

/** The validator's verdict on each observation, checked for the invariants of an accepted price. */
function checkObservations(observations: Observation[]): void {
  for (const o of observations) {
    const market = markets.byFeedId(String(o.feedId));
    const a = validateObservation(o, { market, now: NOW });
    if (!a.ok) {
      expect(REJECTION_REASONS).toContain(a.reason);
      expect(a.detail.length).toBeGreaterThan(0);
      continue;
    }
    const b = market!.validation;
    expect(typeof a.price.price).toBe('bigint');
    expect(a.price.price > 0n && a.price.price < 2n ** 63n).toBe(true);
    expect(a.price.conf >= 0n).toBe(true);
    expect(a.price.expo >= b.expoRange[0] && a.price.expo <= b.expoRange[1]).toBe(true);
    expect(a.price.publishTime - NOW <= b.maxFutureSkewSec && NOW - a.price.publishTime <= b.maxAgeSec.display).toBe(true);
  }
}

/** One character changed, cut or inserted, anywhere in a real message. */
const textMutation = fc.tuple(fc.nat(), fc.constantFrom('flip', 'cut', 'insert'), fc.string({ minLength: 1, maxLength: 3 }));
function mutateText(text: string, [at, kind, s]: [number, string, string]): string {
  const i = at % (text.length + 1);
  if (kind === 'cut') return text.slice(0, i);
  if (kind === 'insert') return text.slice(0, i) + s + text.slice(i);
  return text.slice(0, i) + s + text.slice(i + s.length);
}

describe('Hermes payloads, fuzzed', () => {
  it('real-shaped updates with fuzzed fields: named rejections or accepted prices within every bound', () => {
    fc.assert(
      fc.property(hermesBody, (body) => {
        const r = parseHermesMessage(JSON.stringify(body));
        if (!r.ok) return void expect(PAYLOAD_REJECTIONS).toContain(r.reason);
        expect(r.observations).toHaveLength(body.parsed.length);
        checkObservations(r.observations);
      }),
      RUNS,
    );
  });

  it('a real message with a character changed, cut or inserted anywhere', () => {
    const real = JSON.stringify({
      binary: { encoding: 'hex', data: ['504e4155'] },
      parsed: markets.all.slice(0, 3).map((m, i) => ({
        id: m.pythFeedId,
        price: { price: String(15_000_000_000 + i), conf: '1500000', expo: -8, publish_time: NOW - 1 },
        ema_price: { price: '14990000000', conf: '1400000', expo: -8, publish_time: NOW - 1 },
        metadata: { slot: 200_000_000 + i, proof_available_time: NOW, prev_publish_time: NOW - 2 },
      })),
    });
    fc.assert(
      fc.property(textMutation, (m) => {
        const r = parseHermesMessage(mutateText(real, m));
        if (!r.ok) {
          expect(PAYLOAD_REJECTIONS).toContain(r.reason);
          expect(r.detail.length).toBeGreaterThan(0);
        } else checkObservations(r.observations);
      }),
      RUNS,
    );
  });

  it('any text at all, and oversized bodies', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.json()), (text) => {
        const r = parseHermesMessage(text);
        if (!r.ok) expect(PAYLOAD_REJECTIONS).toContain(r.reason);
        else checkObservations(r.observations);
      }),
      RUNS,
    );
    const r = parseHermesMessage(JSON.stringify({ parsed: [] }).padEnd(2_000, ' '), 1_000);
    expect(r).toMatchObject({ ok: false, reason: 'oversized' });
  });
});

describe('CoinGecko bodies, fuzzed', () => {
  const ids = markets.all.map((m) => m.coingeckoId);
  const entry = fc.record({ usd: fc.oneof(fc.double({ min: 0, max: 1e7, noNaN: true }), fc.constantFrom(150.25, 0.00001234, 65_000, 1e-12), junk), last_updated_at: publishTime }, { requiredKeys: [] });
  const body = fc.dictionary(fc.oneof(fc.constantFrom(...ids), fc.string({ maxLength: 20 })), fc.oneof({ weight: 4, arbitrary: entry }, { weight: 1, arbitrary: junk }), { maxKeys: 8 });

  it('fuzzed simple/price bodies: named rejections, missing ids reported, accepted prices within every bound', () => {
    fc.assert(
      fc.property(body, fc.subarray(ids, { minLength: 1 }), (b, requested) => {
        const r = parseCoinGeckoPrices(JSON.stringify(b), markets, requested);
        if (!r.ok) return void expect(PAYLOAD_REJECTIONS).toContain(r.reason);
        expect(r.observations.length + r.missing!.length).toBe(requested.length);
        checkObservations(r.observations);
      }),
      RUNS,
    );
  });
});
