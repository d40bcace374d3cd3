// The build's IR step: variable-length mem* intrinsics become syscalls, and llc's refusals come
// back with what to change. Programs compiled here are run in LiteSVM.
import { beforeAll, describe, expect, it } from 'vitest';
import { LiteSVM } from 'litesvm';
import { address, getTransactionDecoder } from '@solana/kit';
import { Keypair, Transaction, TransactionInstruction } from '@solana/web3.js';
import { compileIr, ensureProgramToolchain, rewriteMemIntrinsics, type ProgramToolchain } from './build.mjs';

let tools: ProgramToolchain;
beforeAll(() => {
  tools = ensureProgramToolchain();
}, 300_000);

function run(so: Uint8Array): string[] {
  const svm = new LiteSVM();
  const programId = Keypair.generate().publicKey;
  svm.addProgram(address(programId.toBase58()), so);
  const payer = Keypair.generate();
  svm.airdrop(address(payer.publicKey.toBase58()), 1_000_000_000n as never);
  const tx = new Transaction().add(new TransactionInstruction({ programId, keys: [], data: Buffer.alloc(0) }));
  tx.recentBlockhash = svm.latestBlockhash();
  tx.feePayer = payer.publicKey;
  tx.sign(payer);
  const res = svm.sendTransaction(getTransactionDecoder().decode(tx.serialize()) as Parameters<LiteSVM['sendTransaction']>[0]);
  return 'err' in res ? res.meta().logs() : (res as { logs(): string[] }).logs();
}

describe('rewriteMemIntrinsics', () => {
  it('rewrites variable and large constant lengths, leaves small constants to llc', () => {
    const ir = [
      '  call void @llvm.memcpy.p0.p0.i64(ptr noundef nonnull align 1 %2, ptr nonnull readonly align 1 %0, i64 %4, i1 false), !alias.scope !3',
      '  tail call void @llvm.memmove.p0.p0.i64(ptr align 8 %a, ptr align 8 getelementptr inbounds (i8, ptr @t, i64 8), i64 4096, i1 false)',
      '  call void @llvm.memset.p0.i64(ptr noundef nonnull align 1 dereferenceable(64) %2, i8 0, i64 64, i1 false)',
      '  call void @llvm.memset.p0.i64(ptr align 1 %b, i8 %v, i64 %n, i1 true)',
      'declare void @llvm.memcpy.p0.p0.i64(ptr noalias nocapture writeonly, ptr noalias nocapture readonly, i64, i1 immarg)',
    ].join('\n');
    const { ir: out, rewritten } = rewriteMemIntrinsics(ir);
    expect(rewritten).toBe(3);
    const lines = out.split('\n');
    expect(lines[0]).toBe('  call void @sol_memmove_(ptr noundef nonnull align 1 %2, ptr nonnull readonly align 1 %0, i64 %4), !alias.scope !3');
    expect(lines[1]).toBe('  tail call void @sol_memmove_(ptr align 8 %a, ptr align 8 getelementptr inbounds (i8, ptr @t, i64 8), i64 4096)');
    expect(lines[2]).toContain('@llvm.memset.p0.i64(ptr noundef nonnull align 1 dereferenceable(64) %2, i8 0, i64 64, i1 false)');
    expect(lines[3]).toBe('  call void @sol_memset_(ptr align 1 %b, i8 %v, i64 %n)');
    expect(out.match(/declare void @sol_memmove_\(ptr, ptr, i64\)/g)).toHaveLength(1);
    expect(out.match(/declare void @sol_memset_\(ptr, i8, i64\)/g)).toHaveLength(1);
  });

  it('does not declare a syscall the module already declares', () => {
    const { ir } = rewriteMemIntrinsics('declare void @sol_memset_(ptr, i8, i64)\n  call void @llvm.memset.p0.i64(ptr %b, i8 1, i64 %n, i1 false)\n');
    expect(ir.match(/declare void @sol_memset_/g)).toHaveLength(1);
  });
});

describe('compileIr', () => {
  it('compiles variable-length copies and large fills into syscalls that run', () => {
    const ir = `
@greeting = private unnamed_addr constant [5 x i8] c"hello"
declare void @sol_log_(ptr, i64)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
define i64 @entrypoint(ptr %input) {
  %buf = alloca [8 x i8], align 1
  %fill = alloca [200 x i8], align 1
  %accounts = load i64, ptr %input
  %len = add i64 %accounts, 5
  call void @llvm.memcpy.p0.p0.i64(ptr %buf, ptr @greeting, i64 %len, i1 false)
  call void @sol_log_(ptr %buf, i64 5)
  call void @llvm.memset.p0.i64(ptr %fill, i8 65, i64 200, i1 false)
  %tail = getelementptr i8, ptr %fill, i64 197
  call void @sol_log_(ptr %tail, i64 3)
  ret i64 0
}
`;
    const out = compileIr(ir, tools);
    expect(out.rewritten).toBe(2);
    expect(out.syscalls).toEqual(['sol_log_', 'sol_memmove_', 'sol_memset_']);
    const logs = run(out.so);
    expect(logs).toContain('Program log: hello');
    expect(logs).toContain('Program log: AAA');
    expect(logs.some((l) => l.endsWith(' success'))).toBe(true);
  });

  it('refuses a non-inlined function of six arguments, saying what to change', () => {
    const ir = `
define internal i64 @six(i64 %a, i64 %b, i64 %c, i64 %d, i64 %e, i64 %f) #0 {
  %1 = add i64 %a, %f
  ret i64 %1
}
define i64 @entrypoint(ptr %input) {
  %r = call i64 @six(i64 1, i64 2, i64 3, i64 4, i64 5, i64 6)
  ret i64 %r
}
attributes #0 = { noinline }
`;
    expect(() => compileIr(ir, tools)).toThrow(/hint: a non-inlined function takes more than 5 arguments/);
  });

  it('refuses 128-bit division, which has no BPF builtin', () => {
    const ir = `
define i64 @entrypoint(ptr %input) {
  %x = load i128, ptr %input
  %y = zext i64 7 to i128
  %q = udiv i128 %x, %y
  %r = trunc i128 %q to i64
  ret i64 %r
}
`;
    expect(() => compileIr(ir, tools)).toThrow(/hint: __udivti3 does not exist for BPF/);
  });
});
