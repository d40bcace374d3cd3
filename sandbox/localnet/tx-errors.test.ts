import { describe, expect, it } from 'vitest';
import { describeTransactionError } from './tx-errors.ts';

describe('describeTransactionError', () => {
  it('writes the validator’s Display text', () => {
    expect(describeTransactionError('BlockhashNotFound')).toBe('Blockhash not found');
    expect(describeTransactionError('AccountNotFound')).toBe('Attempt to debit an account but found no record of a prior credit.');
    expect(describeTransactionError({ InstructionError: [0, { Custom: 6001 }] })).toBe(
      'Error processing Instruction 0: custom program error: 0x1771',
    );
    expect(describeTransactionError({ InstructionError: [2, 'MissingRequiredSignature'] })).toBe(
      'Error processing Instruction 2: missing required signature for instruction',
    );
    expect(describeTransactionError({ InsufficientFundsForRent: { account_index: 1 } })).toBe(
      'Transaction results in an account (1) with insufficient funds for rent',
    );
  });
});
