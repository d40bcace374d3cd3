/**
 * Fixed-point decimals on bigint: the only representation of money and prices in the system.
 * A value is `mantissa × 10^-scale` with `scale ≥ 0`. Pyth's (price, expo) is `{ mantissa: price,
 * scale: -expo }`. No `number` ever carries money; `number` inputs (CoinGecko's JSON) are converted
 * from their exact shortest decimal representation.
 */

/** USDC-like quote token: amounts in 10^-6 USD. */
export const QUOTE_DECIMALS = 6;
/** Position sizes in 10^-9 base units (the same precision as SOL lamports). */
export const BASE_DECIMALS = 9;
/** Prices used in margin math: 10^-9 USD per base unit (covers BONK-like prices and BTC within i64). */
export const PRICE_DECIMALS = 9;
/** Basis points: 1 bps = 0.01 %. */
export const BPS = 10_000n;
/** Pyth's widest exponent range; markets may narrow it. */
export const PYTH_EXPO_RANGE = [-18, 0] as const;
/** Largest scale accepted anywhere (10^-18). */
export const MAX_SCALE = 18;
/** i64 bounds: what fits in an on-chain account field. */
export const I64_MAX = 2n ** 63n - 1n;
export const I64_MIN = -(2n ** 63n);
export const U64_MAX = 2n ** 64n - 1n;

export interface Fixed {
  readonly mantissa: bigint;
  readonly scale: number;
}

/**
 * floor: toward −∞; ceil: toward +∞; trunc: toward 0; halfEven: to nearest, ties to even;
 * halfUp: to nearest, ties away from zero (display).
 */
export type Rounding = 'floor' | 'ceil' | 'trunc' | 'halfEven' | 'halfUp';

/**
 * NOT_A_NUMBER: no number at all (wrong type, empty, garbage); NOT_AN_INTEGER: a finite number
 * where an exact integer is required (a fraction, exponent notation, a double beyond 2^53);
 * NON_FINITE: NaN or ±Infinity; OUT_OF_RANGE: an integer outside the bounds asked for.
 */
export type DecimalErrorCode =
  | 'NOT_A_NUMBER'
  | 'NOT_AN_INTEGER'
  | 'NON_FINITE'
  | 'OUT_OF_RANGE'
  | 'SCALE_OUT_OF_RANGE'
  | 'EXPONENT_OUT_OF_RANGE'
  | 'DIVISION_BY_ZERO'
  | 'INEXACT';

export class DecimalError extends Error {
  constructor(
    readonly code: DecimalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DecimalError';
  }
}

const POW10: bigint[] = Array.from({ length: 2 * MAX_SCALE + 20 }, (_, i) => 10n ** BigInt(i));

/** 10^n for 0 ≤ n. */
export function pow10(n: number): bigint {
  if (!Number.isInteger(n) || n < 0) throw new DecimalError('SCALE_OUT_OF_RANGE', `10^${n} is not an integer power`);
  return POW10[n] ?? 10n ** BigInt(n);
}

const abs = (x: bigint) => (x < 0n ? -x : x);

/** n / d rounded as asked. The one division every other function goes through. */
export function divRound(n: bigint, d: bigint, rounding: Rounding): bigint {
  if (d === 0n) throw new DecimalError('DIVISION_BY_ZERO', 'division by zero');
  if (d < 0n) return divRound(-n, -d, rounding);
  const q = n / d; // truncates toward zero
  const r = n % d; // sign of n
  if (r === 0n) return q;
  switch (rounding) {
    case 'trunc':
      return q;
    case 'floor':
      return n < 0n ? q - 1n : q;
    case 'ceil':
      return n > 0n ? q + 1n : q;
    case 'halfUp':
    case 'halfEven': {
      const twice = 2n * abs(r);
      const away = twice > d || (twice === d && (rounding === 'halfUp' || abs(q) % 2n === 1n));
      return away ? (n < 0n ? q - 1n : q + 1n) : q;
    }
  }
}

/** a × b / c with one rounding at the end (exact intermediate, bigint has no overflow). */
export function mulDiv(a: bigint, b: bigint, c: bigint, rounding: Rounding): bigint {
  return divRound(a * b, c, rounding);
}

function checkScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < 0 || scale > MAX_SCALE) {
    throw new DecimalError('SCALE_OUT_OF_RANGE', `scale ${scale} is outside 0..${MAX_SCALE}`);
  }
}

/** The mantissa of `x` at another scale; rounding only applies when digits are dropped. */
export function rescale(x: Fixed, scale: number, rounding: Rounding): bigint {
  checkScale(scale);
  if (scale >= x.scale) return x.mantissa * pow10(scale - x.scale);
  return divRound(x.mantissa, pow10(x.scale - scale), rounding);
}

/** Inclusive bounds of an integer field; either side may be open. */
export interface IntegerBounds {
  readonly min?: bigint;
  readonly max?: bigint;
}

/** Pyth's price and EMA price mantissas. */
export const I64_BOUNDS: IntegerBounds = { min: I64_MIN, max: I64_MAX };
/** Pyth's conf and EMA conf: callers refuse a negative one with their own reason, so only the top is bounded here. */
export const U64_MAX_BOUND: IntegerBounds = { max: U64_MAX };

/** Longest integer string read at all: 40 digits exceed every bound we use, and BigInt of a huge string is slow. */
const MAX_INTEGER_DIGITS = 40;
const NON_FINITE_TEXT = /^[-+]?(nan|inf|infinity)$/i;
/** A decimal number literal (sign, digits, fraction, exponent): finite, but not necessarily an integer. */
const DECIMAL_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function checkBounds(x: bigint, what: string, bounds: IntegerBounds): bigint {
  if ((bounds.min !== undefined && x < bounds.min) || (bounds.max !== undefined && x > bounds.max)) {
    const range = `[${bounds.min ?? '-∞'}, ${bounds.max ?? '∞'}]`;
    throw new DecimalError('OUT_OF_RANGE', `${what} ${x.toString().slice(0, 50)} is outside ${range}`);
  }
  return x;
}

/**
 * Strict integer parsing for mantissas that arrive as strings (Hermes sends "15123000000"), within
 * `bounds`. Each failure says what the input was: NON_FINITE, NOT_AN_INTEGER ("150.25", "1e5",
 * 1.5, 2^60 as a double), NOT_A_NUMBER (null, an object, "", "abc"), OUT_OF_RANGE.
 */
export function parseInteger(raw: unknown, what = 'value', bounds: IntegerBounds = {}): bigint {
  if (typeof raw === 'bigint') return checkBounds(raw, what, bounds);
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw new DecimalError('NON_FINITE', `${what} is ${raw}`);
    if (!Number.isInteger(raw)) throw new DecimalError('NOT_AN_INTEGER', `${what} ${raw} is not an integer`);
    // An integral double's value is exact, so a bound it misses is missed by the true value too.
    checkBounds(BigInt(raw), what, bounds);
    if (!Number.isSafeInteger(raw)) throw new DecimalError('NOT_AN_INTEGER', `${what} ${raw} is beyond 2^53, so not an exact integer`);
    return BigInt(raw);
  }
  if (typeof raw !== 'string') throw new DecimalError('NOT_A_NUMBER', `${what} is a ${raw === null ? 'null' : typeof raw}, not an integer`);
  const integer = /^-?(\d+)$/.exec(raw);
  if (integer) {
    if (integer[1]!.length > MAX_INTEGER_DIGITS) {
      throw new DecimalError('OUT_OF_RANGE', `${what} has ${integer[1]!.length} digits, more than ${MAX_INTEGER_DIGITS}`);
    }
    return checkBounds(BigInt(raw), what, bounds);
  }
  if (NON_FINITE_TEXT.test(raw.trim())) throw new DecimalError('NON_FINITE', `${what} is ${raw}`);
  if (DECIMAL_TEXT.test(raw)) throw new DecimalError('NOT_AN_INTEGER', `${what} ${JSON.stringify(raw.slice(0, 40))} is not an integer`);
  throw new DecimalError('NOT_A_NUMBER', `${what} ${JSON.stringify(raw.slice(0, 40))} is not a number`);
}

/**
 * Pyth's (price, expo) as a fixed-point value. The exponent must lie in `range` (inclusive) and the
 * price, an i64 in Pyth's format, within i64.
 */
export function fromPyth(price: unknown, expo: unknown, range: readonly [number, number] = PYTH_EXPO_RANGE): Fixed {
  if (typeof expo !== 'number' || !Number.isInteger(expo)) {
    throw new DecimalError('EXPONENT_OUT_OF_RANGE', `exponent ${String(expo)} is not an integer`);
  }
  if (expo < range[0] || expo > range[1]) {
    throw new DecimalError('EXPONENT_OUT_OF_RANGE', `exponent ${expo} is outside [${range[0]}, ${range[1]}]`);
  }
  return { mantissa: parseInteger(price, 'price', I64_BOUNDS), scale: expo === 0 ? 0 : -expo };
}

/** Exact decimal parsing with no bound on the scale (internal: callers bound or round it). */
function parseExact(raw: string): Fixed {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d{1,4}))?$/.exec(raw.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    if (NON_FINITE_TEXT.test(raw.trim())) throw new DecimalError('NON_FINITE', `${raw} is not finite`);
    throw new DecimalError('NOT_A_NUMBER', `${JSON.stringify(raw.slice(0, 40))} is not a decimal number`);
  }
  const [, sign, int = '', frac = '', exp = '0'] = m;
  let mantissa = BigInt(`${int}${frac}` || '0');
  let scale = frac.length - Number(exp);
  if (scale < 0) {
    mantissa *= pow10(-scale);
    scale = 0;
  }
  return normalize({ mantissa: sign === '-' ? -mantissa : mantissa, scale });
}

/** Drops trailing zeros of the mantissa (the smallest scale that holds the value). */
function normalize(x: Fixed): Fixed {
  let { mantissa, scale } = x;
  if (mantissa === 0n) return { mantissa, scale: 0 };
  while (scale > 0 && mantissa % 10n === 0n) {
    mantissa /= 10n;
    scale -= 1;
  }
  return { mantissa, scale };
}

/**
 * A decimal string ("151.23", "-0.5", "1.5e-7") as a fixed-point value, exactly.
 * Refuses NaN, Infinity, empty strings and more than MAX_SCALE fractional digits.
 */
export function parseDecimal(raw: string): Fixed {
  const x = parseExact(raw);
  if (x.scale > MAX_SCALE) throw new DecimalError('SCALE_OUT_OF_RANGE', `${raw} has more than ${MAX_SCALE} decimal places`);
  return x;
}

/**
 * A JavaScript number (CoinGecko's JSON) through its shortest round-trip decimal form, rounded
 * half-even to MAX_SCALE decimals: a double holds ~17 significant digits, so digits beyond 10^-18
 * of a small price are binary noise, not information.
 */
export function fromNumber(n: unknown): Fixed {
  if (typeof n !== 'number') throw new DecimalError('NOT_A_NUMBER', `expected a number, got ${n === null ? 'null' : typeof n}`);
  if (!Number.isFinite(n)) throw new DecimalError('NON_FINITE', `${n} is not finite`);
  const x = parseExact(String(n));
  if (x.scale <= MAX_SCALE) return x;
  return normalize({ mantissa: divRound(x.mantissa, pow10(x.scale - MAX_SCALE), 'halfEven'), scale: MAX_SCALE });
}

/** Formats with exactly `decimals` fractional digits (rounded as asked, half-up by default). */
export function format(x: Fixed, decimals = x.scale, rounding: Rounding = 'halfUp'): string {
  const m = rescale(x, decimals, rounding);
  const sign = m < 0n ? '-' : '';
  const digits = abs(m).toString().padStart(decimals + 1, '0');
  if (decimals === 0) return `${sign}${digits}`;
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** Compares two values exactly, whatever their scales. */
export function compare(a: Fixed, b: Fixed): -1 | 0 | 1 {
  const s = Math.max(a.scale, b.scale);
  const x = a.mantissa * pow10(s - a.scale);
  const y = b.mantissa * pow10(s - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Both values' mantissas at their common (larger) scale, for exact arithmetic between them. */
export function align(a: Fixed, b: Fixed): [bigint, bigint, number] {
  const s = Math.max(a.scale, b.scale);
  return [a.mantissa * pow10(s - a.scale), b.mantissa * pow10(s - b.scale), s];
}

/**
 * |a − b| ≥ bps/10000 × |b|, decided exactly (no division, no float). The core of deviation,
 * sanity-band and divergence checks.
 */
export function deviatesAtLeast(a: Fixed, b: Fixed, bps: number): boolean {
  const [x, y] = align(a, b);
  return abs(x - y) * BPS >= BigInt(bps) * abs(y);
}

/** |a − b| > bps/10000 × |b|, exactly: strictly outside a band. */
export function deviatesBeyond(a: Fixed, b: Fixed, bps: number): boolean {
  const [x, y] = align(a, b);
  return abs(x - y) * BPS > BigInt(bps) * abs(y);
}

/** |a − b| / |b| in basis points, rounded down; for logs and records, never for decisions. */
export function deviationBps(a: Fixed, b: Fixed): bigint {
  const [x, y] = align(a, b);
  if (y === 0n) throw new DecimalError('DIVISION_BY_ZERO', 'deviation from zero');
  return mulDiv(abs(x - y), BPS, abs(y), 'floor');
}
