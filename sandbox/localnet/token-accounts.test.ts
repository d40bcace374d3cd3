import { describe, expect, it } from 'vitest';
import bs58 from 'bs58';
import { Keypair } from '@solana/web3.js';
import { AccountLayout, AccountState, MintLayout } from '@solana/spl-token';
import {
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  decodeMint,
  decodeTokenAccount,
  formatUiAmount,
  parseTokenAccountJson,
} from './token-accounts.ts';

describe('formatUiAmount', () => {
  it('places the decimal point and trims trailing zeros', () => {
    expect(formatUiAmount(0n, 6)).toBe('0');
    expect(formatUiAmount(1n, 6)).toBe('0.000001');
    expect(formatUiAmount(1_500_000n, 6)).toBe('1.5');
    expect(formatUiAmount(10_000_000_000n, 6)).toBe('10000');
    expect(formatUiAmount(18_446_744_073_709_551_615n, 9)).toBe('18446744073.709551615');
    expect(formatUiAmount(42n, 0)).toBe('42');
  });
});

describe('token layouts (checked against @solana/spl-token encoders)', () => {
  const mint = Keypair.generate().publicKey;
  const owner = Keypair.generate().publicKey;
  const delegate = Keypair.generate().publicKey;

  it('decodes a token account with a delegate', () => {
    const data = Buffer.alloc(AccountLayout.span);
    AccountLayout.encode(
      {
        mint,
        owner,
        amount: 123_456_789n,
        delegateOption: 1,
        delegate,
        state: AccountState.Frozen,
        isNativeOption: 0,
        isNative: 0n,
        delegatedAmount: 5n,
        closeAuthorityOption: 0,
        closeAuthority: mint,
      },
      data,
    );
    expect(decodeTokenAccount(TOKEN_PROGRAM_ID, data)).toEqual({
      mint: mint.toBase58(),
      owner: owner.toBase58(),
      amount: 123_456_789n,
      delegate: delegate.toBase58(),
      state: 'frozen',
      isNative: null,
      delegatedAmount: 5n,
      closeAuthority: null,
      hasExtensions: false,
    });
    expect(decodeTokenAccount('11111111111111111111111111111111', data)).toBeNull();
    const json = parseTokenAccountJson(TOKEN_PROGRAM_ID, data, () => 3);
    expect(json?.parsed.info).toMatchObject({
      tokenAmount: { amount: '123456789', decimals: 3, uiAmount: 123456.789, uiAmountString: '123456.789' },
      delegatedAmount: { amount: '5', uiAmountString: '0.005' },
      state: 'frozen',
    });
    expect(parseTokenAccountJson(TOKEN_PROGRAM_ID, data, () => null)).toBeNull();
  });

  it('decodes a mint, and labels Token-2022 accounts', () => {
    const data = Buffer.alloc(MintLayout.span);
    MintLayout.encode(
      { mintAuthorityOption: 1, mintAuthority: owner, supply: 77n, decimals: 6, isInitialized: true, freezeAuthorityOption: 0, freezeAuthority: owner },
      data,
    );
    expect(decodeMint(TOKEN_PROGRAM_ID, data)).toEqual({
      mintAuthority: owner.toBase58(),
      supply: 77n,
      decimals: 6,
      isInitialized: true,
      freezeAuthority: null,
      hasExtensions: false,
    });
    expect(parseTokenAccountJson(TOKEN_2022_PROGRAM_ID, data, () => null)?.program).toBe('spl-token-2022');
    expect(bs58.encode(data.subarray(4, 36))).toBe(owner.toBase58());
  });
});
