import { readFileSync } from 'node:fs';
import { createAssociatedTokenAccountIdempotentInstruction, createMintToInstruction, getAssociatedTokenAddressSync } from '@solana/spl-token';
import { Keypair, LAMPORTS_PER_SOL, PublicKey, Transaction, type Connection } from '@solana/web3.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ChainReader } from './chain-state.ts';
import type { GatewayApp } from './dashboard.ts';

/**
 * The test faucet of the embedded localnet: SOL by airdrop and test USDC minted by the localnet's
 * mint authority, for a dashboard's burner wallet. It exists only while the RPC is the embedded
 * localnet (the caller registers it only then) and answers only requests from this machine.
 */
export interface FaucetDeps {
  connection: Connection;
  chain: ChainReader;
  /** The localnet's keypair folder (`<QD_DATA_DIR>/localnet/keys`). */
  keysDir: string;
  log: Logger;
  sol?: bigint;
  /** Quote units (10^-6). */
  usdc?: bigint;
}

const body = z.object({ wallet: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'a wallet is a base58 public key') }).strict();
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export const isLoopback = (ip: string) => LOOPBACK.test(ip);

function keypair(path: string): Keypair {
  return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(path, 'utf8')) as number[]));
}

async function confirmed(connection: Connection, signature: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { value } = await connection.getSignatureStatuses([signature]);
    const s = value[0];
    if (s?.err) throw new Error(`transaction ${signature} failed: ${JSON.stringify(s.err)}`);
    if (s && (s.confirmationStatus === 'confirmed' || s.confirmationStatus === 'finalized')) return;
    if (Date.now() > deadline) throw new Error(`transaction ${signature} not confirmed within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function registerFaucetRoutes(app: GatewayApp, d: FaucetDeps): void {
  const sol = d.sol ?? 2n * BigInt(LAMPORTS_PER_SOL);
  const usdc = d.usdc ?? 10_000_000_000n;
  app.post('/api/faucet', async (req, reply) => {
    // The peer itself, never a forwarded address (a client can write any X-Forwarded-For).
    if (!isLoopback(req.socket.remoteAddress ?? '') || req.headers['x-forwarded-for'] !== undefined) {
      return reply.status(403).send({ error: 'the faucet serves requests from this machine only' });
    }
    const parsed = body.safeParse(req.body);
    if (!parsed.success) return reply.status(400).send({ error: parsed.error.issues[0]!.message });
    const wallet = new PublicKey(parsed.data.wallet);
    const config = await d.chain.config();
    if (!config) return reply.status(503).send({ error: 'the program is not initialised on this localnet' });
    const authority = keypair(`${d.keysDir}/usdc-mint-authority.json`);
    // The mint authority pays for the token account it creates: top it up from the localnet's faucet.
    if ((await d.connection.getBalance(authority.publicKey)) < LAMPORTS_PER_SOL / 10) {
      await confirmed(d.connection, await d.connection.requestAirdrop(authority.publicKey, LAMPORTS_PER_SOL));
    }
    const airdrop = await d.connection.requestAirdrop(wallet, Number(sol));
    const ata = getAssociatedTokenAddressSync(config.mint, wallet);
    const { blockhash } = await d.connection.getLatestBlockhash('confirmed');
    const tx = new Transaction({ feePayer: authority.publicKey, recentBlockhash: blockhash }).add(
      createAssociatedTokenAccountIdempotentInstruction(authority.publicKey, ata, wallet, config.mint),
      createMintToInstruction(config.mint, ata, authority.publicKey, usdc),
    );
    tx.sign(authority);
    const mint = await d.connection.sendRawTransaction(tx.serialize());
    await Promise.all([confirmed(d.connection, airdrop), confirmed(d.connection, mint)]);
    d.log.info({ wallet: wallet.toBase58(), lamports: sol.toString(), usdc: usdc.toString() }, 'faucet_funded');
    return { wallet: wallet.toBase58(), lamports: sol.toString(), usdc: usdc.toString(), tokenAccount: ata.toBase58(), signatures: [airdrop, mint] };
  });
}
