import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../tests/vectors/decimal.json' with { type: 'json' };
import {
  DecimalError,
  I64_BOUNDS,
  I64_MAX,
  I64_MIN,
  U64_MAX,
  U64_MAX_BOUND,
  compare,
  deviatesAtLeast,
  deviatesBeyond,
  divRound,
  format,
  fromNumber,
  fromPyth,
  parseDecimal,
  parseInteger,
  rescale,
  type Rounding,
} from './decimal.ts';

const ROUNDINGS: Rounding[] = ['floor', 'ceil', 'trunc', 'halfEven', 'halfUp'];

describe('shared vectors: rescale', () => {
  it.each(vectors.rescale)('$mantissa e-$from → scale $to ($rounding)', (v) => {
    expect(rescale({ mantissa: BigInt(v.mantissa), scale: v.from }, v.to, v.rounding as Rounding).toString()).toBe(v.expect);
  });
});

describe('divRound', () => {
  it('rounds each way as named', () => {
    expect([-7n, 7n].map((n) => ROUNDINGS.map((r) => divRound(n, 2n, r)))).toEqual([
      [-4n, -3n, -3n, -4n, -4n],
      [3n, 4n, 3n, 4n, 4n],
    ]);
    expect(() => divRound(1n, 0n, 'floor')).toThrow(DecimalError);
  });

  it('stays within one unit of the exact quotient, on the promised side', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 20n }), (n, d) => {
        const f = divRound(n, d, 'floor');
        const c = divRound(n, d, 'ceil');
        expect(f * d <= n && n < (f + 1n) * d).toBe(true);
        expect(c * d >= n && n > (c - 1n) * d).toBe(true);
        expect(c - f).toBe(n % d === 0n ? 0n : 1n);
      }),
    );
  });
});

describe('rescaling never gains value', () => {
  it('down-scaling with floor never exceeds, with ceil never falls short, and up-scaling is exact', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), fc.integer({ min: 0, max: 18 }), fc.integer({ min: 0, max: 18 }), (m, from, to) => {
        const x = { mantissa: m, scale: from };
        expect(compare({ mantissa: rescale(x, to, 'floor'), scale: to }, x)).toBeLessThanOrEqual(0);
        expect(compare({ mantissa: rescale(x, to, 'ceil'), scale: to }, x)).toBeGreaterThanOrEqual(0);
        expect(Math.abs(compare({ mantissa: rescale(x, to, 'trunc'), scale: to }, { mantissa: 0n, scale: 0 }))).toBeLessThanOrEqual(
          Math.abs(compare(x, { mantissa: 0n, scale: 0 })),
        );
        if (to >= from) expect(compare({ mantissa: rescale(x, to, 'floor'), scale: to }, x)).toBe(0);
      }),
    );
  });
});

describe('parsing', () => {
  it('reads Pyth mantissas and exponents', () => {
    expect(fromPyth('15123456789', -8)).toEqual({ mantissa: 15123456789n, scale: 8 });
    expect(format(fromPyth('15123456789', -8), 2)).toBe('151.23');
    expect(format(fromPyth('2012', -10), 10)).toBe('0.0000002012');
    expect(fromPyth('7', 0)).toEqual({ mantissa: 7n, scale: 0 });
  });

  it.each([
    ['NaN', -8, 'NON_FINITE'],
    ['Infinity', -8, 'NON_FINITE'],
    ['-inf', -8, 'NON_FINITE'],
    ['1.5', -8, 'NOT_AN_INTEGER'],
    ['150.25', -8, 'NOT_AN_INTEGER'],
    ['1e5', -8, 'NOT_AN_INTEGER'],
    [150.5, -8, 'NOT_AN_INTEGER'],
    ['', -8, 'NOT_A_NUMBER'],
    ['one hundred', -8, 'NOT_A_NUMBER'],
    [' 15', -8, 'NOT_A_NUMBER'],
    [null, -8, 'NOT_A_NUMBER'],
    [{}, -8, 'NOT_A_NUMBER'],
    [String(I64_MAX + 1n), -8, 'OUT_OF_RANGE'],
    [String(I64_MIN - 1n), -8, 'OUT_OF_RANGE'],
    [2 ** 63, -8, 'OUT_OF_RANGE'],
    [`1${'0'.repeat(40)}`, -8, 'OUT_OF_RANGE'],
    ['12', 3, 'EXPONENT_OUT_OF_RANGE'],
    ['12', -19, 'EXPONENT_OUT_OF_RANGE'],
    ['12', -8.5, 'EXPONENT_OUT_OF_RANGE'],
    ['12', Number.NaN, 'EXPONENT_OUT_OF_RANGE'],
  ] as const)('refuses Pyth price %j with exponent %d (%s)', (price, expo, code) => {
    expect(() => fromPyth(price, expo)).toThrow(expect.objectContaining({ code }));
  });

  it('reads Pyth prices up to the edges of i64', () => {
    expect(fromPyth(String(I64_MAX), -8).mantissa).toBe(I64_MAX);
    expect(fromPyth(String(I64_MIN), -8).mantissa).toBe(I64_MIN);
  });

  it('refuses non-integers where integers are required', () => {
    expect(() => parseInteger(1.5)).toThrow(expect.objectContaining({ code: 'NOT_AN_INTEGER' }));
    expect(() => parseInteger(2 ** 60)).toThrow(expect.objectContaining({ code: 'NOT_AN_INTEGER' }));
    expect(() => parseInteger(null)).toThrow(expect.objectContaining({ code: 'NOT_A_NUMBER' }));
    expect(() => parseInteger({})).toThrow(expect.objectContaining({ code: 'NOT_A_NUMBER' }));
  });

  it('bounds integers as asked, whatever form they come in', () => {
    expect(parseInteger(String(U64_MAX), 'conf', U64_MAX_BOUND)).toBe(U64_MAX);
    expect(parseInteger('-1', 'conf', U64_MAX_BOUND)).toBe(-1n);
    for (const raw of [String(U64_MAX + 1n), U64_MAX + 1n, 2 ** 64]) {
      expect(() => parseInteger(raw, 'conf', U64_MAX_BOUND)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    }
    expect(() => parseInteger(I64_MIN - 1n, 'price', I64_BOUNDS)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });

  it('accepts an integer string exactly when it lies within i64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), (x) => {
        const fits = x >= I64_MIN && x <= I64_MAX;
        if (fits) expect(parseInteger(x.toString(), 'price', I64_BOUNDS)).toBe(x);
        else expect(() => parseInteger(x.toString(), 'price', I64_BOUNDS)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
      }),
    );
  });

  it('reads CoinGecko numbers exactly through their shortest decimal form', () => {
    expect(fromNumber(151.23)).toEqual({ mantissa: 15123n, scale: 2 });
    expect(fromNumber(0.1)).toEqual({ mantissa: 1n, scale: 1 });
    expect(fromNumber(2.01e-5)).toEqual({ mantissa: 201n, scale: 7 });
    expect(fromNumber(95000)).toEqual({ mantissa: 95000n, scale: 0 });
    expect(parseDecimal('1.50e3')).toEqual({ mantissa: 1500n, scale: 0 });
    expect(parseDecimal('-0.000')).toEqual({ mantissa: 0n, scale: 0 });
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '151.23', null]) {
      expect(() => fromNumber(bad)).toThrow(DecimalError);
    }
    expect(() => parseDecimal('1e-19')).toThrow(expect.objectContaining({ code: 'SCALE_OUT_OF_RANGE' }));
    expect(() => parseDecimal('.')).toThrow(expect.objectContaining({ code: 'NOT_A_NUMBER' }));
  });

  it('round-trips any decimal string through parse and format', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (m, scale) => {
        const s = format({ mantissa: m, scale }, scale);
        expect(compare(parseDecimal(s), { mantissa: m, scale })).toBe(0);
      }),
    );
  });

  it('agrees with every double JavaScript can print, to 18 decimals', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-15, max: 1e12, noNaN: true }), (n) => {
        const x = fromNumber(n);
        expect(x.scale).toBeLessThanOrEqual(18);
        if (n >= 1e-2) expect(Number(format(x, x.scale))).toBe(n);
        else expect(Math.abs(Number(format(x, x.scale)) - n)).toBeLessThanOrEqual(5e-19 + n * Number.EPSILON);
      }),
    );
  });
});

describe('deviation bands', () => {
  it('separates "at least" from "beyond" at the exact edge', () => {
    const base = { mantissa: 10_000n, scale: 2 };
    const tenBpsUp = { mantissa: 10_010n, scale: 2 };
    expect(deviatesAtLeast(tenBpsUp, base, 10)).toBe(true);
    expect(deviatesBeyond(tenBpsUp, base, 10)).toBe(false);
    expect(deviatesBeyond({ mantissa: 1_001_000_001n, scale: 7 }, base, 10)).toBe(true);
  });
});
