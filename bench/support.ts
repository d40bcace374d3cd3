// Helpers the benchmarks share.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { marketRegistrySchema, type MarketRegistry } from '../domain/markets.ts';
export { freePort } from '../sandbox/free-port.ts';

export const ROOT = new URL('..', import.meta.url).pathname;

/** The shipped registry's markets, then synthetic ones, `n` in all, in one feed group `bench`. */
export function registryOf(n: number, push?: MarketRegistry['markets'][number]['push']): MarketRegistry {
  const base = marketRegistrySchema.parse(JSON.parse(readFileSync(join(ROOT, 'config/markets.json'), 'utf8')));
  const template = base.markets[0]!;
  const markets = base.markets.slice(0, n).map((m) => ({ ...m, feedGroup: 'bench', ...(push && { push }) }));
  for (let i = markets.length; i < n; i++) {
    const id = createHash('sha256').update(`bench-feed-${i}`).digest('hex');
    markets.push({ ...template, symbol: `B${i}-PERP`, base: `B${i}`, pythFeedId: id, coingeckoId: `bench-${i}`, feedGroup: 'bench', ...(push && { push }) });
  }
  return { markets };
}

export function rssMb(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** A numeric `--name value` argument of the benchmark's command line, or `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Mainnet's slot time: the chain runs at it in the benchmarks, and latencies are also reported in its slots. */
export const SLOT_MS = 400;
