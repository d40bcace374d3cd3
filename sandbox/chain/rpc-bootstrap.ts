// The bootstrap steps (sandbox/chain/bootstrap.ts, quantdesk-bootstrap.ts) over plain JSON-RPC,
// as against any cluster: transactions sent and confirmed, airdrops requested, the program deployed
// through the upgradeable loader. The one thing a cluster would refuse, writing Pyth's PriceUpdateV2
// accounts outright, goes through surfpool's `surfnet_setAccount` cheatcode.
import { readFileSync, existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { Connection, SendTransactionError, type PublicKey } from '@solana/web3.js';
import { BootstrapError, bootstrapPayer, type AccountCheat, type BootstrapContext, type LocalnetManifest } from './bootstrap.ts';
import type { KeyStore } from './keystore.ts';
import { embeddedProgramKeypair } from './program-keys.ts';
import { DeployError, deployUpgradeable, sendAndConfirm } from './upgradeable-loader.ts';
import { rpcCall } from './surfnet.ts';

/** SOL the bootstrap payer starts with: programs, buffers and accounts are paid from it. */
const PAYER_LAMPORTS = 10_000n * 1_000_000_000n;

/** surfpool's account cheatcode: the whole account at once (data as hex), and the current slot. */
export function surfnetCheat(rpcUrl: string, connection: Connection): AccountCheat {
  return {
    slot: async () => BigInt(await connection.getSlot('processed')),
    async setAccount(address, account) {
      await rpcCall(rpcUrl, 'surfnet_setAccount', [
        address.toBase58(),
        { lamports: Number(account.lamports), owner: account.owner, executable: account.executable, rentEpoch: 0, data: Buffer.from(account.data).toString('hex') },
      ]);
    },
  };
}

async function failure(connection: Connection, what: string, e: unknown): Promise<BootstrapError> {
  if (e instanceof SendTransactionError) return new BootstrapError(`${what}: ${e.message}`, (await e.getLogs(connection).catch(() => undefined)) ?? []);
  if (e instanceof DeployError) return new BootstrapError(`${what}: ${e.message}`, [...e.logs]);
  return new BootstrapError(`${what}: ${(e as Error).message}`);
}

export function createRpcBootstrapContext(base: {
  rpcUrl: string;
  connection: Connection;
  keys: KeyStore;
  manifest: LocalnetManifest;
  log: Logger;
  onStop: (cleanup: () => void | Promise<void>) => void;
}): BootstrapContext {
  const { connection, log } = base;
  const ctx: BootstrapContext = {
    keys: base.keys,
    manifest: base.manifest,
    log,
    onStop: base.onStop,
    cheat: surfnetCheat(base.rpcUrl, connection),
    async send(instructions, signers) {
      if (signers.length === 0) throw new BootstrapError('send needs at least one signer (the fee payer)');
      try {
        return await sendAndConfirm(connection, instructions, signers);
      } catch (e) {
        throw await failure(connection, 'bootstrap transaction failed', e);
      }
    },
    async airdrop(to, lamports) {
      try {
        const signature = await connection.requestAirdrop(to, Number(lamports));
        const { value } = await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) }, 'confirmed');
        if (value.err) throw new Error(JSON.stringify(value.err));
        return signature;
      } catch (e) {
        throw await failure(connection, `airdrop to ${to.toBase58()} failed`, e);
      }
    },
    defaultProgramId: (name) => embeddedProgramKeypair(name).publicKey,
    async deployProgram(name, programId, soPath) {
      if (!existsSync(soPath)) throw new BootstrapError(`program ${name}: ${soPath} does not exist (build it first)`);
      // The loader needs the program address's keypair: the embedded one, or one in the keystore.
      const program = [embeddedProgramKeypair(name), base.keys.loadOrCreate(`program-${name}`)].find((k) => k.publicKey.equals(programId));
      if (program === undefined) {
        throw new BootstrapError(`program ${name}: deploying at ${programId.toBase58()} needs that address's keypair (the embedded one, or keys/program-${name}.json)`);
      }
      const payer = bootstrapPayer(ctx);
      if ((await connection.getBalance(payer.publicKey)) < 100 * 1_000_000_000) await ctx.airdrop(payer.publicKey, PAYER_LAMPORTS);
      const started = performance.now();
      try {
        const { programData, writes } = await deployUpgradeable({ connection, payer, program, elf: readFileSync(soPath) });
        base.manifest.programs[name] = programId.toBase58();
        log.info({ program: name, programId: programId.toBase58(), programData: programData.toBase58(), writes, ms: Math.round(performance.now() - started), soPath }, 'bootstrap.program_deployed');
      } catch (e) {
        throw await failure(connection, `deploying ${name}`, e);
      }
    },
    async readAccount(address: PublicKey) {
      const a = await connection.getAccountInfo(address, 'confirmed');
      return a === null ? null : { lamports: BigInt(a.lamports), owner: a.owner.toBase58(), executable: a.executable, data: Uint8Array.from(a.data) };
    },
    rentExempt: async (size) => BigInt(await connection.getMinimumBalanceForRentExemption(size, 'confirmed')),
  };
  return ctx;
}
