// Runs the program's host unit tests (`cargo test` with the build's Debian toolchain): the pure
// math, the oracle rules, the shared vectors in tests/vectors/ and the IDL check.
import { describe, expect, it } from 'vitest';
import { runProgramHostTests } from '../../sbpf/build.mjs';

describe('quantdesk_perp host tests (cargo test)', () => {
  it('pass, including the shared vectors and the IDL check', () => {
    const out = runProgramHostTests();
    expect(out).toMatch(/test result: ok\. \d+ passed; 0 failed/);
    for (const name of ['test_vectors::margin_vectors', 'test_vectors::validation_vectors', 'idl::idl_is_generated_from_the_code', 'idl::layouts_are_their_borsh_encoding']) {
      expect(out).toContain(`test ${name} ... ok`);
    }
  }, 300_000);
});
