// SPL Token through the RPC: @solana/spl-token's helpers, token queries and getProgramAccounts filters.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import bs58 from 'bs58';
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, type ParsedAccountData } from '@solana/web3.js';
import {
  ACCOUNT_SIZE,
  TOKEN_PROGRAM_ID,
  createMint,
  getAccount,
  getMint,
  getOrCreateAssociatedTokenAccount,
  mintTo,
  transfer,
} from '@solana/spl-token';
import { startLocalnet, type Localnet } from './localnet.ts';

let localnet: Localnet;
let connection: Connection;
let dataDir: string;
let payer: Keypair;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'localnet-spl-'));
  localnet = await startLocalnet({ httpPort: 0, slotMs: 100, dataDir, logger: pino({ level: 'silent' }) });
  connection = new Connection(localnet.rpcUrl, { wsEndpoint: localnet.wsUrl, commitment: 'confirmed' });
  payer = Keypair.generate();
  const signature = await connection.requestAirdrop(payer.publicKey, 10 * LAMPORTS_PER_SOL);
  await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
});

afterAll(async () => {
  await localnet.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('@solana/spl-token through the RPC', () => {
  it('creates a mint, mints and transfers tokens', async () => {
    const authority = Keypair.generate();
    const mint = await createMint(connection, payer, authority.publicKey, null, 6);
    const alice = Keypair.generate();
    const bob = Keypair.generate();
    const aliceAta = await getOrCreateAssociatedTokenAccount(connection, payer, mint, alice.publicKey);
    const bobAta = await getOrCreateAssociatedTokenAccount(connection, payer, mint, bob.publicKey);
    await mintTo(connection, payer, mint, aliceAta.address, authority, 5_000_000n);
    const signature = await transfer(connection, payer, aliceAta.address, bobAta.address, alice, 1_250_000n);

    expect((await getAccount(connection, aliceAta.address)).amount).toBe(3_750_000n);
    expect((await getAccount(connection, bobAta.address)).amount).toBe(1_250_000n);
    expect((await getMint(connection, mint)).supply).toBe(5_000_000n);

    const landed = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    const pre = landed?.meta?.preTokenBalances?.find((b) => b.owner === alice.publicKey.toBase58());
    const post = landed?.meta?.postTokenBalances?.find((b) => b.owner === bob.publicKey.toBase58());
    expect(pre?.uiTokenAmount.amount).toBe('5000000');
    expect(post?.uiTokenAmount).toEqual({ amount: '1250000', decimals: 6, uiAmount: 1.25, uiAmountString: '1.25' });

    expect((await connection.getTokenAccountBalance(bobAta.address)).value.uiAmountString).toBe('1.25');
    expect((await connection.getTokenSupply(mint)).value.amount).toBe('5000000');
    const largest = await connection.getTokenLargestAccounts(mint);
    expect(largest.value.map((a) => a.address.toBase58())).toEqual([aliceAta.address.toBase58(), bobAta.address.toBase58()]);
  });

  it('refuses a transfer beyond the token balance with the token program’s error and logs', async () => {
    const authority = Keypair.generate();
    const mint = await createMint(connection, payer, authority.publicKey, null, 6);
    const owner = Keypair.generate();
    const from = await getOrCreateAssociatedTokenAccount(connection, payer, mint, owner.publicKey);
    const to = await getOrCreateAssociatedTokenAccount(connection, payer, mint, Keypair.generate().publicKey);
    await mintTo(connection, payer, mint, from.address, authority, 10n);
    const error = await transfer(connection, payer, from.address, to.address, owner, 11n).then(
      () => null,
      (e: unknown) => e as Error,
    );
    // SPL Token's TokenError::InsufficientFunds is custom error 1.
    expect(error?.message).toContain('custom program error: 0x1');
    expect(error?.message).toContain('Error: insufficient funds');
  });
});

describe('token account queries', () => {
  it('finds the bootstrap traders’ USDC accounts by owner, by mint and by program', async () => {
    const usdc = localnet.manifest.mints.usdc;
    const trader = localnet.manifest.traders[0];
    expect(usdc).toBeDefined();
    expect(trader).toBeDefined();
    if (usdc === undefined || trader === undefined) return;
    const owner = new PublicKey(trader.publicKey);
    const byMint = await connection.getTokenAccountsByOwner(owner, { mint: new PublicKey(usdc.address) });
    expect(byMint.value.map((a) => a.pubkey.toBase58())).toEqual([trader.tokenAccounts.usdc]);
    const byProgram = await connection.getTokenAccountsByOwner(owner, { programId: TOKEN_PROGRAM_ID });
    expect(byProgram.value).toHaveLength(1);
    expect(byProgram.value[0]?.account.data.length).toBe(ACCOUNT_SIZE);

    const parsed = await connection.getParsedTokenAccountsByOwner(owner, { mint: new PublicKey(usdc.address) });
    const info = (parsed.value[0]?.account.data as ParsedAccountData).parsed as {
      info: { tokenAmount: { amount: string; decimals: number; uiAmountString: string }; owner: string; state: string };
      type: string;
    };
    expect(info.type).toBe('account');
    expect(info.info.owner).toBe(trader.publicKey);
    expect(info.info.state).toBe('initialized');
    expect(info.info.tokenAmount).toMatchObject({ amount: '10000000000', decimals: 6, uiAmountString: '10000' });

    const mintInfo = await connection.getParsedAccountInfo(new PublicKey(usdc.address));
    const mintParsed = (mintInfo.value?.data as ParsedAccountData).parsed as { type: string; info: { mintAuthority: string; supply: string } };
    expect(mintParsed.type).toBe('mint');
    expect(mintParsed.info.mintAuthority).toBe(usdc.authority);
    expect(mintParsed.info.supply).toBe(String(10_000_000_000n * BigInt(localnet.manifest.traders.length)));

    await expect(
      connection.getTokenAccountsByOwner(owner, { programId: new PublicKey('11111111111111111111111111111111') }),
    ).rejects.toThrow('unrecognized Token program id');
  });

  it('filters getProgramAccounts by dataSize and memcmp (base58 and base64 bytes)', async () => {
    const usdc = localnet.manifest.mints.usdc;
    const trader = localnet.manifest.traders[1];
    if (usdc === undefined || trader === undefined) throw new Error('bootstrap did not run');
    const mint = new PublicKey(usdc.address);

    const ofMint = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ dataSize: ACCOUNT_SIZE }, { memcmp: { offset: 0, bytes: mint.toBase58() } }],
    });
    expect(ofMint.map((a) => a.pubkey.toBase58()).sort()).toEqual(
      localnet.manifest.traders.map((t) => t.tokenAccounts.usdc).sort(),
    );

    const ofOwner = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [
        { dataSize: ACCOUNT_SIZE },
        { memcmp: { offset: 32, bytes: Buffer.from(bs58.decode(trader.publicKey)).toString('base64'), encoding: 'base64' } },
      ],
    });
    expect(ofOwner.map((a) => a.pubkey.toBase58())).toEqual([trader.tokenAccounts.usdc]);

    const mints = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, { filters: [{ dataSize: 82 }] });
    expect(mints.map((a) => a.pubkey.toBase58())).toContain(usdc.address);
    expect(mints.every((a) => a.account.data.length === 82)).toBe(true);

    const none = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ dataSize: ACCOUNT_SIZE }, { memcmp: { offset: 0, bytes: Keypair.generate().publicKey.toBase58() } }],
    });
    expect(none).toEqual([]);

    const sliced = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, {
      dataSlice: { offset: 64, length: 8 },
      filters: [{ dataSize: ACCOUNT_SIZE }, { memcmp: { offset: 32, bytes: trader.publicKey } }],
    });
    expect(sliced[0]?.account.data.readBigUInt64LE(0)).toBe(10_000_000_000n);
  });
});
