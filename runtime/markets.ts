import { readFileSync } from 'node:fs';
import { indexMarkets, marketRegistrySchema, type MarketIndex } from '../domain/markets.ts';

/** Loads and checks the feed registry (QD_MARKETS_FILE). A bad file stops the process with the reasons. */
export function loadMarkets(path: string): MarketIndex {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`feed registry ${path}: ${(e as Error).message}`);
  }
  const parsed = marketRegistrySchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`feed registry ${path} is invalid:\n  ${problems.join('\n  ')}`);
  }
  return indexMarkets(parsed.data);
}
