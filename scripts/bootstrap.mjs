// The one entry point `npm start`, `npm test` and `.ci/run` call first: installs what is missing.
// npm dependencies are (re)installed when package-lock.json changed since the last install; the
// external tools come from scripts/tools.mjs, pinned and cached outside the clone.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'node_modules', '.quantdesk-lock-hash');
const lockHash = createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');

if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  // `npm install` with the lock, not `npm ci`: the registry this runs against may lack optional
  // packages for other platforms (litesvm's darwin/arm64 builds), which the lock then cannot list
  // and `npm ci` refuses as "out of sync". The lock still pins every version that is installed.
  process.stderr.write('[bootstrap] installing npm dependencies\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(stamp, lockHash);
}

// A keeper or a worker on another machine needs only the npm dependencies, not the embedded services' tools.
if (process.argv.includes('--deps-only')) process.exit(0);
const { ensureTools } = await import('./tools.mjs');
try {
  await ensureTools();
} catch (e) {
  process.stderr.write(`[bootstrap] ${e.message}\n`);
  process.exit(1);
}
