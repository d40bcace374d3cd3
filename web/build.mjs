// Builds the dashboard (SvelteKit, adapter-node) into web/build when its sources changed since the
// last build: a hash of everything the bundle is made from is kept in web/build/.stamp.
//   ensureWebBuilt()   builds if needed; returns the server entry (web/build/index.js)
// As a script: `node web/build.mjs` (what `npm run build:web` runs); `--force` rebuilds.
// Plain ESM with no dependencies, so npm start can call it before anything else is loaded.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
export const WEB_ENTRY = join(here, 'build', 'index.js');
const STAMP = join(here, 'build', '.stamp');
const LOCK = join(here, '.build-lock');

/** What the bundle is made of: the app, the layers it imports, the lock file (dependency versions). */
const INPUTS = [
  'web/src',
  'web/static',
  'web/svelte.config.js',
  'web/vite.config.ts',
  'web/package.json',
  'web/build.mjs',
  'domain',
  'contracts',
  'programs/client',
  'programs/quantdesk_perp/idl',
  'runtime/config.ts',
  'package-lock.json',
];

function listFiles(p) {
  if (!existsSync(p)) return [];
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .sort()
    .flatMap((name) => listFiles(join(p, name)));
}

export function inputsHash() {
  const h = createHash('sha256');
  for (const f of INPUTS.flatMap((i) => listFiles(join(root, i)))) {
    if (/\.test\.ts$/.test(f)) continue;
    h.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex');
}

const log = (msg) => process.stderr.write(`[build:web] ${msg}\n`);

/** mkdir lock: npm start and tests may ask at once; a lock whose owner died is taken over. */
async function withLock(fn) {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
      } catch {}
      let alive = false;
      try {
        if (owner > 0) alive = (process.kill(owner, 0), true);
      } catch {}
      if (!alive && Number.isFinite(owner)) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another web build holds ${LOCK}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export async function ensureWebBuilt({ force = false } = {}) {
  const hash = inputsHash();
  const current = () => existsSync(WEB_ENTRY) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash;
  if (!force && current()) return WEB_ENTRY;
  return withLock(() => {
    if (!force && current()) return WEB_ENTRY;
    log('sources changed: building the dashboard (vite build)');
    const started = Date.now();
    const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
    const r = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: here, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status}):\n${`${r.stdout}${r.stderr}`.slice(-6_000)}`);
    writeFileSync(STAMP, hash);
    log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return WEB_ENTRY;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureWebBuilt({ force: process.argv.includes('--force') })
    .then((entry) => log(`ready: ${relative(root, entry)}`))
    .catch((e) => {
      log(e.message);
      process.exit(1);
    });
}
