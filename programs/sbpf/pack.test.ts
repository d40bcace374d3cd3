// Golden tests of the packer on objects assembled from small BPF assembly fixtures (llvm-mc-19, so
// no binary is committed): the section layout, every relocation kind it resolves, the syscall
// entries the loader binds, what it refuses, and a LiteSVM run of the packed result. The real
// program's .so is cross-checked with llvm-readelf.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiteSVM } from 'litesvm';
import { address, getTransactionDecoder } from '@solana/kit';
import { Keypair, Transaction, TransactionInstruction } from '@solana/web3.js';
import { ensureProgramBuilt, ensureProgramToolchain, type ProgramToolchain } from './build.mjs';
import { MM_PROGRAM_START, PackError, R_BPF, pack, readElf } from './pack.mjs';

let tools: ProgramToolchain;
let work: string;

beforeAll(() => {
  tools = ensureProgramToolchain();
  work = mkdtempSync(join(tmpdir(), 'qd-pack-test-'));
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

let fixtureCount = 0;
/** Assembles BPF assembly into an ELF relocatable object. */
function assemble(source: string, opts: { triple?: string; cpu?: string } = {}): Uint8Array {
  const name = join(work, `f${fixtureCount++}`);
  writeFileSync(`${name}.s`, source);
  const r = spawnSync(tools.llvmMc, [`-triple=${opts.triple ?? 'bpfel'}`, `-mcpu=${opts.cpu ?? 'v2'}`, '-filetype=obj', `${name}.s`, '-o', `${name}.o`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`llvm-mc failed: ${r.stderr}`);
  return readFileSync(`${name}.o`);
}

function refusal(f: () => unknown): PackError {
  try {
    f();
  } catch (e) {
    if (e instanceof PackError) return e;
    throw e;
  }
  throw new Error('the packer accepted what it should refuse');
}

/**
 * Logs "hello" (lddw of .rodata), then "rld" through a pointer table in .data.rel.ro into a merged
 * string section, then returns 42 from a function in another code section.
 */
const PROGRAM = `
	.text
	.globl	entrypoint
	.type	entrypoint,@function
entrypoint:
	r1 = greeting ll
	r2 = 5
	call sol_log_
	r1 = table ll
	r1 = *(u64 *)(r1 + 0)
	r2 = 3
	call sol_log_
	call helper
	exit

	.section	.text.cold,"ax",@progbits
	.type	helper,@function
helper:
	r0 = 42
	exit

	.section	.rodata,"a",@progbits
greeting:
	.ascii	"hello"
	.section	.rodata.str1.1,"aMS",@progbits,1
other:
	.asciz	"world"
	.section	.data.rel.ro,"aw",@progbits
	.p2align 3
table:
	.quad	other+2
`;

const readU32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);
const readI32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(o, true);
const readU64 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(o, true);

describe('pack', () => {
  it('lays out .text, .rodata and the dynamic tables at addresses equal to their offsets', () => {
    const out = pack(assemble(PROGRAM));
    const elf = readElf(out.so);
    expect(elf.header).toMatchObject({ type: 3, machine: 247, flags: 0, phnum: 0, phentsize: 56, shentsize: 64 });
    expect(elf.header.entry).toBe(BigInt(out.layout.text.offset));
    expect(elf.sections.map((s) => s.name)).toEqual(['', '.text', '.rodata', '.dynamic', '.dynsym', '.dynstr', '.rel.dyn', '.shstrtab']);
    expect(elf.sections.map((s) => s.type)).toEqual([0, 1, 1, 6, 11, 3, 9, 3]);
    expect(elf.sections.map((s) => s.flags)).toEqual([0, 6, 2, 2, 2, 2, 2, 0]);
    let end = 64;
    for (const s of elf.sections.slice(1)) {
      expect(s.offset, s.name).toBeGreaterThanOrEqual(end);
      end = s.offset + s.size;
      if (s.name !== '.shstrtab') expect(s.addr, s.name).toBe(BigInt(s.offset));
    }
    expect(elf.header.shoff).toBeGreaterThanOrEqual(end);
    // Both code sections, back to back; rodata holds .rodata, the strings and the pointer table.
    expect(out.textSections).toEqual(['.text', '.text.cold']);
    expect(out.rodataSections).toEqual(['.rodata', '.rodata.str1.1', '.data.rel.ro']);
    expect(out.layout.text.size).toBe(13 * 8);
    expect(out.layout.text.offset % 8).toBe(0);
  });

  it('resolves data addresses into the program region, and calls across code sections', () => {
    const out = pack(assemble(PROGRAM));
    const so = out.so;
    const text = out.layout.text.offset;
    const rodata = out.layout.rodata.offset;
    const lddw = (insn: number) => BigInt(readU32(so, text + insn * 8 + 4)) | (BigInt(readU32(so, text + insn * 8 + 12)) << 32n);
    // `greeting` is the first byte of .rodata.
    expect(lddw(0)).toBe(MM_PROGRAM_START + BigInt(rodata));
    // The pointer table sits 8-aligned after "hello" (5 bytes) and "world\\0" (6 bytes).
    const table = rodata + 16;
    expect(lddw(4)).toBe(MM_PROGRAM_START + BigInt(table));
    expect(readU64(so, table)).toBe(MM_PROGRAM_START + BigInt(rodata + 5 + 2));
    expect(Buffer.from(so.subarray(rodata, rodata + 11)).toString('latin1')).toBe('helloworld\0');
    // `call helper` (slot 9) lands on .text.cold, right after .text's 11 slots.
    expect(so[text + 9 * 8]).toBe(0x85);
    expect(9 + 1 + readI32(so, text + 9 * 8 + 4)).toBe(11);
  });

  it('leaves syscalls as call -1 named by R_BPF_64_32 entries in .rel.dyn', () => {
    const out = pack(assemble(PROGRAM));
    const elf = readElf(out.so);
    const so = out.so;
    const text = out.layout.text.offset;
    for (const insn of [3, 8]) {
      expect(so[text + insn * 8]).toBe(0x85);
      expect(readI32(so, text + insn * 8 + 4)).toBe(-1);
    }
    expect(out.dynamicRelocations).toEqual([
      { offset: text + 3 * 8, symbol: 'sol_log_' },
      { offset: text + 8 * 8, symbol: 'sol_log_' },
    ]);
    const relDyn = elf.sections.find((s) => s.name === '.rel.dyn')!;
    const dynsym = elf.sections.find((s) => s.name === '.dynsym')!;
    const dynstr = elf.sections.find((s) => s.name === '.dynstr')!;
    expect([relDyn.entsize, relDyn.link, dynsym.link, dynsym.entsize]).toEqual([16, elf.sections.indexOf(dynsym), elf.sections.indexOf(dynstr), 24]);
    for (let i = 0; i < 2; i++) {
      expect(readU64(so, relDyn.offset + i * 16)).toBe(BigInt(text + [3, 8][i]! * 8));
      expect(readU64(so, relDyn.offset + i * 16 + 8)).toBe((1n << 32n) | BigInt(R_BPF.R_64_32));
    }
    // Symbol 1: GLOBAL NOTYPE, undefined, named sol_log_.
    expect(so[dynsym.offset + 24 + 4]).toBe(0x10);
    expect(readU32(so, dynsym.offset + 24 + 6) & 0xffff).toBe(0);
    const nameAt = dynstr.offset + readU32(so, dynsym.offset + 24);
    expect(Buffer.from(so.subarray(nameAt, nameAt + 9)).toString('latin1')).toBe('sol_log_\0');
    // .dynamic: SYMTAB, SYMENT, STRTAB, STRSZ, REL, RELSZ, RELENT, NULL.
    const dynamic = elf.sections.find((s) => s.name === '.dynamic')!;
    const entries = [...Array(dynamic.size / 16).keys()].map((i) => [readU64(so, dynamic.offset + i * 16), readU64(so, dynamic.offset + i * 16 + 8)]);
    expect(entries).toEqual([
      [6n, BigInt(dynsym.offset)],
      [11n, 24n],
      [5n, BigInt(dynstr.offset)],
      [10n, BigInt(dynstr.size)],
      [17n, BigInt(relDyn.offset)],
      [18n, 32n],
      [19n, 16n],
      [0n, 0n],
    ]);
  });

  it('packs a program that LiteSVM loads and runs', () => {
    const svm = new LiteSVM();
    const programId = Keypair.generate().publicKey;
    svm.addProgram(address(programId.toBase58()), pack(assemble(PROGRAM)).so);
    const payer = Keypair.generate();
    svm.airdrop(address(payer.publicKey.toBase58()), 1_000_000_000n as never);
    const tx = new Transaction().add(new TransactionInstruction({ programId, keys: [], data: Buffer.alloc(0) }));
    tx.recentBlockhash = svm.latestBlockhash();
    tx.feePayer = payer.publicKey;
    tx.sign(payer);
    const res = svm.sendTransaction(getTransactionDecoder().decode(tx.serialize()) as Parameters<LiteSVM['sendTransaction']>[0]);
    const logs = 'err' in res ? res.meta().logs() : (res as { logs(): string[] }).logs();
    expect(logs).toContain('Program log: hello');
    expect(logs).toContain('Program log: rld');
    // The program returns 42, which the runtime reports as custom error 42.
    expect(logs.some((l) => l.endsWith('failed: custom program error: 0x2a'))).toBe(true);
  });

  it('keeps .rodata non-empty and omits .rel.dyn without syscalls', () => {
    const out = pack(assemble('\t.text\n\t.globl entrypoint\nentrypoint:\n\tr0 = 0\n\texit\n'));
    const elf = readElf(out.so);
    expect(elf.sections.map((s) => s.name)).toEqual(['', '.text', '.rodata', '.dynamic', '.dynsym', '.dynstr', '.shstrtab']);
    expect(out.layout.rodata.size).toBe(8);
  });

  describe('refuses', () => {
    const entry = '\t.text\n\t.globl entrypoint\nentrypoint:\n';
    it('writable data (.data and .bss)', () => {
      let e = refusal(() => pack(assemble(`${entry}\tr0 = 0\n\texit\n\t.section .data,"aw",@progbits\ncounter:\n\t.quad 1\n`)));
      expect([e.code, e.message]).toEqual(['WRITABLE_DATA', expect.stringContaining('.data holds 8 bytes of writable data')]);
      e = refusal(() => pack(assemble(`${entry}\tr0 = 0\n\texit\n\t.section .bss,"aw",@nobits\nzeros:\n\t.zero 16\n`)));
      expect([e.code, e.message]).toEqual(['WRITABLE_DATA', expect.stringContaining('.bss holds 16 bytes')]);
    });

    it('undefined symbols that are not Solana syscalls', () => {
      const e = refusal(() => pack(assemble(`${entry}\tcall memcpy\n\texit\n`)));
      expect([e.code, e.message]).toEqual(['UNDEFINED_SYMBOL', expect.stringContaining('undefined symbol memcpy, which is not a Solana syscall')]);
      const data = refusal(() => pack(assemble(`${entry}\tr1 = elsewhere ll\n\texit\n`)));
      expect(data.code).toBe('UNDEFINED_SYMBOL');
    });

    it('relocation types it does not resolve', () => {
      const e = refusal(() => pack(assemble(`${entry}\tr0 = 0\n\texit\n\t.section .rodata,"a",@progbits\nname:\n\t.ascii "x"\n\t.p2align 2\nptr32:\n\t.long name\n`)));
      expect([e.code, e.message]).toEqual(['UNKNOWN_RELOCATION', expect.stringContaining('R_BPF_64_ABS32')]);
    });

    it('function pointers (code addresses as data)', () => {
      const e = refusal(() => pack(assemble(`${entry}\tr1 = entrypoint ll\n\texit\n`)));
      expect([e.code, e.message]).toEqual(['UNSUPPORTED_RELOCATION', expect.stringContaining('no function pointers')]);
    });

    it('jmp32 instructions, which SBPFv0 does not have', () => {
      const e = refusal(() => pack(assemble(`${entry}\tif w1 > 3 goto +1\n\tr0 = 1\n\texit\n`, { cpu: 'v3' })));
      expect([e.code, e.message]).toEqual(['UNSUPPORTED_INSTRUCTION', expect.stringContaining('-mcpu=v2')]);
    });

    it('objects without an entrypoint, or that are not little-endian BPF relocatables', () => {
      expect(refusal(() => pack(assemble('\t.text\n\t.globl main\nmain:\n\texit\n'))).code).toBe('NO_ENTRYPOINT');
      expect(refusal(() => pack(assemble(`${entry}\texit\n`, { triple: 'bpfeb' }))).message).toContain('little-endian');
      expect(refusal(() => pack(pack(assemble(`${entry}\texit\n`)).so)).message).toContain('ET_REL');
      expect(refusal(() => pack(new Uint8Array(100))).code).toBe('MALFORMED');
    });
  });
});

describe('the program\'s shared object', () => {
  let soPath: string;
  beforeAll(async () => {
    soPath = await ensureProgramBuilt();
  }, 600_000);

  it('reads back the same with llvm-readelf: sections and syscall relocations', () => {
    const so = readFileSync(soPath);
    const mine = readElf(so);
    const r = spawnSync(tools.llvmReadelf, ['--sections', '--relocations', '--wide', soPath], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const s of mine.sections.slice(1)) {
      const line = r.stdout.split('\n').find((l) => l.includes(` ${s.name} `));
      expect(line, s.name).toBeDefined();
      expect(line).toContain(s.offset.toString(16).padStart(6, '0'));
    }
    const relocLines = r.stdout.split('\n').filter((l) => l.includes('R_BPF_64_32'));
    const relDyn = mine.sections.find((s) => s.name === '.rel.dyn')!;
    expect(relocLines.length).toBe(relDyn.size / 16);
    const names = new Set(relocLines.map((l) => l.trim().split(/\s+/).pop()));
    expect([...names].every((n) => n!.startsWith('sol_') || n === 'abort')).toBe(true);
    expect(names).toContain('sol_invoke_signed_c');
    expect(mine.header.entry).toBeGreaterThanOrEqual(64n);
  });
});
