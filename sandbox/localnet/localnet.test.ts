// The localnet through the real @solana/web3.js Connection, over HTTP and WebSocket.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { pino } from 'pino';
import bs58 from 'bs58';
import { address, lamports } from '@solana/kit';
import {
  AddressLookupTableProgram,
  ComputeBudgetProgram,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SendTransactionError,
  SystemProgram,
  SYSVAR_CLOCK_PUBKEY,
  Transaction,
  TransactionMessage,
  VersionedTransaction,
  sendAndConfirmTransaction,
  type AccountInfo,
  type Context,
} from '@solana/web3.js';
import { AnchorProvider, Wallet } from '@coral-xyz/anchor';
import { startLocalnet, type Localnet } from './localnet.ts';

let localnet: Localnet;
let connection: Connection;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'localnet-test-'));
  localnet = await startLocalnet({ httpPort: 0, slotMs: 100, dataDir, logger: pino({ level: 'silent' }) });
  connection = new Connection(localnet.rpcUrl, { wsEndpoint: localnet.wsUrl, commitment: 'confirmed' });
});

afterAll(async () => {
  await localnet.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function funded(sol = 10): Promise<Keypair> {
  const kp = Keypair.generate();
  const signature = await connection.requestAirdrop(kp.publicKey, sol * LAMPORTS_PER_SOL);
  const latest = await connection.getLatestBlockhash();
  const result = await connection.confirmTransaction({ signature, ...latest });
  expect(result.value.err).toBeNull();
  return kp;
}

function transfer(from: Keypair, to: PublicKey, lamports: number, blockhash: string): Transaction {
  const tx = new Transaction({ feePayer: from.publicKey, recentBlockhash: blockhash }).add(
    SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports }),
  );
  tx.sign(from);
  return tx;
}

describe('balances and transfers', () => {
  it('airdrops real lamports that getBalance reports, via a transaction that confirms', async () => {
    const kp = Keypair.generate();
    const signature = await connection.requestAirdrop(kp.publicKey, 2 * LAMPORTS_PER_SOL);
    const latest = await connection.getLatestBlockhash();
    await connection.confirmTransaction({ signature, ...latest });
    expect(await connection.getBalance(kp.publicKey)).toBe(2 * LAMPORTS_PER_SOL);
    const tx = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
    expect(tx?.meta?.err).toBeNull();
    expect(tx?.transaction.message.staticAccountKeys.map((k) => k.toBase58())).toContain(kp.publicKey.toBase58());
  });

  it('two equal airdrops in a row both land', async () => {
    const kp = Keypair.generate();
    const a = await connection.requestAirdrop(kp.publicKey, LAMPORTS_PER_SOL);
    const b = await connection.requestAirdrop(kp.publicKey, LAMPORTS_PER_SOL);
    expect(a).not.toBe(b);
    expect(await connection.getBalance(kp.publicKey)).toBe(2 * LAMPORTS_PER_SOL);
  });

  it('lands a SOL transfer sent with sendAndConfirmTransaction; balances move by amount and fee', async () => {
    const from = await funded(5);
    const to = Keypair.generate().publicKey;
    const tx = new Transaction().add(SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports: 1_234_567 }));
    const signature = await sendAndConfirmTransaction(connection, tx, [from], { commitment: 'confirmed' });
    expect(await connection.getBalance(to)).toBe(1_234_567);
    expect(await connection.getBalance(from.publicKey)).toBe(5 * LAMPORTS_PER_SOL - 1_234_567 - 5000);

    const landed = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    expect(landed?.meta?.fee).toBe(5000);
    expect(landed?.meta?.preBalances[0]).toBe(5 * LAMPORTS_PER_SOL);
    expect(landed?.meta?.postBalances[0]).toBe(5 * LAMPORTS_PER_SOL - 1_234_567 - 5000);
    expect(landed?.meta?.postBalances[1]).toBe(1_234_567);
    expect(landed?.meta?.computeUnitsConsumed).toBe(150);
    expect(landed?.meta?.logMessages).toContain('Program 11111111111111111111111111111111 success');
    expect(landed?.blockTime).toBeGreaterThan(Date.now() / 1000 - 60);

    const [status] = (await connection.getSignatureStatuses([signature])).value;
    expect(status?.confirmationStatus).toBe('confirmed');
    expect(status?.err).toBeNull();
  });

  it('charges the priority fee a compute-budget price asks for and reports it in getRecentPrioritizationFees', async () => {
    const from = await funded(1);
    const to = Keypair.generate().publicKey;
    const tx = new Transaction().add(
      ComputeBudgetProgram.setComputeUnitLimit({ units: 10_000 }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 250_000 }),
      SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports: 1_000_000 }),
    );
    const signature = await sendAndConfirmTransaction(connection, tx, [from], { commitment: 'confirmed' });
    // 5,000 per signature + ceil(250,000 µ-lamports × 10,000 CU / 10^6) = 5,000 + 2,500.
    const landed = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    expect(landed?.meta?.fee).toBe(7_500);
    expect(await connection.getBalance(from.publicKey)).toBe(LAMPORTS_PER_SOL - 1_000_000 - 7_500);
    const fees = await connection.getRecentPrioritizationFees({ lockedWritableAccounts: [to] });
    expect(fees.find((f) => f.slot === landed?.slot)?.prioritizationFee).toBe(250_000);
  });

  it('getFeeForMessage prices a message, and answers null once its blockhash expired', async () => {
    const from = Keypair.generate();
    const { blockhash } = await connection.getLatestBlockhash();
    const message = new TransactionMessage({
      payerKey: from.publicKey,
      recentBlockhash: blockhash,
      instructions: [SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1 })],
    }).compileToV0Message();
    expect((await connection.getFeeForMessage(message)).value).toBe(5000);
    localnet.warp(151);
    expect((await connection.getFeeForMessage(message)).value).toBeNull();
  });
});

describe('failures look like a validator’s', () => {
  it('rejects in preflight a transfer beyond the balance, with the error and the program logs', async () => {
    const from = await funded(1);
    const { blockhash } = await connection.getLatestBlockhash();
    const tx = transfer(from, Keypair.generate().publicKey, 2 * LAMPORTS_PER_SOL, blockhash);
    const error = await connection.sendRawTransaction(tx.serialize()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SendTransactionError);
    const sendError = error as SendTransactionError;
    expect(sendError.transactionError.message).toBe(
      'Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1',
    );
    expect(sendError.transactionError.logs).toContain(
      `Transfer: insufficient lamports ${LAMPORTS_PER_SOL - 5000}, need ${2 * LAMPORTS_PER_SOL}`,
    );
    // Nothing landed: no fee was taken.
    expect(await connection.getBalance(from.publicKey)).toBe(LAMPORTS_PER_SOL);
  });

  it('lands a failing transaction with err set when preflight is skipped, and charges its fee', async () => {
    const from = await funded(1);
    const latest = await connection.getLatestBlockhash();
    const tx = transfer(from, Keypair.generate().publicKey, 2 * LAMPORTS_PER_SOL, latest.blockhash);
    const signature = await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true });
    const confirmation = await connection.confirmTransaction({ signature, ...latest }, 'confirmed');
    expect(confirmation.value.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    const landed = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    expect(landed?.meta?.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    expect(landed?.meta?.logMessages?.some((l) => l.startsWith('Transfer: insufficient lamports'))).toBe(true);
    expect(await connection.getBalance(from.publicKey)).toBe(LAMPORTS_PER_SOL - 5000);
  });

  it('rejects a bad signature before simulating (-32003)', async () => {
    const from = await funded(1);
    const { blockhash } = await connection.getLatestBlockhash();
    const tx = transfer(from, Keypair.generate().publicKey, 1_000_000, blockhash);
    const bytes = tx.serialize();
    bytes[10] = (bytes[10] ?? 0) ^ 0xff; // inside the first signature
    await expect(connection.sendRawTransaction(bytes)).rejects.toThrow('Transaction signature verification failure');
  });

  it('rejects a blockhash older than 150 blocks with "Blockhash not found", and accepts one 150 blocks old', async () => {
    const from = await funded(1);
    // Hold the slot clock: a real slot passing between two steps would make "150 old" 151.
    localnet.ledger.stop();
    onTestFinished(() => localnet.ledger.start());
    const old = await connection.getLatestBlockhash();
    localnet.warp(150);
    expect((await connection.isBlockhashValid(old.blockhash)).value).toBe(true);
    expect(await connection.getBlockHeight()).toBeLessThanOrEqual(old.lastValidBlockHeight);
    const ok = transfer(from, Keypair.generate().publicKey, 1_000_000, old.blockhash);
    await connection.sendRawTransaction(ok.serialize());

    localnet.warp(1);
    expect((await connection.isBlockhashValid(old.blockhash)).value).toBe(false);
    expect(await connection.getBlockHeight()).toBeGreaterThan(old.lastValidBlockHeight);
    const late = transfer(from, Keypair.generate().publicKey, 2_000_000, old.blockhash);
    await expect(connection.sendRawTransaction(late.serialize())).rejects.toThrow(
      'Transaction simulation failed: Blockhash not found',
    );
    // With preflight skipped the validator drops it: the signature never gets a status.
    const signature = await connection.sendRawTransaction(late.serialize(), { skipPreflight: true });
    expect((await connection.getSignatureStatus(signature, { searchTransactionHistory: true })).value).toBeNull();
  });

  it('refuses to land the same transaction twice', async () => {
    const from = await funded(1);
    const { blockhash } = await connection.getLatestBlockhash();
    const tx = transfer(from, Keypair.generate().publicKey, 1_000_000, blockhash);
    await connection.sendRawTransaction(tx.serialize());
    await expect(connection.sendRawTransaction(tx.serialize())).rejects.toThrow('This transaction has already been processed');
  });
});

describe('Anchor provider', () => {
  it('sends, confirms and simulates through AnchorProvider', async () => {
    const payer = await funded(2);
    const provider = new AnchorProvider(connection, new Wallet(payer), { commitment: 'confirmed' });
    const to = Keypair.generate().publicKey;
    const ix = SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports: 1_500_000 });
    const simulation = await provider.simulate(new Transaction().add(ix));
    expect(simulation.unitsConsumed).toBe(150);
    expect(await connection.getBalance(to)).toBe(0);
    const signature = await provider.sendAndConfirm(new Transaction().add(ix));
    expect((await connection.getSignatureStatus(signature)).value?.err).toBeNull();
    expect(await connection.getBalance(to)).toBe(1_500_000);
  });
});

describe('versioned transactions', () => {
  it('lands a v0 transaction through an address lookup table and reports the loaded addresses', async () => {
    const authority = await funded(2);
    const recipients = [Keypair.generate().publicKey, Keypair.generate().publicKey];
    const [create, table] = AddressLookupTableProgram.createLookupTable({
      authority: authority.publicKey,
      payer: authority.publicKey,
      recentSlot: (await connection.getSlot()) - 1,
    });
    const extend = AddressLookupTableProgram.extendLookupTable({
      lookupTable: table,
      authority: authority.publicKey,
      payer: authority.publicKey,
      addresses: recipients,
    });
    // An explicit fresh blockhash: other tests warp past the one web3.js caches for 30 s.
    const setupHash = await connection.getLatestBlockhash();
    const setup = new Transaction({ feePayer: authority.publicKey, recentBlockhash: setupHash.blockhash }).add(create, extend);
    setup.sign(authority);
    const setupSignature = await connection.sendRawTransaction(setup.serialize());
    await connection.confirmTransaction({ signature: setupSignature, ...setupHash }, 'confirmed');
    localnet.warp(1); // extended addresses are usable from the next slot
    const lookup = (await connection.getAddressLookupTable(table)).value;
    expect(lookup?.state.addresses.map((a) => a.toBase58())).toEqual(recipients.map((r) => r.toBase58()));
    if (lookup === null) return;

    const latest = await connection.getLatestBlockhash();
    const message = new TransactionMessage({
      payerKey: authority.publicKey,
      recentBlockhash: latest.blockhash,
      instructions: recipients.map((to) => SystemProgram.transfer({ fromPubkey: authority.publicKey, toPubkey: to, lamports: 1_000_000 })),
    }).compileToV0Message([lookup]);
    expect(message.addressTableLookups).toHaveLength(1);
    const tx = new VersionedTransaction(message);
    tx.sign([authority]);
    const signature = await connection.sendTransaction(tx);
    await connection.confirmTransaction({ signature, ...latest }, 'confirmed');

    await expect(connection.getTransaction(signature, { commitment: 'confirmed' })).rejects.toThrow(
      'Transaction version (0) is not supported by the requesting client',
    );
    const landed = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    expect(landed?.version).toBe(0);
    expect(landed?.meta?.loadedAddresses?.writable.map((k) => k.toBase58())).toEqual(recipients.map((r) => r.toBase58()));
    const keyCount = landed?.transaction.message.staticAccountKeys.length ?? 0;
    expect(landed?.meta?.postBalances.slice(keyCount)).toEqual([1_000_000, 1_000_000]);
    expect(await connection.getBalance(recipients[1] ?? PublicKey.default)).toBe(1_000_000);
  });
});

describe('simulateTransaction', () => {
  it('returns logs, units consumed and the accounts asked for, without committing', async () => {
    const from = await funded(1);
    const to = Keypair.generate().publicKey;
    const { blockhash } = await connection.getLatestBlockhash();
    const message = new TransactionMessage({
      payerKey: from.publicKey,
      recentBlockhash: blockhash,
      instructions: [SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports: 3_000_000 })],
    }).compileToV0Message();
    const tx = new VersionedTransaction(message);
    tx.sign([from]);
    const sim = await connection.simulateTransaction(tx, { accounts: { encoding: 'base64', addresses: [to.toBase58()] } });
    expect(sim.value.err).toBeNull();
    expect(sim.value.unitsConsumed).toBe(150);
    expect(sim.value.logs).toEqual([
      'Program 11111111111111111111111111111111 invoke [1]',
      'Program 11111111111111111111111111111111 success',
    ]);
    expect(sim.value.accounts?.[0]?.lamports).toBe(3_000_000);
    expect(await connection.getBalance(to)).toBe(0);
  });

  it('replaces an expired blockhash when asked, and reports a failure with its logs', async () => {
    const from = await funded(1);
    const old = await connection.getLatestBlockhash();
    localnet.warp(200);
    const tx = new VersionedTransaction(
      new TransactionMessage({
        payerKey: from.publicKey,
        recentBlockhash: old.blockhash,
        instructions: [SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 5 * LAMPORTS_PER_SOL })],
      }).compileToV0Message(),
    );
    const stale = await connection.simulateTransaction(tx, { sigVerify: false });
    expect(stale.value.err).toBe('BlockhashNotFound');
    const replaced = await connection.simulateTransaction(tx, { replaceRecentBlockhash: true });
    expect(replaced.value.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    expect(replaced.value.logs?.some((l) => l.startsWith('Transfer: insufficient lamports'))).toBe(true);
  });
});

describe('confirmation and subscriptions over WebSocket', () => {
  it('notifies a signature subscription when the transaction lands', async () => {
    const from = await funded(1);
    const { blockhash } = await connection.getLatestBlockhash();
    const tx = transfer(from, Keypair.generate().publicKey, 1_000_000, blockhash);
    const signature = bs58.encode(tx.signature ?? new Uint8Array());
    const notified = new Promise<{ err: unknown; slot: number }>((resolve) => {
      connection.onSignature(signature, (result, context) => resolve({ err: result.err, slot: context.slot }), 'confirmed');
    });
    // Let the subscription reach the server before the transaction does.
    await new Promise((r) => setTimeout(r, 200));
    await connection.sendRawTransaction(tx.serialize());
    const { err, slot } = await notified;
    expect(err).toBeNull();
    expect((await connection.getSignatureStatus(signature)).value?.slot).toBe(slot);
  });

  it('holds a finalized signature notification until 32 slots were built on top', async () => {
    const from = await funded(1);
    const latest = await connection.getLatestBlockhash();
    const tx = transfer(from, Keypair.generate().publicKey, 1_000_000, latest.blockhash);
    const signature = await connection.sendRawTransaction(tx.serialize());
    const landedSlot = (await connection.getSignatureStatus(signature)).value?.slot ?? -1;
    const result = await connection.confirmTransaction({ signature, ...latest }, 'finalized');
    expect(result.value.err).toBeNull();
    expect(result.context.slot).toBeGreaterThanOrEqual(landedSlot);
    expect(await connection.getSlot()).toBeGreaterThanOrEqual(landedSlot + 32);
    const [status] = (await connection.getSignatureStatuses([signature])).value;
    expect(status?.confirmationStatus).toBe('finalized');
    expect(status?.confirmations).toBeNull();
  });

  it('fires accountSubscribe when the account changes', async () => {
    const kp = Keypair.generate();
    const changes: { info: AccountInfo<Buffer>; context: Context }[] = [];
    const changed = new Promise<void>((resolve) => {
      const id = connection.onAccountChange(
        kp.publicKey,
        (info, context) => {
          changes.push({ info, context });
          void connection.removeAccountChangeListener(id);
          resolve();
        },
        { commitment: 'confirmed', encoding: 'base64' },
      );
    });
    await new Promise((r) => setTimeout(r, 200));
    await connection.requestAirdrop(kp.publicKey, 3 * LAMPORTS_PER_SOL);
    await changed;
    expect(changes[0]?.info.lamports).toBe(3 * LAMPORTS_PER_SOL);
    expect(changes[0]?.info.owner.toBase58()).toBe(SystemProgram.programId.toBase58());
  });

  it('notifies direct SVM writes to a subscribed account at the next slot', async () => {
    const target = Keypair.generate().publicKey;
    const changed = new Promise<number>((resolve) => {
      const id = connection.onAccountChange(target, (info) => {
        void connection.removeAccountChangeListener(id);
        resolve(info.lamports);
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    localnet.svm.setAccount({
      address: address(target.toBase58()),
      lamports: lamports(5_000_000n),
      programAddress: address(SystemProgram.programId.toBase58()),
      executable: false,
      data: new Uint8Array(),
      space: 0n,
    });
    expect(await changed).toBe(5_000_000);
  });

  it('streams slots and logs that mention an address', async () => {
    const slots: number[] = [];
    const slotSub = connection.onSlotChange((info) => slots.push(info.slot));
    const from = await funded(1);
    const logs = new Promise<{ signature: string; logs: string[] }>((resolve) => {
      const id = connection.onLogs(from.publicKey, (entry) => {
        void connection.removeOnLogsListener(id);
        resolve(entry);
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    const { blockhash } = await connection.getLatestBlockhash();
    const signature = await connection.sendRawTransaction(transfer(from, Keypair.generate().publicKey, 1_000_000, blockhash).serialize());
    const entry = await logs;
    expect(entry.signature).toBe(signature);
    expect(entry.logs).toContain('Program 11111111111111111111111111111111 success');
    await connection.removeSlotChangeListener(slotSub);
    expect(slots.length).toBeGreaterThan(1);
    expect(slots.every((s, i) => i === 0 || s > (slots[i - 1] ?? 0))).toBe(true);
  });
});

describe('chain state', () => {
  it('keeps the Clock sysvar on real unix time and the current slot', async () => {
    const info = await connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY);
    expect(info).not.toBeNull();
    const data = info?.data ?? Buffer.alloc(40);
    const slot = Number(data.readBigUInt64LE(0));
    const unix = Number(data.readBigInt64LE(32));
    expect(Math.abs(unix - Date.now() / 1000)).toBeLessThan(3);
    expect(Math.abs(slot - (await connection.getSlot()))).toBeLessThan(5);
  });

  it('advances slots with time, and reports epoch info and rent like a validator', async () => {
    const first = await connection.getSlot();
    await new Promise((r) => setTimeout(r, 350));
    const second = await connection.getSlot();
    expect(second).toBeGreaterThanOrEqual(first + 2);
    const epoch = await connection.getEpochInfo();
    expect(epoch.absoluteSlot).toBe(epoch.slotIndex + epoch.epoch * epoch.slotsInEpoch);
    expect(await connection.getMinimumBalanceForRentExemption(0)).toBe(890_880);
    expect(await connection.getMinimumBalanceForRentExemption(165)).toBe(2_039_280);
    expect(await connection.getGenesisHash()).toBe(localnet.ledger.genesisHash);
    expect((await connection.getVersion())['solana-core']).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('writes a manifest and reuses the same keypairs on restart', async () => {
    const manifest = JSON.parse(readFileSync(join(dataDir, 'manifest.json'), 'utf8')) as typeof localnet.manifest;
    expect(manifest.rpcUrl).toBe(localnet.rpcUrl);
    expect(manifest.mints.usdc?.decimals).toBe(6);
    expect(manifest.traders).toHaveLength(3);
    const again = await startLocalnet({ httpPort: 0, slotMs: 0, dataDir, logger: pino({ level: 'silent' }) });
    try {
      expect(again.manifest.mints.usdc?.address).toBe(manifest.mints.usdc?.address);
      expect(again.manifest.traders.map((t) => t.publicKey)).toEqual(manifest.traders.map((t) => t.publicKey));
      expect(again.manifest.genesisHash).not.toBe(manifest.genesisHash);
    } finally {
      await again.stop();
    }
  });
});
