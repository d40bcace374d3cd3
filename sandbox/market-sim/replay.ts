import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { PythQuote } from './price-walk.ts';

/**
 * A recorded Hermes stream (`npm run record`): JSON lines of `{t, parsed}`, `t` the epoch ms it was
 * received, `parsed` Hermes' updates as sent. Replayed, each line is published at its recorded
 * offset from the first (divided by the speed), with its mantissas, confidence, exponent and EMA as
 * recorded and the publish time of the moment it is replayed (so that a replay is never stale).
 */
const mantissa = z.union([z.string().regex(/^-?\d{1,20}$/), z.number().int()]).transform((v) => BigInt(v));
const entry = z
  .object({
    id: z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/),
    price: z.object({ price: mantissa, conf: mantissa, expo: z.number().int().min(-18).max(18) }).passthrough(),
    ema_price: z.object({ price: mantissa, conf: mantissa }).passthrough().optional(),
  })
  .passthrough();
const line = z.object({ t: z.number().int().positive(), parsed: z.array(z.unknown()) });

export interface ReplayRecord {
  /** Ms after the recording's first message. */
  readonly offsetMs: number;
  readonly quotes: readonly { readonly feedId: string; readonly quote: PythQuote }[];
}

export function loadRecording(file: string): ReplayRecord[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const records: ReplayRecord[] = [];
  let t0: number | undefined;
  lines.forEach((text, i) => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${file}:${i + 1}: not JSON`);
    }
    const l = line.safeParse(json);
    if (!l.success) throw new Error(`${file}:${i + 1}: not a recorded message ({t, parsed})`);
    t0 ??= l.data.t;
    // An entry that is not a price update of the recorded shape is left out, as Hermes clients would skip it.
    const quotes = l.data.parsed.flatMap((raw) => {
      const e = entry.safeParse(raw);
      if (!e.success) return [];
      const { price, ema_price: ema } = e.data;
      return [{ feedId: e.data.id.toLowerCase().replace(/^0x/, ''), quote: { price: price.price, conf: price.conf, expo: price.expo, emaPrice: ema?.price ?? price.price, emaConf: ema?.conf ?? price.conf } }];
    });
    records.push({ offsetMs: Math.max(0, l.data.t - t0), quotes });
  });
  if (records.length === 0) throw new Error(`${file}: no recorded messages`);
  return records;
}
