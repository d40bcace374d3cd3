// Deploys an SBF program through the BPF upgradeable loader with plain transactions, as
// `solana program deploy` does against any cluster: a buffer account, the program's bytes written into
// it in chunks, then DeployWithMaxDataLen, which creates the ProgramData account and marks the program
// executable. Instruction layouts are the loader's bincode encoding (u32 tag, little-endian fields).
import {
  ComputeBudgetProgram,
  Keypair,
  PublicKey,
  SYSVAR_CLOCK_PUBKEY,
  SYSVAR_RENT_PUBKEY,
  SystemProgram,
  Transaction,
  TransactionExpiredBlockheightExceededError,
  TransactionInstruction,
  type Commitment,
  type Connection,
  type Signer,
} from '@solana/web3.js';

export const LOADER_ID = new PublicKey('BPFLoaderUpgradeab1e11111111111111111111111');
/** UpgradeableLoaderState sizes: Buffer = tag + Option<authority>; Program = tag + programdata; ProgramData = tag + slot + Option<authority>. */
export const BUFFER_HEADER = 4 + 1 + 32;
export const PROGRAM_SIZE = 4 + 32;
export const PROGRAMDATA_HEADER = 4 + 8 + 1 + 32;
/** Bytes per Write: what fits in a 1,232-byte transaction with its signatures, keys and header. */
export const WRITE_CHUNK = 900;

export function programDataAddress(programId: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([programId.toBuffer()], LOADER_ID)[0];
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

export function initializeBufferInstruction(buffer: PublicKey, authority: PublicKey): TransactionInstruction {
  return new TransactionInstruction({
    programId: LOADER_ID,
    keys: [
      { pubkey: buffer, isSigner: false, isWritable: true },
      { pubkey: authority, isSigner: false, isWritable: false },
    ],
    data: u32(0),
  });
}

export function writeInstruction(buffer: PublicKey, authority: PublicKey, offset: number, bytes: Uint8Array): TransactionInstruction {
  return new TransactionInstruction({
    programId: LOADER_ID,
    keys: [
      { pubkey: buffer, isSigner: false, isWritable: true },
      { pubkey: authority, isSigner: true, isWritable: false },
    ],
    // Write { offset: u32, bytes: Vec<u8> }: bincode puts the vector's length as a u64.
    data: Buffer.concat([u32(1), u32(offset), u64(bytes.length), Buffer.from(bytes)]),
  });
}

export function deployWithMaxDataLenInstruction(o: { payer: PublicKey; programId: PublicKey; buffer: PublicKey; authority: PublicKey; maxDataLen: number }): TransactionInstruction {
  return new TransactionInstruction({
    programId: LOADER_ID,
    keys: [
      { pubkey: o.payer, isSigner: true, isWritable: true },
      { pubkey: programDataAddress(o.programId), isSigner: false, isWritable: true },
      { pubkey: o.programId, isSigner: false, isWritable: true },
      { pubkey: o.buffer, isSigner: false, isWritable: true },
      { pubkey: SYSVAR_RENT_PUBKEY, isSigner: false, isWritable: false },
      { pubkey: SYSVAR_CLOCK_PUBKEY, isSigner: false, isWritable: false },
      { pubkey: SystemProgram.programId, isSigner: false, isWritable: false },
      { pubkey: o.authority, isSigner: true, isWritable: false },
    ],
    data: Buffer.concat([u32(2), u64(o.maxDataLen)]),
  });
}

export class DeployError extends Error {
  constructor(message: string, readonly logs: readonly string[] = []) {
    super(message);
    this.name = 'DeployError';
  }
}

/**
 * Signs with the first signer as fee payer, sends with preflight and waits for `commitment`; throws
 * DeployError with the logs. A transaction whose blockhash expired before it landed can never land,
 * so it is signed again with a fresh blockhash and resent (up to `attempts` times): a loaded machine
 * may drop one.
 */
export async function sendAndConfirm(connection: Connection, instructions: TransactionInstruction[], signers: Signer[], commitment: Commitment = 'confirmed', attempts = 3): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash(commitment);
    const tx = new Transaction({ feePayer: signers[0]!.publicKey, blockhash, lastValidBlockHeight }).add(...instructions);
    tx.sign(...signers);
    let signature: string;
    try {
      signature = await connection.sendRawTransaction(tx.serialize(), { preflightCommitment: commitment });
    } catch (e) {
      const logs = (e as { logs?: string[] }).logs ?? [];
      throw new DeployError((e as Error).message, logs);
    }
    try {
      const { value } = await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, commitment);
      if (value.err) throw new DeployError(`${signature} failed: ${JSON.stringify(value.err)}`);
      return signature;
    } catch (e) {
      if (!(e instanceof TransactionExpiredBlockheightExceededError) || attempt >= attempts) throw e;
    }
  }
}

export interface DeployOptions {
  connection: Connection;
  /** Pays for the accounts and the fees. */
  payer: Signer;
  /** The program's keypair: its public key is the program id (it signs the program account's creation). */
  program: Signer;
  /** The upgrade authority (the payer if not given). */
  authority?: Signer;
  elf: Uint8Array;
  /** Room for upgrades: ProgramData holds this many bytes (default twice the program). */
  maxDataLen?: number;
  /** Writes in flight at once (default 16). */
  parallel?: number;
  commitment?: Commitment;
}

/** Deploys `elf` at `program.publicKey`; returns the ProgramData address. Fails if the program account exists. */
export async function deployUpgradeable(o: DeployOptions): Promise<{ programId: PublicKey; programData: PublicKey; writes: number }> {
  const { connection, payer, program, elf } = o;
  const authority = o.authority ?? payer;
  const commitment = o.commitment ?? 'confirmed';
  const maxDataLen = o.maxDataLen ?? elf.length * 2;
  if (await connection.getAccountInfo(program.publicKey, commitment)) {
    throw new DeployError(`${program.publicKey.toBase58()} already holds an account: deploy to a new program id, or upgrade`);
  }
  const buffer = Keypair.generate();
  const bufferSize = BUFFER_HEADER + elf.length;
  await sendAndConfirm(
    connection,
    [
      SystemProgram.createAccount({
        fromPubkey: payer.publicKey,
        newAccountPubkey: buffer.publicKey,
        lamports: await connection.getMinimumBalanceForRentExemption(bufferSize, commitment),
        space: bufferSize,
        programId: LOADER_ID,
      }),
      initializeBufferInstruction(buffer.publicKey, authority.publicKey),
    ],
    [payer, buffer],
    commitment,
  );
  const offsets: number[] = [];
  for (let offset = 0; offset < elf.length; offset += WRITE_CHUNK) offsets.push(offset);
  const signers = authority === payer ? [payer] : [payer, authority];
  const parallel = o.parallel ?? 16;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, offsets.length) }, async () => {
      while (next < offsets.length) {
        const offset = offsets[next++]!;
        await sendAndConfirm(connection, [writeInstruction(buffer.publicKey, authority.publicKey, offset, elf.subarray(offset, offset + WRITE_CHUNK))], signers, commitment);
      }
    }),
  );
  await sendAndConfirm(
    connection,
    [
      ComputeBudgetProgram.setComputeUnitLimit({ units: 1_400_000 }),
      SystemProgram.createAccount({
        fromPubkey: payer.publicKey,
        newAccountPubkey: program.publicKey,
        lamports: await connection.getMinimumBalanceForRentExemption(PROGRAM_SIZE, commitment),
        space: PROGRAM_SIZE,
        programId: LOADER_ID,
      }),
      deployWithMaxDataLenInstruction({ payer: payer.publicKey, programId: program.publicKey, buffer: buffer.publicKey, authority: authority.publicKey, maxDataLen }),
    ],
    authority === payer ? [payer, program] : [payer, program, authority],
    commitment,
  );
  return { programId: program.publicKey, programData: programDataAddress(program.publicKey), writes: offsets.length };
}
