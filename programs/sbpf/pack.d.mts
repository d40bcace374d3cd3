// Types for pack.mjs.
export declare const MM_PROGRAM_START: bigint;
export declare const SOLANA_SYSCALLS: readonly string[];
export declare const R_BPF: Readonly<{ NONE: 0; R_64_64: 1; ABS64: 2; ABS32: 3; NODYLD32: 4; R_64_32: 10 }>;
export declare class PackError extends Error {
  readonly code: string;
  constructor(code: string, message: string);
}
export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  data: Uint8Array;
}
export interface ElfSymbol {
  index: number;
  name: string;
  bind: number;
  type: number;
  shndx: number;
  value: bigint;
  size: bigint;
}
export interface ElfRelocations {
  section: ElfSection;
  target: number;
  rela: boolean;
  entries: { offset: number; symbol: number; type: number; addend?: bigint }[];
}
export interface ElfFile {
  bytes: Uint8Array;
  header: { type: number; machine: number; entry: bigint; phoff: bigint; shoff: number; flags: number; phentsize: number; phnum: number; shentsize: number; shnum: number; shstrndx: number };
  sections: ElfSection[];
  symbols: ElfSymbol[];
  relocations: ElfRelocations[];
}
export declare function readElf(bytes: Uint8Array): ElfFile;
interface Range {
  offset: number;
  size: number;
}
export interface PackResult {
  so: Uint8Array;
  syscalls: string[];
  dynamicRelocations: { offset: number; symbol: string }[];
  layout: { entry: number; text: Range; rodata: Range; dynamic: Range; dynsym: Range; dynstr: Range; relDyn?: Range; sectionHeaders: { offset: number; count: number } };
  textSections: string[];
  rodataSections: string[];
}
export declare function pack(objectBytes: Uint8Array, options?: { syscalls?: readonly string[]; entry?: string }): PackResult;
