import { format, type Fixed } from '$domain/decimal.ts';

/**
 * Display formatting of the fixed-point integer strings the gateway sends. Money is never a float:
 * values stay bigint until they become text here, with thousands separators and a fixed number of
 * decimals per magnitude, so a ticking price keeps its width.
 */

const group = (int: string) => int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** `mantissa × 10^-scale` with `decimals` digits after the point, grouped. */
export function fixed(mantissa: bigint | string, scale: number, decimals: number): string {
  const text = format({ mantissa: BigInt(mantissa), scale } satisfies Fixed, decimals);
  const negative = text.startsWith('-');
  const [int, frac] = (negative ? text.slice(1) : text).split('.');
  return `${negative ? '−' : ''}${group(int!)}${frac !== undefined ? `.${frac}` : ''}`;
}

/** Decimals that show a price to about 6 significant digits (BTC 95,000.00; BONK 0.0000200000). */
export function priceDecimals(mantissa: bigint | string, scale: number): number {
  const m = BigInt(mantissa);
  const abs = m < 0n ? -m : m;
  const intDigits = abs.toString().length - scale;
  return Math.max(2, Math.min(scale, 6 - intDigits));
}

/** A Pyth (price, expo) as text, at `decimals` (default: from its magnitude). */
export function pythPrice(price: string, expo: number, decimals?: number): string {
  const scale = -expo;
  return fixed(price, scale, decimals ?? priceDecimals(price, scale));
}

/** USD of a quote amount (10^-6), two decimals. */
export const usd = (quote: bigint | string, decimals = 2) => fixed(quote, 6, decimals);

/** Signed USD with an explicit + for gains. */
export function signedUsd(quote: bigint | string, decimals = 2): string {
  const v = BigInt(quote);
  return `${v > 0n ? '+' : ''}${usd(v, decimals)}`;
}

/** Basis points as a percentage with two decimals. */
export const bpsPct = (bps: bigint | string | number) => `${fixed(BigInt(bps), 2, 2)} %`;

/** Age in seconds as a short text. */
export function age(sec: number): string {
  if (sec < 60) return `${sec} s`;
  if (sec < 3_600) return `${Math.floor(sec / 60)} min`;
  return `${Math.floor(sec / 3_600)} h`;
}

/** Percentage change between two prices at the same scale, two decimals, signed. */
export function changePct(from: bigint, to: bigint): string {
  if (from === 0n) return '—';
  const bps = ((to - from) * 1_000_000n) / from; // 10^-4 %
  const sign = bps > 0n ? '+' : bps < 0n ? '−' : '';
  const a = bps < 0n ? -bps : bps;
  return `${sign}${fixed(a, 4, 2)} %`;
}
