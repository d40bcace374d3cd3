// The embedded chain as any Solana client sees it: surfpool over HTTP JSON-RPC and WebSocket PubSub,
// our program deployed through the upgradeable loader by plain transactions.
import { readFileSync } from 'node:fs';
import bs58 from 'bs58';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction, TransactionInstruction, sendAndConfirmTransaction } from '@solana/web3.js';
import { ensureProgramBuilt } from '../../programs/sbpf/build.mjs';
import { LOADER_ID, PROGRAMDATA_HEADER, deployUpgradeable, programDataAddress } from './upgradeable-loader.ts';
import { startSurfnet, type Surfnet } from './surfnet.ts';

let net: Surfnet;
let connection: Connection;
const payer = Keypair.generate();

beforeAll(async () => {
  net = await startSurfnet({ slotMs: 200 });
  connection = new Connection(net.rpcUrl, { wsEndpoint: net.wsUrl, commitment: 'confirmed' });
  const sig = await connection.requestAirdrop(payer.publicKey, 100 * LAMPORTS_PER_SOL);
  await connection.confirmTransaction({ signature: sig, ...(await connection.getLatestBlockhash()) });
}, 60_000);

afterAll(async () => {
  await net?.stop();
});

/** Resolves with the first value `subscribe` delivers, or rejects after `ms`. */
function first<T>(what: string, subscribe: (deliver: (v: T) => void) => number, unsubscribe: (id: number) => Promise<void>, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let id = -1;
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    id = subscribe((v) => {
      clearTimeout(timer);
      void unsubscribe(id);
      resolve(v);
    });
  });
}

describe('surfnet', () => {
  it('serves a validator-shaped RPC: version, slots that advance, genesis hash', async () => {
    const version = await connection.getVersion();
    expect(version['solana-core']).toMatch(/^\d+\.\d+\.\d+/);
    const a = await connection.getSlot();
    await new Promise((r) => setTimeout(r, 600));
    expect(await connection.getSlot()).toBeGreaterThan(a);
    expect(await connection.getGenesisHash()).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
  });

  it('deploys our program through the upgradeable loader, and it runs', async () => {
    const elf = readFileSync(await ensureProgramBuilt());
    const program = Keypair.generate();
    const { programId, programData, writes } = await deployUpgradeable({ connection, payer, program, elf });
    expect(writes).toBe(Math.ceil(elf.length / 900));
    const account = await connection.getAccountInfo(programId);
    expect(account?.executable).toBe(true);
    expect(account?.owner.equals(LOADER_ID)).toBe(true);
    expect(programData.equals(programDataAddress(programId))).toBe(true);
    const data = await connection.getAccountInfo(programData);
    expect(Buffer.from(data!.data.subarray(PROGRAMDATA_HEADER, PROGRAMDATA_HEADER + elf.length)).equals(elf)).toBe(true);
    // Deploying again at the same id is refused before anything is spent.
    await expect(deployUpgradeable({ connection, payer, program, elf })).rejects.toThrow(/already holds an account/);
    // An instruction the program does not know gets the program's own error (Anchor's 6000 range is
    // ours: InstructionUnknown is not a runtime error, so the program itself executed).
    const unknown = new TransactionInstruction({ programId, keys: [], data: Buffer.alloc(8, 0xff) });
    const sim = await connection.simulateTransaction(new Transaction({ feePayer: payer.publicKey, ...(await connection.getLatestBlockhash()) }).add(unknown), [payer]);
    expect(sim.value.err).toMatchObject({ InstructionError: [0, { Custom: expect.any(Number) }] });
    expect(sim.value.logs?.join('\n')).toContain(`Program ${programId.toBase58()} invoke`);
  }, 120_000);

  it('notifies account, signature and slot subscriptions through web3.js', async () => {
    const to = Keypair.generate().publicKey;
    const slot = first<number>('slot notification', (d) => connection.onSlotChange((s) => d(s.slot)), (id) => connection.removeSlotChangeListener(id));
    expect(await slot).toBeGreaterThan(0);
    const changed = first<number>('account notification', (d) => connection.onAccountChange(to, (a) => d(a.lamports), { commitment: 'confirmed' }), (id) => connection.removeAccountChangeListener(id));
    const tx = new Transaction().add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports: 5 * LAMPORTS_PER_SOL }));
    const { blockhash } = await connection.getLatestBlockhash();
    tx.recentBlockhash = blockhash;
    tx.feePayer = payer.publicKey;
    tx.sign(payer);
    // Subscribed before it is sent, so the notification cannot be missed.
    const signature = bs58.encode(tx.signature!);
    const status = first<{ err: unknown }>('signature notification', (d) => connection.onSignature(signature, (r) => d(r), 'confirmed'), async () => undefined); // a signature subscription ends with its notification
    await new Promise((r) => setTimeout(r, 300));
    expect(await connection.sendRawTransaction(tx.serialize())).toBe(signature);
    expect((await status).err).toBeNull();
    expect(await changed).toBe(5 * LAMPORTS_PER_SOL);
    expect(await connection.getBalance(to)).toBe(5 * LAMPORTS_PER_SOL);
    // And the ordinary helper that confirms over the WebSocket works too.
    await sendAndConfirmTransaction(connection, new Transaction().add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports: 1 })), [payer]);
    expect(await connection.getBalance(to)).toBe(5 * LAMPORTS_PER_SOL + 1);
  }, 60_000);

  it('exits on SIGTERM', async () => {
    const other = await startSurfnet();
    await other.stop();
    expect(other.child.exitCode).toBe(0);
  });
});
