// Packs an ELF64 relocatable BPF object (what `llc -march=bpfel -filetype=obj` writes) into an
// SBPFv0 shared object that Solana's loader accepts, in place of a linker. What the loader wants
// (from the public anza-xyz/sbpf loader, src/elf.rs and src/elf_parser/):
//   - ELF64, little-endian, ET_DYN, EM_BPF, e_flags 0 (SBPFv0), e_entry inside `.text`;
//   - exactly one `.text`; read-only data in `.rodata`; no writable `.data`/`.bss`;
//   - sections in file order, not overlapping the headers, each alloc section at sh_addr ==
//     sh_offset (virtual address = 0x1_0000_0000 + file offset);
//   - bpf-to-bpf calls pc-relative (`call imm`, imm != -1), resolved here;
//   - syscalls as `call -1` plus an R_BPF_64_32 entry in `.rel.dyn` naming the syscall in
//     `.dynsym`/`.dynstr`, found through `.dynamic` (DT_REL, DT_RELSZ, DT_RELENT, DT_SYMTAB, DT_STRTAB).
// Everything else (data addresses in `lddw` and in pointer tables) is resolved here too, so the
// loader has only the syscalls left to bind.
//
// The packer refuses, with a message naming the cause, whatever it cannot pack faithfully: writable
// data, unknown relocation types, undefined symbols that are not Solana syscalls, code the SBPFv0
// verifier rejects (jmp32), and malformed input.

/** Loader address of the program region: every address in the file is rebased onto it. */
export const MM_PROGRAM_START = 0x1_0000_0000n;

/** Syscalls the Solana runtime registers by name (agave's syscall registry). */
export const SOLANA_SYSCALLS = Object.freeze([
  'abort',
  'sol_panic_',
  'sol_log_',
  'sol_log_64_',
  'sol_log_compute_units_',
  'sol_log_pubkey',
  'sol_log_data',
  'sol_create_program_address',
  'sol_try_find_program_address',
  'sol_sha256',
  'sol_keccak256',
  'sol_blake3',
  'sol_secp256k1_recover',
  'sol_poseidon',
  'sol_get_clock_sysvar',
  'sol_get_epoch_schedule_sysvar',
  'sol_get_fees_sysvar',
  'sol_get_rent_sysvar',
  'sol_get_last_restart_slot',
  'sol_get_epoch_rewards_sysvar',
  'sol_get_sysvar',
  'sol_get_epoch_stake',
  'sol_memcpy_',
  'sol_memmove_',
  'sol_memcmp_',
  'sol_memset_',
  'sol_invoke_signed_c',
  'sol_invoke_signed_rust',
  'sol_set_return_data',
  'sol_get_return_data',
  'sol_get_stack_height',
  'sol_get_processed_sibling_instruction',
  'sol_remaining_compute_units',
  'sol_curve_validate_point',
  'sol_curve_group_op',
  'sol_curve_multiscalar_mul',
  'sol_alt_bn128_group_op',
  'sol_alt_bn128_compression',
  'sol_big_mod_exp',
]);

export class PackError extends Error {
  /** @param {string} code stable reason, e.g. WRITABLE_DATA @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'PackError';
    this.code = code;
  }
}

// ELF constants (System V gABI, and the BPF psABI for relocation types).
const ET_REL = 1;
const ET_DYN = 3;
const EM_BPF = 247;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_RELA = 4;
const SHT_DYNAMIC = 6;
const SHT_NOBITS = 8;
const SHT_REL = 9;
const SHT_DYNSYM = 11;
const SHF_WRITE = 0x1;
const SHF_ALLOC = 0x2;
const SHF_EXECINSTR = 0x4;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const STB_GLOBAL = 1;
const STT_NOTYPE = 0;
const STT_SECTION = 3;
const DT_NULL = 0;
const DT_STRTAB = 5;
const DT_SYMTAB = 6;
const DT_REL = 17;
const DT_RELSZ = 18;
const DT_RELENT = 19;
const DT_STRSZ = 10;
const DT_SYMENT = 11;

export const R_BPF = Object.freeze({ NONE: 0, R_64_64: 1, ABS64: 2, ABS32: 3, NODYLD32: 4, R_64_32: 10 });
const RELOCATION_NAMES = { 0: 'R_BPF_NONE', 1: 'R_BPF_64_64', 2: 'R_BPF_64_ABS64', 3: 'R_BPF_64_ABS32', 4: 'R_BPF_64_NODYLD32', 10: 'R_BPF_64_32' };

const OP_LDDW = 0x18;
const OP_CALL = 0x85;
const CLASS_JMP32 = 0x06;
const INSN = 8;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const DYN_SIZE = 16;

const align = (n, a) => (a > 1 ? Math.ceil(n / a) * a : n);
const hex = (n) => `0x${n.toString(16)}`;

function toNumber(big, what) {
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new PackError('MALFORMED', `${what} ${big} is out of range`);
  return Number(big);
}

/** Reads the parts of an ELF64 little-endian file the packer needs, with bounds checks. */
export function readElf(bytes) {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < EHDR_SIZE || view.getUint32(0, false) !== 0x7f454c46) throw new PackError('MALFORMED', 'not an ELF file');
  if (buf[4] !== 2) throw new PackError('MALFORMED', 'not a 64-bit ELF file (EI_CLASS)');
  if (buf[5] !== 1) throw new PackError('MALFORMED', 'not a little-endian ELF file (EI_DATA): use -march=bpfel');
  const header = {
    type: view.getUint16(16, true),
    machine: view.getUint16(18, true),
    entry: view.getBigUint64(24, true),
    phoff: view.getBigUint64(32, true),
    shoff: toNumber(view.getBigUint64(40, true), 'e_shoff'),
    flags: view.getUint32(48, true),
    phentsize: view.getUint16(54, true),
    phnum: view.getUint16(56, true),
    shentsize: view.getUint16(58, true),
    shnum: view.getUint16(60, true),
    shstrndx: view.getUint16(62, true),
  };
  if (header.shnum === 0 || header.shentsize !== SHDR_SIZE) throw new PackError('MALFORMED', 'no section header table (or extended numbering)');
  if (header.shoff + header.shnum * SHDR_SIZE > buf.length) throw new PackError('MALFORMED', 'section header table beyond the end of the file');

  const sections = [];
  for (let i = 0; i < header.shnum; i++) {
    const o = header.shoff + i * SHDR_SIZE;
    const s = {
      index: i,
      nameOffset: view.getUint32(o, true),
      type: view.getUint32(o + 4, true),
      flags: toNumber(view.getBigUint64(o + 8, true), 'sh_flags'),
      addr: view.getBigUint64(o + 16, true),
      offset: toNumber(view.getBigUint64(o + 24, true), 'sh_offset'),
      size: toNumber(view.getBigUint64(o + 32, true), 'sh_size'),
      link: view.getUint32(o + 40, true),
      info: view.getUint32(o + 44, true),
      addralign: toNumber(view.getBigUint64(o + 48, true), 'sh_addralign'),
      entsize: toNumber(view.getBigUint64(o + 56, true), 'sh_entsize'),
      name: '',
    };
    if (s.type !== SHT_NOBITS && s.offset + s.size > buf.length) throw new PackError('MALFORMED', `section ${i} extends beyond the end of the file`);
    s.data = s.type === SHT_NOBITS ? new Uint8Array(0) : buf.subarray(s.offset, s.offset + s.size);
    sections.push(s);
  }
  const shstr = sections[header.shstrndx];
  if (!shstr || shstr.type !== SHT_STRTAB) throw new PackError('MALFORMED', 'no section name string table');
  for (const s of sections) s.name = cString(shstr.data, s.nameOffset, 'section name');

  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  let symbols = [];
  if (symtab) {
    const strtab = sections[symtab.link];
    if (!strtab || strtab.type !== SHT_STRTAB) throw new PackError('MALFORMED', 'symbol table without a string table');
    const sv = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
    for (let i = 0; i * SYM_SIZE + SYM_SIZE <= symtab.size; i++) {
      const o = i * SYM_SIZE;
      const info = sv.getUint8(o + 4);
      symbols.push({
        index: i,
        name: cString(strtab.data, sv.getUint32(o, true), 'symbol name'),
        bind: info >> 4,
        type: info & 0xf,
        shndx: sv.getUint16(o + 6, true),
        value: sv.getBigUint64(o + 8, true),
        size: sv.getBigUint64(o + 16, true),
      });
    }
  }

  const relocations = [];
  for (const s of sections) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
    const entry = s.type === SHT_RELA ? 24 : REL_SIZE;
    const rv = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
    const entries = [];
    for (let o = 0; o + entry <= s.size; o += entry) {
      const info = rv.getBigUint64(o + 8, true);
      entries.push({
        offset: toNumber(rv.getBigUint64(o, true), 'r_offset'),
        symbol: Number(info >> 32n),
        type: Number(info & 0xffffffffn),
        addend: s.type === SHT_RELA ? rv.getBigInt64(o + 16, true) : undefined,
      });
    }
    relocations.push({ section: s, target: s.info, rela: s.type === SHT_RELA, entries });
  }
  return { bytes: buf, header, sections, symbols, relocations };
}

function cString(table, offset, what) {
  if (offset >= table.length && !(offset === 0 && table.length === 0)) throw new PackError('MALFORMED', `${what} offset ${offset} is outside its string table`);
  let end = offset;
  while (end < table.length && table[end] !== 0) end++;
  return new TextDecoder().decode(table.subarray(offset, end));
}

const isText = (s) => (s.flags & SHF_ALLOC) !== 0 && (s.flags & SHF_EXECINSTR) !== 0;
const isRodataName = (name) => name === '.rodata' || name.startsWith('.rodata.') || name === '.data.rel.ro' || name.startsWith('.data.rel.ro.');

/**
 * Packs `objectBytes` (ET_REL, EM_BPF) into an SBPFv0 shared object.
 * @param {Uint8Array} objectBytes
 * @param {{ syscalls?: readonly string[], entry?: string }} [options]
 * @returns {{ so: Uint8Array, layout: object, syscalls: string[], dynamicRelocations: {offset: number, symbol: string}[] }}
 */
export function pack(objectBytes, options = {}) {
  const known = new Set(options.syscalls ?? SOLANA_SYSCALLS);
  const entryName = options.entry ?? 'entrypoint';
  const elf = readElf(objectBytes);
  const { header, sections, symbols } = elf;
  if (header.type !== ET_REL) throw new PackError('MALFORMED', `expected a relocatable object (ET_REL), got e_type ${header.type}`);
  if (header.machine !== EM_BPF) throw new PackError('MALFORMED', `expected EM_BPF (247), got e_machine ${header.machine}`);

  // Classify the allocated sections: code, read-only data, or refused.
  const textSections = [];
  const roSections = [];
  for (const s of sections) {
    if ((s.flags & SHF_ALLOC) === 0) continue;
    if (isText(s)) {
      if (s.type !== SHT_PROGBITS || !(s.name === '.text' || s.name.startsWith('.text.'))) {
        throw new PackError('UNSUPPORTED_SECTION', `executable section ${s.name} is not a .text section`);
      }
      if (s.size % INSN !== 0) throw new PackError('MALFORMED', `code section ${s.name} is ${s.size} bytes, not a whole number of instructions`);
      if (s.size > 0) textSections.push(s);
      continue;
    }
    // Unwind tables: nothing on SBF unwinds, and no code refers to them.
    if (s.size === 0 || s.name === '.eh_frame') continue;
    if (s.type === SHT_NOBITS) {
      throw new PackError('WRITABLE_DATA', `section ${s.name} holds ${s.size} bytes of zero-initialised writable data (a static mut or an interior-mutable static); SBPFv0 programs cannot have writable data`);
    }
    if ((s.flags & SHF_WRITE) !== 0 && !s.name.startsWith('.data.rel.ro')) {
      throw new PackError('WRITABLE_DATA', `section ${s.name} holds ${s.size} bytes of writable data; SBPFv0 programs cannot have writable data`);
    }
    if (!isRodataName(s.name) || s.type !== SHT_PROGBITS) {
      throw new PackError('UNSUPPORTED_SECTION', `allocated section ${s.name} (type ${s.type}) is neither code nor read-only data`);
    }
    roSections.push(s);
  }
  // `.text` first: the loader's entry and relocation conventions assume it.
  textSections.sort((a, b) => (a.name === '.text' ? -1 : b.name === '.text' ? 1 : a.index - b.index));
  if (textSections.length === 0) throw new PackError('MALFORMED', 'the object has no code');

  // Layout: ELF header, .text, .rodata, then the dynamic tables.
  const base = new Map(); // input section index → output file offset (== virtual address)
  let cursor = EHDR_SIZE;
  const textStart = align(cursor, INSN);
  cursor = textStart;
  for (const s of textSections) {
    base.set(s.index, cursor);
    cursor += s.size;
  }
  const textEnd = cursor;
  const rodataStart = align(cursor, 8);
  cursor = rodataStart;
  for (const s of roSections) {
    cursor = align(cursor, Math.max(1, s.addralign));
    base.set(s.index, cursor);
    cursor += s.size;
  }
  // An empty .rodata makes the loader refuse the file: keep at least one word.
  const rodataEnd = Math.max(cursor, rodataStart + 8);

  const image = new Uint8Array(rodataEnd);
  for (const s of [...textSections, ...roSections]) image.set(s.data, base.get(s.index));
  const iv = new DataView(image.buffer);

  const textBytes = textEnd - textStart;
  const inText = (off) => off >= textStart && off < textEnd;
  const inRodata = (off) => off >= rodataStart && off < rodataEnd;

  /** Output address of a defined symbol, or undefined for undefined ones. */
  function symbolAddress(sym, where) {
    if (sym.shndx === SHN_UNDEF) return undefined;
    if (sym.shndx >= SHN_LORESERVE) throw new PackError('UNSUPPORTED_SYMBOL', `${where} refers to symbol ${sym.name || sym.index} in special section ${hex(sym.shndx)} (absolute or common)`);
    const b = base.get(sym.shndx);
    if (b === undefined) {
      const s = sections[sym.shndx];
      throw new PackError('UNSUPPORTED_SECTION', `${where} refers to ${sym.name || s?.name} in section ${s?.name ?? sym.shndx}, which is not packed`);
    }
    return b + toNumber(sym.value, 'st_value');
  }

  const symbolName = (sym) => (sym.type === STT_SECTION ? sections[sym.shndx]?.name ?? '?' : sym.name);
  const calls = []; // { offset, name } syscall sites
  const relocatedCalls = new Set();

  for (const rel of elf.relocations) {
    const target = sections[rel.target];
    if (!target || (target.flags & SHF_ALLOC) === 0 || target.name === '.eh_frame') continue; // debug info, BTF, unwind tables: not loaded
    const targetBase = base.get(target.index);
    if (targetBase === undefined) {
      if (rel.entries.length === 0 || target.size === 0) continue;
      throw new PackError('UNSUPPORTED_SECTION', `relocations apply to section ${target.name}, which is not packed`);
    }
    if (rel.rela) throw new PackError('UNKNOWN_RELOCATION', `RELA relocations (${rel.section.name}) are not used by the BPF target`);
    for (const r of rel.entries) {
      const at = targetBase + r.offset;
      const where = `${target.name}+${hex(r.offset)}`;
      const sym = symbols[r.symbol];
      if (!sym) throw new PackError('MALFORMED', `${where}: relocation names symbol ${r.symbol}, which does not exist`);
      const kind = RELOCATION_NAMES[r.type] ?? `type ${r.type}`;
      if (isText(target)) {
        if (r.type === R_BPF.R_64_64) {
          if (at + 2 * INSN > textEnd || image[at] !== OP_LDDW || image[at + INSN] !== 0) {
            throw new PackError('MALFORMED', `${where}: R_BPF_64_64 does not apply to a complete lddw instruction`);
          }
          const addend = BigInt(iv.getUint32(at + 4, true)) | (BigInt(iv.getUint32(at + INSN + 4, true)) << 32n);
          const addr = symbolAddress(sym, where);
          if (addr === undefined) {
            throw new PackError('UNDEFINED_SYMBOL', `${where}: address of undefined symbol ${sym.name} (only syscalls may stay undefined, and only as call targets)`);
          }
          if (!inRodata(addr)) {
            throw new PackError('UNSUPPORTED_RELOCATION', `${where}: lddw of ${symbolName(sym)} in ${sections[sym.shndx].name}: only addresses of read-only data are supported (no function pointers)`);
          }
          const value = MM_PROGRAM_START + BigInt(addr) + addend;
          iv.setUint32(at + 4, Number(value & 0xffffffffn), true);
          iv.setUint32(at + INSN + 4, Number(value >> 32n), true);
        } else if (r.type === R_BPF.R_64_32) {
          if (image[at] !== OP_CALL) throw new PackError('UNSUPPORTED_RELOCATION', `${where}: R_BPF_64_32 on an instruction that is not a call (opcode ${hex(image[at])})`);
          relocatedCalls.add(at);
          const addr = symbolAddress(sym, where);
          if (addr === undefined) {
            if (!known.has(sym.name)) {
              throw new PackError('UNDEFINED_SYMBOL', `${where}: call to undefined symbol ${sym.name || '(unnamed)'}, which is not a Solana syscall (a missing function, e.g. memcpy or a 128-bit compiler builtin such as __multi3?)`);
            }
            iv.setInt32(at + 4, -1, true);
            calls.push({ offset: at, name: sym.name });
          } else {
            if (!inText(addr)) throw new PackError('UNSUPPORTED_RELOCATION', `${where}: call into ${sections[sym.shndx].name}, which is not code`);
            // The stored imm is A/8 − 1 (A: byte offset of the callee from the symbol).
            const imm = iv.getInt32(at + 4, true);
            const callee = (addr - textStart) / INSN + imm + 1;
            const caller = (at - textStart) / INSN;
            if (!Number.isInteger(callee) || callee < 0 || callee >= textBytes / INSN) {
              throw new PackError('MALFORMED', `${where}: call to ${symbolName(sym)} lands outside the code`);
            }
            const relative = callee - (caller + 1);
            // -1 marks a syscall for the loader; a call to itself as the first instruction would collide.
            if (relative === -1) throw new PackError('UNSUPPORTED_RELOCATION', `${where}: a call to its own address cannot be encoded (imm -1 means syscall)`);
            iv.setInt32(at + 4, relative, true);
          }
        } else {
          throw new PackError('UNKNOWN_RELOCATION', `${where}: relocation ${kind} in code is not supported`);
        }
      } else {
        if (r.type !== R_BPF.ABS64) throw new PackError('UNKNOWN_RELOCATION', `${where}: relocation ${kind} in data is not supported (only R_BPF_64_ABS64)`);
        const addr = symbolAddress(sym, where);
        if (addr === undefined) throw new PackError('UNDEFINED_SYMBOL', `${where}: pointer to undefined symbol ${sym.name}`);
        if (!inRodata(addr)) {
          throw new PackError('UNSUPPORTED_RELOCATION', `${where}: pointer to ${symbolName(sym)} in ${sections[sym.shndx].name}: only pointers to read-only data are supported (no function pointers)`);
        }
        const value = MM_PROGRAM_START + BigInt(addr) + iv.getBigUint64(at, true);
        iv.setBigUint64(at, value, true);
      }
    }
  }

  // Code checks the loader or verifier would otherwise report far less clearly.
  for (let at = textStart; at < textEnd; at += INSN) {
    const op = image[at];
    if ((op & 0x07) === CLASS_JMP32) {
      throw new PackError('UNSUPPORTED_INSTRUCTION', `${hex(at - textStart)}: jmp32 instruction (opcode ${hex(op)}) is not SBPFv0; compile with -mcpu=v2`);
    }
    if (op === OP_CALL && iv.getInt32(at + 4, true) === -1 && !relocatedCalls.has(at)) {
      throw new PackError('UNDEFINED_SYMBOL', `${hex(at - textStart)}: call -1 without a relocation naming its target`);
    }
    if (op === OP_LDDW) at += INSN;
  }

  const entry = symbols.find((s) => s.name === entryName && s.shndx !== SHN_UNDEF);
  if (!entry) throw new PackError('NO_ENTRYPOINT', `no symbol named ${entryName} is defined`);
  const entryAddr = symbolAddress(entry, 'entrypoint');
  if (!inText(entryAddr)) throw new PackError('NO_ENTRYPOINT', `${entryName} is not in code`);

  return { ...emit({ image, textStart, textEnd, rodataStart, rodataEnd, calls, entryAddr }), textSections: textSections.map((s) => s.name), rodataSections: roSections.map((s) => s.name) };
}

/** Writes the shared object: image, dynamic tables, section headers. */
function emit({ image, textStart, textEnd, rodataStart, rodataEnd, calls, entryAddr }) {
  const names = [...new Set(calls.map((c) => c.name))].sort();
  const dynstrParts = ['', ...names];
  const dynstr = new TextEncoder().encode(dynstrParts.join('\0') + '\0');
  const nameOffset = new Map();
  {
    let o = 1;
    for (const n of names) {
      nameOffset.set(n, o);
      o += new TextEncoder().encode(n).length + 1;
    }
  }
  const symIndex = new Map(names.map((n, i) => [n, i + 1]));
  calls.sort((a, b) => a.offset - b.offset);
  const hasRel = calls.length > 0;

  let cursor = rodataEnd;
  const dynamicOff = align(cursor, 8);
  const dynEntries = [
    [DT_SYMTAB, 0],
    [DT_SYMENT, SYM_SIZE],
    [DT_STRTAB, 0],
    [DT_STRSZ, dynstr.length],
    ...(hasRel ? [[DT_REL, 0], [DT_RELSZ, calls.length * REL_SIZE], [DT_RELENT, REL_SIZE]] : []),
    [DT_NULL, 0],
  ];
  const dynamicSize = dynEntries.length * DYN_SIZE;
  const dynsymOff = align(dynamicOff + dynamicSize, 8);
  const dynsymSize = (names.length + 1) * SYM_SIZE;
  const dynstrOff = dynsymOff + dynsymSize;
  const relDynOff = align(dynstrOff + dynstr.length, 8);
  const relDynSize = calls.length * REL_SIZE;
  const shstrOff = relDynOff + relDynSize;

  const sectionNames = ['', '.text', '.rodata', '.dynamic', '.dynsym', '.dynstr', ...(hasRel ? ['.rel.dyn'] : []), '.shstrtab'];
  const shstrNameOffset = new Map();
  const shstrText = [];
  {
    let o = 0;
    for (const n of sectionNames) {
      shstrNameOffset.set(n, o);
      shstrText.push(n);
      o += n.length + 1;
    }
  }
  const shstrtab = new TextEncoder().encode(shstrText.join('\0') + '\0');
  const shoff = align(shstrOff + shstrtab.length, 8);
  const total = shoff + sectionNames.length * SHDR_SIZE;

  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set(image, 0);

  for (const e of dynEntries) {
    if (e[0] === DT_SYMTAB) e[1] = dynsymOff;
    if (e[0] === DT_STRTAB) e[1] = dynstrOff;
    if (e[0] === DT_REL) e[1] = relDynOff;
  }
  dynEntries.forEach(([tag, val], i) => {
    v.setBigInt64(dynamicOff + i * DYN_SIZE, BigInt(tag), true);
    v.setBigUint64(dynamicOff + i * DYN_SIZE + 8, BigInt(val), true);
  });
  names.forEach((n, i) => {
    const o = dynsymOff + (i + 1) * SYM_SIZE;
    v.setUint32(o, nameOffset.get(n), true);
    v.setUint8(o + 4, (STB_GLOBAL << 4) | STT_NOTYPE);
    v.setUint16(o + 6, SHN_UNDEF, true);
  });
  out.set(dynstr, dynstrOff);
  calls.forEach((c, i) => {
    const o = relDynOff + i * REL_SIZE;
    v.setBigUint64(o, BigInt(c.offset), true);
    v.setBigUint64(o + 8, (BigInt(symIndex.get(c.name)) << 32n) | BigInt(R_BPF.R_64_32), true);
  });
  out.set(shstrtab, shstrOff);

  // ELF header: no program headers (the SBPFv0 loader reads sections), e_phentsize still set.
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  v.setUint16(16, ET_DYN, true);
  v.setUint16(18, EM_BPF, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(entryAddr), true);
  v.setBigUint64(32, 0n, true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint32(48, 0, true);
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, PHDR_SIZE, true);
  v.setUint16(56, 0, true);
  v.setUint16(58, SHDR_SIZE, true);
  v.setUint16(60, sectionNames.length, true);
  v.setUint16(62, sectionNames.length - 1, true);

  const index = (n) => sectionNames.indexOf(n);
  const headers = [
    null,
    { name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, off: textStart, size: textEnd - textStart, align: 8 },
    { name: '.rodata', type: SHT_PROGBITS, flags: SHF_ALLOC, off: rodataStart, size: rodataEnd - rodataStart, align: 8 },
    { name: '.dynamic', type: SHT_DYNAMIC, flags: SHF_ALLOC, off: dynamicOff, size: dynamicSize, link: index('.dynstr'), align: 8, entsize: DYN_SIZE },
    { name: '.dynsym', type: SHT_DYNSYM, flags: SHF_ALLOC, off: dynsymOff, size: dynsymSize, link: index('.dynstr'), info: 1, align: 8, entsize: SYM_SIZE },
    { name: '.dynstr', type: SHT_STRTAB, flags: SHF_ALLOC, off: dynstrOff, size: dynstr.length, align: 1 },
    ...(hasRel ? [{ name: '.rel.dyn', type: SHT_REL, flags: SHF_ALLOC, off: relDynOff, size: relDynSize, link: index('.dynsym'), align: 8, entsize: REL_SIZE }] : []),
    { name: '.shstrtab', type: SHT_STRTAB, flags: 0, off: shstrOff, size: shstrtab.length, align: 1, noAddr: true },
  ];
  headers.forEach((h, i) => {
    if (!h) return;
    const o = shoff + i * SHDR_SIZE;
    v.setUint32(o, shstrNameOffset.get(h.name), true);
    v.setUint32(o + 4, h.type, true);
    v.setBigUint64(o + 8, BigInt(h.flags), true);
    v.setBigUint64(o + 16, h.noAddr ? 0n : BigInt(h.off), true);
    v.setBigUint64(o + 24, BigInt(h.off), true);
    v.setBigUint64(o + 32, BigInt(h.size), true);
    v.setUint32(o + 40, h.link ?? 0, true);
    v.setUint32(o + 44, h.info ?? 0, true);
    v.setBigUint64(o + 48, BigInt(h.align), true);
    v.setBigUint64(o + 56, BigInt(h.entsize ?? 0), true);
  });

  return {
    so: out,
    syscalls: names,
    dynamicRelocations: calls.map((c) => ({ offset: c.offset, symbol: c.name })),
    layout: {
      entry: entryAddr,
      text: { offset: textStart, size: textEnd - textStart },
      rodata: { offset: rodataStart, size: rodataEnd - rodataStart },
      dynamic: { offset: dynamicOff, size: dynamicSize },
      dynsym: { offset: dynsymOff, size: dynsymSize },
      dynstr: { offset: dynstrOff, size: dynstr.length },
      relDyn: hasRel ? { offset: relDynOff, size: relDynSize } : undefined,
      sectionHeaders: { offset: shoff, count: sectionNames.length },
    },
  };
}
