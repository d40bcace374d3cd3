import { createHash } from 'node:crypto';

/**
 * Seeded randomness for the simulator. Every stream of numbers (one per feed and purpose) is derived
 * from the run's seed and a label, so a feed's sequence does not depend on how many other feeds exist,
 * on timing, or on the order in which feeds are stepped.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (mean 0, standard deviation 1). */
  normal(): number;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), 128-bit state, seeded from SHA-256. */
export function createRng(seed: string | number, label: string): Rng {
  const digest = createHash('sha256').update(`${String(seed)}\u0000${label}`).digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);

  const nextU32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  // Discard the first outputs: sfc32's state mixes poorly for a few rounds after seeding.
  for (let i = 0; i < 12; i++) nextU32();

  const next = (): number => nextU32() / 4_294_967_296;
  let spare: number | undefined;
  return {
    next,
    normal() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      // Box–Muller; 1 - next() lies in (0, 1], so the logarithm is finite.
      const r = Math.sqrt(-2 * Math.log(1 - next()));
      const theta = 2 * Math.PI * next();
      spare = r * Math.sin(theta);
      return r * Math.cos(theta);
    },
  };
}

/** A deterministic 32-byte value as lower-case hex, for feed ids derived from a label. */
export function hashHex(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}
