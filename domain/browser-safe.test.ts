import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * domain/ runs in the browser too (the dashboard computes margin and grades prices): its code may
 * use no Node built-in module, no `Buffer`, no `process` and no CommonJS `require`. Test files may.
 */

const DOMAIN = new URL('./', import.meta.url);

const builtins = builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.replace(/[/]/g, '\\/'));
const builtin = `(?:node:[\\w/]+|(?:${builtins.join('|')})(?:\\/[\\w/]*)?)`;
const RULES: [string, RegExp][] = [
  ['imports a Node built-in', new RegExp(`\\b(?:from|import)\\s*\\(?\\s*['"]${builtin}['"]`)],
  ['uses Buffer', /\bBuffer\b/],
  ['uses process', /\bprocess\s*[.[]/],
  ['calls require(', /\brequire\s*\(/],
];

/** Code without its comments, so a comment may name what the code must not use. */
const code = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

function offences(source: string): string[] {
  const text = code(source);
  return RULES.filter(([, re]) => re.test(text)).map(([what]) => what);
}

const domainFiles = () =>
  (readdirSync(DOMAIN, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort();

describe('domain/ is browser-safe', () => {
  it('finds what it looks for', () => {
    expect(offences(`import { readFileSync } from 'node:fs';`)).toEqual(['imports a Node built-in']);
    expect(offences(`import path from "path";`)).toEqual(['imports a Node built-in']);
    expect(offences(`const c = await import('crypto');`)).toEqual(['imports a Node built-in']);
    expect(offences(`export { x } from 'fs/promises';`)).toEqual(['imports a Node built-in']);
    expect(offences(`const n = Buffer.byteLength(s);`)).toEqual(['uses Buffer']);
    expect(offences(`const t = process.env.X;`)).toEqual(['uses process']);
    expect(offences(`const z = require('zod');`)).toEqual(['calls require(']);
    expect(offences(`import { z } from 'zod';\n// no Buffer here, nor process.env\n/** require(x) */`)).toEqual([]);
  });

  it.each(domainFiles())('%s uses no Node built-in, Buffer, process or require', (file) => {
    expect(offences(readFileSync(new URL(file, DOMAIN), 'utf8'))).toEqual([]);
  });
});
