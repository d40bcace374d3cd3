// Builds programs/quantdesk_perp into an SBPFv0 shared object without Solana's platform-tools,
// from registry packages only (INFRA.md, "Solana program build"):
//   1. Debian's Rust 1.85 (rustc-web, cargo-web, rust-web-src; built on LLVM 19) and llvm-19;
//   2. `core` (+ an empty compiler_builtins) built once for bpfel-unknown-none into a sysroot in the
//      per-user tool cache;
//   3. the program as a staticlib with fat LTO: one LLVM bitcode module;
//   4. variable-length llvm.mem* intrinsics rewritten into sol_mem*_ syscalls (llc refuses them);
//   5. llc-19 -march=bpfel -mcpu=v2 to an object file, then pack.mjs to the shared object.
// Rebuilt only when the sources, this script, the packer or the toolchain change.
//
// Plain ESM with no dependencies, so scripts/tools.mjs can import it before `npm ci`:
//   ensureProgramToolchain()  installs/checks the toolchain and the sysroot
//   ensureProgramBuilt()      also builds the program if needed; returns the .so path
// As a script: `node programs/sbpf/build.mjs` (what `npm run build:program` runs);
// `node programs/sbpf/build.mjs test` runs the program's host unit tests (cargo test); `... idl` first regenerates
// the IDL (idl/quantdesk_perp.json) from the Rust declarations.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureDebianPackages } from '../../scripts/tools.mjs';
import { pack } from './pack.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const PROGRAM_DIR = join(here, '..', 'quantdesk_perp');
export const PROGRAM_SO = join(PROGRAM_DIR, 'target', 'quantdesk_perp.so');

/** Debian bookworm's Rust 1.85 (built on LLVM 19, like llc-19), pinned. */
export const RUST_DEB_VERSION = '1.85.0+dfsg3-1~deb12u3';
const RUST_PACKAGES = ['rustc-web', 'cargo-web', 'rust-web-src', 'libstd-rust-web-dev', 'libstd-rust-web-1.85'];
const LLVM_PACKAGE = 'llvm-19';
const TARGET = 'bpfel-unknown-none';
/** Constant-length mem* intrinsics up to this many bytes are left to llc, which inlines them. */
const INLINE_MEM_LIMIT = 128;

const TOOLS = {
  rustc: '/usr/bin/rustc',
  cargo: '/usr/bin/cargo',
  llc: '/usr/bin/llc-19',
  llvmAr: '/usr/bin/llvm-ar-19',
  llvmDis: '/usr/bin/llvm-dis-19',
  // For the packer's tests: assembling fixtures and reading the output independently.
  llvmMc: '/usr/bin/llvm-mc-19',
  llvmReadelf: '/usr/bin/llvm-readelf-19',
  rustSrc: '/usr/src/rustc-1.85.0/library',
};

const log = (msg) => process.stderr.write(`[build:program] ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return r;
}

function runOrThrow(cmd, args, opts = {}, explain = (out) => out) {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${explain(out)}`);
  }
  return r.stdout ?? '';
}

/** The pinned Debian packages the build needs (installed when missing or at another version). */
function ensureBuildPackages() {
  ensureDebianPackages([...RUST_PACKAGES.map((p) => [p, RUST_DEB_VERSION]), [LLVM_PACKAGE]]);
}

function versionOf(tool, args = ['--version']) {
  return runOrThrow(tool, args).trim();
}

/** Builds `core` and an empty compiler_builtins for the BPF target into `dir`'s rustlib. */
function buildSysroot(dir) {
  const lib = join(dir, 'lib', 'rustlib', TARGET, 'lib');
  mkdirSync(lib, { recursive: true });
  const env = { ...process.env, RUSTC_BOOTSTRAP: '1' };
  const common = ['--edition', '2021', '--crate-type', 'rlib', '--target', TARGET, '-C', 'opt-level=3', '-C', 'panic=abort', '-C', 'codegen-units=1'];
  log('building core for bpfel-unknown-none (once per toolchain, about 20 s)');
  runOrThrow(TOOLS.rustc, [...common, '--crate-name', 'core', '--cap-lints', 'allow', join(TOOLS.rustSrc, 'core', 'src', 'lib.rs'), '-o', join(lib, 'libcore.rlib')], { env });
  // The BPF target has no compiler-rt: an empty crate marked #![compiler_builtins] satisfies the
  // linker's expectation. Anything that would need a builtin then fails in llc or in the packer.
  const src = join(dir, 'compiler_builtins.rs');
  writeFileSync(src, '#![feature(compiler_builtins)]\n#![compiler_builtins]\n#![no_std]\n');
  runOrThrow(TOOLS.rustc, [...common, '--crate-name', 'compiler_builtins', '--cap-lints', 'allow', '--sysroot', dir, src, '-o', join(lib, 'libcompiler_builtins.rlib')], { env });
  rmSync(src);
}

/**
 * Makes sure the toolchain for the program is present: the pinned Debian packages and the BPF
 * sysroot in the tool cache. Idempotent and cheap when all is there.
 * @returns {typeof TOOLS & { sysroot: string, versions: string }}
 */
export function ensureProgramToolchain() {
  ensureBuildPackages();
  for (const [name, path] of Object.entries(TOOLS)) {
    if (!existsSync(path)) throw new Error(`${name} is missing at ${path} although its package is installed`);
  }
  const rustcVersion = versionOf(TOOLS.rustc, ['-vV']);
  const release = /release: (\S+)/.exec(rustcVersion)?.[1];
  if (!release) throw new Error(`cannot read the release of ${TOOLS.rustc}`);
  const sysroot = join(cacheDir(), `bpf-sysroot-${release}`);
  const marker = join(sysroot, 'lib', 'rustlib', TARGET, 'lib', 'libcompiler_builtins.rlib');
  if (!existsSync(marker)) {
    mkdirSync(dirname(sysroot), { recursive: true });
    const staging = mkdtempSync(`${sysroot}.partial-`);
    try {
      buildSysroot(staging);
      if (!existsSync(marker)) {
        rmSync(sysroot, { recursive: true, force: true });
        renameSync(staging, sysroot);
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const versions = [rustcVersion, versionOf(TOOLS.cargo), versionOf(TOOLS.llc).split('\n').slice(0, 2).join(' ')].join('\n');
  return { ...TOOLS, sysroot, versions };
}

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/** Hash of everything the shared object depends on. */
function inputsHash(toolchain) {
  const h = createHash('sha256');
  const files = [
    ...listFiles(join(PROGRAM_DIR, 'src')),
    join(PROGRAM_DIR, 'Cargo.toml'),
    join(PROGRAM_DIR, 'Cargo.lock'),
    join(here, 'build.mjs'),
    join(here, 'pack.mjs'),
  ].filter(existsSync);
  for (const f of files) {
    h.update(relative(PROGRAM_DIR, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  h.update(toolchain.versions);
  h.update(toolchain.sysroot);
  return h.digest('hex');
}

/** Finds the argument list of a call starting at `open` (index of '('), respecting nesting. */
function matchingParen(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function splitArgs(args) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(args.slice(start).trim());
  return out;
}

/**
 * Rewrites llvm.memcpy/memmove/memset calls whose length is not a small constant into calls to the
 * sol_memmove_ / sol_memset_ syscalls: the BPF backend cannot lower them ("A call to built-in
 * function 'memcpy' is not supported"). memcpy goes to memmove because LLVM allows memcpy with
 * equal source and destination, which sol_memcpy_ refuses as overlapping.
 * @param {string} ir textual LLVM IR
 * @returns {{ ir: string, rewritten: number }}
 */
export function rewriteMemIntrinsics(ir) {
  const pattern = /call void @llvm\.(memcpy|memmove|memset)\.(p0\.p0|p0)\.i64\(/g;
  let out = '';
  let last = 0;
  let rewritten = 0;
  const used = new Set();
  for (let m = pattern.exec(ir); m; m = pattern.exec(ir)) {
    const open = m.index + m[0].length - 1;
    const close = matchingParen(ir, open);
    if (close < 0) throw new Error(`unbalanced call to llvm.${m[1]} in the IR`);
    const args = splitArgs(ir.slice(open + 1, close));
    if (args.length !== 4) throw new Error(`llvm.${m[1]} with ${args.length} arguments`);
    const length = /^i64\s+(?:noundef\s+)?(-?\d+)$/.exec(args[2]);
    if (length && Number(length[1]) <= INLINE_MEM_LIMIT) continue;
    const callee = m[1] === 'memset' ? 'sol_memset_' : 'sol_memmove_';
    used.add(callee);
    out += ir.slice(last, m.index) + `call void @${callee}(${args.slice(0, 3).join(', ')})`;
    last = close + 1;
    rewritten++;
  }
  out += ir.slice(last);
  const declarations = { sol_memmove_: 'declare void @sol_memmove_(ptr, ptr, i64)', sol_memset_: 'declare void @sol_memset_(ptr, i8, i64)' };
  for (const name of used) {
    if (!new RegExp(`^(declare|define)[^\\n]*@${name}\\(`, 'm').test(out)) out += `\n${declarations[name]}\n`;
  }
  return { ir: out, rewritten };
}

/** Turns llc's terse refusals into what to change in the Rust code. */
function explainLlc(output) {
  const hints = [];
  if (/too many arguments|stack arguments are not supported/.test(output)) {
    hints.push('a non-inlined function takes more than 5 arguments (BPF passes at most 5, and a returned struct adds one): pass a struct by reference or mark it #[inline(always)]');
  }
  if (/aggregate returns are not supported|only small returns supported/.test(output)) {
    hints.push('a non-inlined function returns a pair, slice or Option: return through an out-parameter or a #[repr(C)] struct, or mark it #[inline(always)]');
  }
  const builtin = /built-in function '(__\w+)'/.exec(output);
  if (builtin) hints.push(`${builtin[1]} does not exist for BPF (128-bit multiply, divide or variable shift): use math::wide`);
  if (/stack limit|BPF stack/i.test(output)) hints.push('a stack frame exceeds 4096 bytes: move large locals behind references or split the function');
  return hints.length ? `${output}\n\nhint: ${hints.join('\nhint: ')}` : output;
}

/** mkdir-based lock, so parallel test workers build once; a lock left by a dead process is taken over. */
async function withLock(lockDir, fn) {
  const deadline = Date.now() + 20 * 60_000;
  mkdirSync(dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner;
      try {
        owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        owner = undefined;
      }
      const age = Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      const dead = owner ? !isAlive(owner) : age > 10_000;
      if (dead) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lockDir}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * LLVM IR (text) to an SBPFv0 shared object: mem* intrinsics rewritten, llc-19 for BPF v2, packed.
 * Throws with llc's message and a hint when llc refuses the code, or with the packer's refusal.
 * @param {string} ir
 * @param {{ llc: string }} [toolchain]
 * @returns {import('./pack.mjs').PackResult & { rewritten: number }}
 */
export function compileIr(ir, toolchain = ensureProgramToolchain()) {
  const work = mkdtempSync(join(tmpdir(), 'qd-llc-'));
  try {
    const { ir: rewrittenIr, rewritten } = rewriteMemIntrinsics(ir);
    if (rewritten > 0) log(`rewrote ${rewritten} variable-length mem* intrinsic call(s) into syscalls`);
    const ll = join(work, 'program.ll');
    writeFileSync(ll, rewrittenIr);
    const obj = join(work, 'program.o');
    runOrThrow(toolchain.llc, ['-march=bpfel', '-mcpu=v2', '-bpf-stack-size=4096', '-O3', '-filetype=obj', ll, '-o', obj], {}, explainLlc);
    return { ...pack(readFileSync(obj)), rewritten };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Compiles and packs the program; returns the path of the shared object. */
function build(toolchain, targetDir) {
  const cargoTarget = join(targetDir, 'sbpf');
  const env = {
    ...process.env,
    RUSTC: toolchain.rustc,
    RUSTFLAGS: `--sysroot ${toolchain.sysroot}`,
    CARGO_TARGET_DIR: cargoTarget,
  };
  delete env.RUSTC_WRAPPER;
  delete env.RUSTUP_TOOLCHAIN;
  log('compiling the program (cargo, fat LTO)');
  runOrThrow(toolchain.cargo, ['build', '--release', '--lib', '--target', TARGET, '--offline', '--locked'], { cwd: PROGRAM_DIR, env });
  const archive = join(cargoTarget, TARGET, 'release', 'libquantdesk_perp.a');

  const work = mkdtempSync(join(tmpdir(), 'qd-sbpf-'));
  try {
    runOrThrow(toolchain.llvmAr, ['x', archive], { cwd: work });
    const members = readdirSync(work);
    if (members.length !== 1) throw new Error(`expected one LLVM bitcode module in ${archive} (fat LTO), found: ${members.join(', ')}`);
    const bitcode = join(work, members[0]);
    const ll = join(work, 'program.ll');
    runOrThrow(toolchain.llvmDis, [bitcode, '-o', ll]);
    const packed = compileIr(readFileSync(ll, 'utf8'), toolchain);
    const tmp = `${PROGRAM_SO}.${process.pid}.tmp`;
    writeFileSync(tmp, packed.so);
    renameSync(tmp, PROGRAM_SO);
    log(`wrote ${relative(process.cwd(), PROGRAM_SO)} (${packed.so.length} bytes; code ${packed.layout.text.size}, rodata ${packed.layout.rodata.size}; syscalls ${packed.syscalls.join(' ')})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Builds programs/quantdesk_perp/target/quantdesk_perp.so unless it is up to date (same sources,
 * build scripts and toolchain as recorded in its stamp). Safe to call from parallel processes.
 * @returns {Promise<string>} the path of the shared object
 */
export async function ensureProgramBuilt() {
  const toolchain = ensureProgramToolchain();
  const targetDir = join(PROGRAM_DIR, 'target');
  const stamp = `${PROGRAM_SO}.stamp`;
  const fresh = () => existsSync(PROGRAM_SO) && existsSync(stamp) && readFileSync(stamp, 'utf8') === inputsHash(toolchain);
  if (fresh()) return PROGRAM_SO;
  return withLock(join(targetDir, '.build-lock'), () => {
    if (fresh()) return PROGRAM_SO;
    const hash = inputsHash(toolchain);
    build(toolchain, targetDir);
    writeFileSync(stamp, hash);
    return PROGRAM_SO;
  });
}

/**
 * Runs the program's host unit tests (pure math, oracle rules, the shared vectors in tests/vectors/
 * and the IDL check) with the same Debian toolchain, so no rustup is needed. Throws on failure.
 * With `writeIdl`, the IDL test first rewrites idl/quantdesk_perp.json from the code.
 * @param {{ writeIdl?: boolean }} [options]
 * @returns {string} cargo's output
 */
export function runProgramHostTests(options = {}) {
  const toolchain = ensureProgramToolchain();
  const env = { ...process.env, RUSTC: toolchain.rustc, CARGO_TARGET_DIR: join(PROGRAM_DIR, 'target', 'host') };
  if (options.writeIdl) env.QD_WRITE_IDL = '1';
  else delete env.QD_WRITE_IDL;
  delete env.RUSTFLAGS;
  delete env.RUSTC_WRAPPER;
  delete env.RUSTUP_TOOLCHAIN;
  const r = run(toolchain.cargo, ['test', '--offline', '--locked'], { cwd: PROGRAM_DIR, env });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`cargo test failed (exit ${r.status}):\n${out}`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === 'test' || process.argv[2] === 'idl') {
    try {
      process.stdout.write(runProgramHostTests({ writeIdl: process.argv[2] === 'idl' }));
    } catch (e) {
      process.stderr.write(`[build:program] ${e.message}\n`);
      process.exit(1);
    }
  } else {
    ensureProgramBuilt().then(
      (path) => process.stdout.write(`${path}\n`),
      (e) => {
        process.stderr.write(`[build:program] ${e.message}\n`);
        process.exit(1);
      },
    );
  }
}
