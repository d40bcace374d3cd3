import { parseDecimal, rescale } from '$domain/decimal.ts';

/** A typed amount ("1.5") as integer units at `scale`, or undefined when it is not a plain positive decimal. */
export function parseAmount(text: string, scale: number): bigint | undefined {
  const t = text.trim();
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(t)) return undefined;
  try {
    const x = parseDecimal(t);
    if (x.scale > scale) return undefined;
    return rescale(x, scale, 'trunc');
  } catch {
    return undefined;
  }
}
