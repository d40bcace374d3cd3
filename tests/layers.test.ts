import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support.ts';

/**
 * The layers, as README "Architecture" states them: a lower layer never imports a higher one.
 * Each folder lists what its shipped (non-test) files may import from the project; type-only
 * imports of activities by workflows are allowed (they call them through proxyActivities).
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  domain: ['domain'],
  contracts: ['domain', 'contracts'],
  store: ['domain', 'contracts', 'store'],
  bus: ['domain', 'contracts', 'store', 'bus', 'runtime'],
  runtime: ['domain', 'runtime'],
  temporal: ['contracts', 'runtime', 'temporal'],
  workflows: ['contracts', 'domain', 'temporal', 'workflows'],
  activities: ['domain', 'contracts', 'store', 'bus', 'runtime', 'programs', 'activities'],
  server: ['domain', 'contracts', 'store', 'bus', 'runtime', 'temporal', 'programs', 'server', 'workers'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return p.endsWith('.ts') && !/\.(test|child)\.ts$|test-fixtures\.ts$/.test(p) ? [p] : [];
  });
}

describe('layers', () => {
  for (const [layer, allowed] of Object.entries(MAY_IMPORT)) {
    it(`${layer}/ imports only ${allowed.join(', ')}`, () => {
      const offences: string[] = [];
      for (const file of files(join(ROOT, layer))) {
        const source = readFileSync(file, 'utf8');
        for (const m of source.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm)) {
          const target = relative(ROOT, join(file, '..', m[2]!)).split('/')[0]!;
          const typeOnly = m[1] !== undefined;
          if (allowed.includes(target)) continue;
          if (layer === 'workflows' && target === 'activities' && typeOnly) continue;
          offences.push(`${relative(ROOT, file)} imports ${m[2]}`);
        }
      }
      expect(offences).toEqual([]);
    });
  }

  it('no shipped code imports the sandbox', () => {
    const offences = Object.keys(MAY_IMPORT)
      .flatMap((layer) => files(join(ROOT, layer)))
      .filter((f) => /from\s+'[^']*sandbox\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(offences).toEqual([]);
  });
});
