// Types for build.mjs (plain ESM so scripts/tools.mjs can import it without a TypeScript step).
export declare const PROGRAM_DIR: string;
export declare const PROGRAM_SO: string;
export declare const RUST_DEB_VERSION: string;
export interface ProgramToolchain {
  rustc: string;
  cargo: string;
  llc: string;
  llvmAr: string;
  llvmDis: string;
  llvmMc: string;
  llvmReadelf: string;
  rustSrc: string;
  sysroot: string;
  versions: string;
}
/** Installs (apt, pinned) and checks the toolchain; builds the BPF sysroot into the tool cache once. */
export declare function ensureProgramToolchain(): ProgramToolchain;
/** Builds programs/quantdesk_perp/target/quantdesk_perp.so when its inputs changed; returns its path. */
export declare function ensureProgramBuilt(): Promise<string>;
/** Runs the program's host unit tests (cargo test with the same Debian toolchain); returns cargo's output. */
export declare function runProgramHostTests(options?: { writeIdl?: boolean }): string;
/** LLVM IR text → SBPFv0 shared object (mem* rewrite, llc-19, pack); throws llc's refusal with a hint. */
export declare function compileIr(ir: string, toolchain?: ProgramToolchain): import('./pack.mjs').PackResult & { rewritten: number };
export declare function rewriteMemIntrinsics(ir: string): { ir: string; rewritten: number };
