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

export type DecimalErrorCode =
  | 'NOT_A_NUMBER'
  | 'NOT_AN_INTEGER'
  | 'NON_FINITE'
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

/** Strict integer parsing for mantissas that arrive as strings (Hermes sends "15123000000"). */
export function parseInteger(raw: unknown, what = 'value'): bigint {
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw new DecimalError('NON_FINITE', `${what} is ${raw}`);
    if (!Number.isSafeInteger(raw)) throw new DecimalError('NOT_AN_INTEGER', `${what} ${raw} is not a safe integer`);
    return BigInt(raw);
  }
  if (typeof raw !== 'string') throw new DecimalError('NOT_A_NUMBER', `${what} is a ${raw === null ? 'null' : typeof raw}, not an integer`);
  if (!/^-?\d{1,40}$/.test(raw)) {
    if (/^[-+]?(nan|inf|infinity)$/i.test(raw.trim())) throw new DecimalError('NON_FINITE', `${what} is ${raw}`);
    throw new DecimalError('NOT_AN_INTEGER', `${what} ${JSON.stringify(raw.slice(0, 40))} is not an integer`);
  }
  return BigInt(raw);
}

/** Pyth's (price, expo) as a fixed-point value. The exponent must lie in `range` (inclusive). */
export function fromPyth(price: unknown, expo: unknown, range: readonly [number, number] = PYTH_EXPO_RANGE): Fixed {
  if (typeof expo !== 'number' || !Number.isInteger(expo)) {
    throw new DecimalError('EXPONENT_OUT_OF_RANGE', `exponent ${String(expo)} is not an integer`);
  }
  if (expo < range[0] || expo > range[1]) {
    throw new DecimalError('EXPONENT_OUT_OF_RANGE', `exponent ${expo} is outside [${range[0]}, ${range[1]}]`);
  }
  return { mantissa: parseInteger(price, 'price'), scale: expo === 0 ? 0 : -expo };
}

/** Exact decimal parsing with no bound on the scale (internal: callers bound or round it). */
function parseExact(raw: string): Fixed {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d{1,4}))?$/.exec(raw.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    if (/^[-+]?(nan|inf|infinity)$/i.test(raw.trim())) throw new DecimalError('NON_FINITE', `${raw} is not finite`);
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
