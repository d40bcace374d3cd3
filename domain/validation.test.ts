import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../tests/vectors/validation.json' with { type: 'json' };
import { I64_MAX, I64_MIN, U64_MAX } from './decimal.ts';
import { ACTIONS } from './markets.ts';
import { testMarket, vectorPrice, type VectorPrice } from './test-fixtures.ts';
import { REJECTION_REASONS, gradePrice, sourcesDiverge, validateBackfilled, validateObservation, type Observation, type PublishMark } from './validation.ts';

const market = testMarket(vectors.bounds as never);

interface VectorContext {
  now: number;
  unknownFeed?: boolean;
  lastAccepted?: PublishMark;
  lastGood?: VectorPrice;
  otherSource?: VectorPrice;
}

function run(c: (typeof vectors.cases)[number]) {
  const ctx = c.context as VectorContext;
  const o = c.observation as Record<string, unknown>;
  return validateObservation({ ...o, feedId: market.pythFeedId } as Observation, {
    market: ctx.unknownFeed ? undefined : market,
    now: ctx.now,
    ...(ctx.lastAccepted && { lastAccepted: ctx.lastAccepted }),
    ...(ctx.lastGood && { lastGood: vectorPrice(ctx.lastGood, market) }),
    ...(ctx.otherSource && { otherSource: vectorPrice(ctx.otherSource, market) }),
  });
}

describe('shared vectors: validation', () => {
  it.each(vectors.cases)('$name', (c) => {
    const result = run(c);
    if (!c.expect.ok) {
      expect(result).toMatchObject({ ok: false, reason: c.expect.reason });
      return;
    }
    expect(result.ok, result.ok ? '' : `${result.reason}: ${result.detail}`).toBe(true);
    if (!result.ok) return;
    const grades = Object.fromEntries(ACTIONS.map((a) => [a, result.grades[a].ok ? 'ok' : (result.grades[a] as { reason: string }).reason]));
    expect(grades).toEqual(c.expect.grades);
  });

  it('reach every rejection reason', () => {
    const reached = new Set(vectors.cases.filter((c) => !c.expect.ok).map((c) => c.expect.reason));
    expect([...reached].sort()).toEqual([...REJECTION_REASONS].sort());
  });
});

describe('validation invariants', () => {
  const junk = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt().map(String),
    fc.constantFrom('NaN', 'Infinity', '-1', '0', '1e400', '15000000000'),
  );
  const now = 1_800_000_000;

  it('never throws on any input, and only ever names a known reason', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('pyth', 'coingecko'),
        fc.tuple(junk, junk, junk, junk),
        fc.tuple(junk, junk, junk),
        (source, [price, conf, expo, publishTime], [emaPrice, emaConf, slot]) => {
          const o = { source: source as 'pyth', feedId: market.pythFeedId, price, conf, expo, publishTime, emaPrice, emaConf, slot };
          const r = validateObservation(o, { market, now, lastAccepted: { publishTime: now - 1, slot: 7 } });
          if (!r.ok) expect(REJECTION_REASONS).toContain(r.reason);
          else expect(r.grades.display.ok).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('accepts only mantissas that fit Pyth\'s types (price and EMA i64, conf u64), with or without history', () => {
    const near = (edge: bigint) => fc.bigInt({ min: edge - 3n, max: edge + 3n });
    const mantissa = fc.oneof(near(I64_MAX), near(I64_MIN), near(U64_MAX), fc.bigInt({ min: -(2n ** 66n), max: 2n ** 66n }));
    const lastGood = vectorPrice({ source: 'pyth', price: String(I64_MAX), conf: '0', expo: -8, publishTime: now - 2 }, market);
    fc.assert(
      fc.property(mantissa, mantissa, fc.option(mantissa), mantissa, fc.boolean(), (price, conf, emaPrice, emaConf, history) => {
        const o: Observation = {
          source: 'pyth',
          feedId: market.pythFeedId,
          price: String(price),
          conf: String(conf < 0n ? -conf : conf),
          expo: -8,
          publishTime: now - 1,
          ...(emaPrice !== null && { emaPrice: String(emaPrice), emaConf: String(emaConf < 0n ? -emaConf : emaConf) }),
        };
        const r = validateObservation(o, { market, now, ...(history && { lastGood }) });
        if (!r.ok) return;
        expect(r.price.price >= I64_MIN && r.price.price <= I64_MAX).toBe(true);
        expect(r.price.conf <= U64_MAX).toBe(true);
        if (r.price.emaPrice !== undefined) expect(r.price.emaPrice >= I64_MIN && r.price.emaPrice <= I64_MAX).toBe(true);
        if (r.price.emaConf !== undefined) expect(r.price.emaConf <= U64_MAX).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('accepts a CoinGecko price only when its mantissa at its exponent fits i64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 70n }), fc.integer({ min: 0, max: 18 }), (digits, scale) => {
        const text = scale === 0 ? String(digits) : `${digits / 10n ** BigInt(scale)}.${String(digits % 10n ** BigInt(scale)).padStart(scale, '0')}`;
        // The exponent is the price's own: trailing fractional zeros do not count.
        let [m, s] = [digits, scale];
        while (s > 0 && m % 10n === 0n) [m, s] = [m / 10n, s - 1];
        const r = validateObservation({ source: 'coingecko', feedId: market.pythFeedId, price: text, publishTime: now - 1 }, { market, now });
        expect(r.ok ? r.price : r.reason).toEqual(m <= I64_MAX ? expect.objectContaining({ price: m, expo: s === 0 ? 0 : -s }) : 'mantissa_out_of_range');
      }),
    );
  });

  it('accepts each of the 2–3 aggregates Pythnet publishes within a second, once each and in slot order', () => {
    const tick = (slot: number, price: string) =>
      ({ source: 'pyth', feedId: market.pythFeedId, price, conf: '1500000', expo: -8, publishTime: now - 1, slot }) as Observation;
    let lastAccepted: PublishMark | undefined;
    const verdicts: string[] = [];
    for (const o of [tick(100, '15000000000'), tick(101, '15001000000'), tick(101, '15001000000'), tick(102, '15002000000'), tick(100, '15000000000')]) {
      const r = validateObservation(o, { market, now, ...(lastAccepted && { lastAccepted }) });
      verdicts.push(r.ok ? `ok ${r.price.slot}` : r.reason);
      if (r.ok) lastAccepted = { publishTime: r.price.publishTime, ...(r.price.slot !== undefined && { slot: r.price.slot }) };
    }
    expect(verdicts).toEqual(['ok 100', 'ok 101', 'duplicate', 'ok 102', 'duplicate']);
  });

  it('grades are monotone: an action usable at some age stays usable when younger, and looser actions follow stricter ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.bigInt({ min: 0n, max: 500_000_000n }), (age, conf) => {
        const p = vectorPrice({ source: 'pyth', price: '15000000000', conf: String(conf), expo: -8, publishTime: now - age }, market);
        const g = gradePrice(p, now, market.validation);
        const younger = gradePrice({ ...p, publishTime: p.publishTime + 1 }, now, market.validation);
        for (let i = 0; i < ACTIONS.length; i++) {
          if (g[ACTIONS[i]!].ok) expect(younger[ACTIONS[i]!].ok).toBe(true);
          if (i > 0 && g[ACTIONS[i]!].ok) expect(g[ACTIONS[i - 1]!].ok).toBe(true);
        }
      }),
    );
  });

  it('raises the divergence alarm only beyond the bound', () => {
    const pyth = vectorPrice({ source: 'pyth', price: '15000000000', conf: '0', expo: -8, publishTime: now }, market);
    const at = vectorPrice({ source: 'coingecko', price: '15150', conf: '0', expo: -2, publishTime: now }, market);
    const beyond = vectorPrice({ source: 'coingecko', price: '151501', conf: '0', expo: -3, publishTime: now }, market);
    expect(sourcesDiverge(at, pyth, market.validation)).toBe(false);
    expect(sourcesDiverge(beyond, pyth, market.validation)).toBe(true);
  });
});

describe('validateBackfilled: a past update filling a gap in history', () => {
  const sol = testMarket(vectors.bounds as never);
  const now = 1_800_000_000;
  const o = (publishTime: number, over: Partial<Observation> = {}): Observation => ({ source: 'pyth', feedId: sol.pythFeedId, price: '15000000000', conf: '1500000', expo: -8, publishTime, emaPrice: '15000000000', emaConf: '1500000', slot: 5, ...over });
  const good = (publishTime: number, price = 15_000_000_000n) => ({ symbol: sol.symbol, feedId: sol.pythFeedId, source: 'pyth' as const, price, conf: 1_500_000n, expo: -8, publishTime, hasConfidence: true });

  it('accepts what is old against now, and what comes before the live book (which a live update fails)', () => {
    const old = o(now - 5 * sol.validation.maxAgeSec.display);
    expect(validateObservation(old, { market: sol, now })).toMatchObject({ ok: false, reason: 'stale' });
    const r = validateBackfilled(old, { market: sol, now });
    expect(r.ok).toBe(true);
    // Graded against now: too old for every action.
    if (r.ok) expect(ACTIONS.every((a) => !r.grades[a].ok)).toBe(true);
    const before = o(now - 10);
    expect(validateObservation(before, { market: sol, now, lastAccepted: { publishTime: now - 1, slot: 9 } })).toMatchObject({ ok: false, reason: 'publish_time_regressed' });
    expect(validateBackfilled(before, { market: sol, now }).ok).toBe(true);
  });

  it('keeps every other rule: feed, fields, exponent, confidence, future skew, sanity band', () => {
    const t = now - 120;
    expect(validateBackfilled(o(t), { market: undefined, now })).toMatchObject({ ok: false, reason: 'unknown_feed' });
    expect(validateBackfilled(o(t, { price: '-15000000000' }), { market: sol, now })).toMatchObject({ ok: false, reason: 'non_positive_price' });
    expect(validateBackfilled(o(t, { price: 'NaN' }), { market: sol, now })).toMatchObject({ ok: false, reason: 'non_finite_price' });
    expect(validateBackfilled(o(t, { expo: 7 }), { market: sol, now })).toMatchObject({ ok: false, reason: 'exponent_out_of_range' });
    expect(validateBackfilled(o(t, { conf: '1500000000' }), { market: sol, now })).toMatchObject({ ok: false, reason: 'confidence_too_wide' });
    expect(validateBackfilled(o(t, { publishTime: 'soon' }), { market: sol, now })).toMatchObject({ ok: false, reason: 'malformed' });
    expect(validateBackfilled(o(now + sol.validation.maxFutureSkewSec + 1), { market: sol, now })).toMatchObject({ ok: false, reason: 'future_publish_time' });
    // A jump beyond the band from the update before it in the gap; that anchor is aged against the
    // update itself, not against now.
    const jump = o(t, { price: '30000000000', emaPrice: '30000000000' });
    expect(validateBackfilled(jump, { market: sol, now, lastGood: good(t - 2) })).toMatchObject({ ok: false, reason: 'sanity_band_exceeded' });
    expect(validateBackfilled(jump, { market: sol, now, lastGood: good(t - sol.validation.maxAgeSec.display - 1) }).ok).toBe(true);
    expect(validateBackfilled(o(t, { price: '30000000000' }), { market: sol, now })).toMatchObject({ ok: false, reason: 'ema_band_exceeded' });
  });
});
