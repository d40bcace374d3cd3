import './buffer-global.ts';
import { getAssociatedTokenAddressSync } from '@solana/spl-token';
import { Connection, Keypair, PublicKey, SendTransactionError, Transaction, type TransactionInstruction } from '@solana/web3.js';
import {
  PERP_ERRORS,
  closePositionInstruction,
  configAddress,
  customErrorCode,
  decodeConfig,
  decodeMarket,
  decodePosition,
  depositInstruction,
  marketAddress,
  openPositionInstruction,
  positionAddress,
  withdrawInstruction,
  type MarketAccount,
  type PositionAccount,
} from '$programs/quantdesk-perp.ts';
import type { ClusterConfig } from '../api.ts';
import type { TxSigner } from './signer.ts';

/**
 * The browser's side of trading: transactions built here with the program's own instruction
 * builders, signed by the connected wallet (a burner keypair in this browser, or a Wallet Standard
 * wallet), sent straight to the cluster's RPC. The gateway never sees a key or a transaction.
 * Loaded on demand (web3.js and the coder stay out of pages that only show prices).
 */

export type TxStatus =
  | { step: 'signing' }
  | { step: 'sent'; signature: string }
  | { step: 'confirmed'; signature: string; slot: number }
  | { step: 'failed'; signature?: string; error: string; code?: number; name?: string };

export interface Chain {
  connection: Connection;
  programId: PublicKey;
  mint: PublicKey;
  market(symbol: string): Promise<MarketAccount | undefined>;
  position(symbol: string, owner: string): Promise<PositionAccount | undefined>;
  /** Quote tokens in the owner's associated token account (quote units). */
  walletQuote(owner: string): Promise<bigint>;
  lamports(owner: string): Promise<bigint>;
  deposit(signer: TxSigner, symbol: string, amount: bigint, on: (s: TxStatus) => void): Promise<TxStatus>;
  withdraw(signer: TxSigner, symbol: string, amount: bigint, on: (s: TxStatus) => void): Promise<TxStatus>;
  open(signer: TxSigner, symbol: string, size: bigint, on: (s: TxStatus) => void): Promise<TxStatus>;
  close(signer: TxSigner, symbol: string, on: (s: TxStatus) => void): Promise<TxStatus>;
  /** The network fee of a transaction with these instructions (lamports). */
  fee(payer: string, kind: 'deposit' | 'withdraw' | 'open' | 'close', symbol: string): Promise<number | undefined>;
}

export function associatedTokenAddress(owner: PublicKey, mint: PublicKey): PublicKey {
  return getAssociatedTokenAddressSync(mint, owner);
}

/** A failed send or transaction in the program's words: its error name and message when it is ours. */
export function explainFailure(e: unknown, logs: readonly string[] = []): { error: string; code?: number; name?: string } {
  const allLogs = [...logs, ...(e instanceof SendTransactionError ? (e.logs ?? []) : []), ...(((e as { logs?: string[] })?.logs) ?? [])];
  const code = customErrorCode(e, allLogs);
  const info = code !== undefined ? PERP_ERRORS.get(code) : undefined;
  if (info) return { error: `${info.name}: ${info.msg}`, code, name: info.name };
  const text = e instanceof Error ? e.message : JSON.stringify(e);
  if (/insufficient (funds|lamports)|AccountNotFound|0x1\b/.test(text)) return { error: `not enough funds for this transaction (${text.slice(0, 160)})` };
  return { error: text.slice(0, 300) };
}

export async function loadChain(cluster: ClusterConfig): Promise<Chain> {
  const connection = new Connection(cluster.rpcUrl, { commitment: cluster.commitment, ...(cluster.wsUrl && { wsEndpoint: cluster.wsUrl }) });
  const programId = new PublicKey(cluster.programId);
  const configInfo = await connection.getAccountInfo(configAddress(programId));
  if (!configInfo) throw new Error(`the program ${programId.toBase58()} has no config account on this cluster`);
  const { mint } = decodeConfig(configInfo.data);
  const marketKey = (symbol: string) => marketAddress(symbol, programId);

  async function send(signer: TxSigner, instructions: TransactionInstruction[], on: (s: TxStatus) => void): Promise<TxStatus> {
    const report = (s: TxStatus) => (on(s), s);
    report({ step: 'signing' });
    let signature: string | undefined;
    try {
      const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash(cluster.commitment);
      const tx = new Transaction({ feePayer: new PublicKey(signer.address), blockhash, lastValidBlockHeight }).add(...instructions);
      const signed = await signer.signTransaction(tx);
      signature = await connection.sendRawTransaction(signed.serialize(), { preflightCommitment: cluster.commitment });
      report({ step: 'sent', signature });
      for (;;) {
        const { value } = await connection.getSignatureStatuses([signature]);
        const s = value[0];
        if (s?.err) {
          const tx = await connection.getTransaction(signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 }).catch(() => null);
          return report({ step: 'failed', signature, ...explainFailure({ err: s.err }, tx?.meta?.logMessages ?? []) });
        }
        if (s && (s.confirmationStatus === 'confirmed' || s.confirmationStatus === 'finalized')) return report({ step: 'confirmed', signature, slot: s.slot });
        if ((await connection.getBlockHeight(cluster.commitment)) > lastValidBlockHeight) return report({ step: 'failed', signature, error: 'the transaction expired before it landed (blockhash too old); try again' });
        await new Promise((r) => setTimeout(r, 250));
      }
    } catch (e) {
      return report({ step: 'failed', ...(signature && { signature }), ...explainFailure(e) });
    }
  }

  /** The market's pinned Pyth account: an instruction that needs a price must pass exactly it. */
  async function pinnedOracle(market: PublicKey): Promise<PublicKey | undefined> {
    const info = await connection.getAccountInfo(market);
    return (info && decodeMarket(info.data).oracle) ?? undefined;
  }

  const build = async (kind: 'deposit' | 'withdraw' | 'open' | 'close', owner: PublicKey, symbol: string, amount = 1n): Promise<TransactionInstruction[]> => {
    const market = marketKey(symbol);
    const ownerTokenAccount = associatedTokenAddress(owner, mint);
    if (kind === 'deposit') return [depositInstruction({ owner, market, ownerTokenAccount, amount, programId })];
    const priceUpdate = await pinnedOracle(market);
    const oracle = priceUpdate ? { priceUpdate } : {};
    switch (kind) {
      case 'withdraw':
        return [withdrawInstruction({ owner, market, ownerTokenAccount, amount, programId, ...oracle })];
      case 'open':
        return [openPositionInstruction({ owner, market, size: amount, programId, ...oracle })];
      case 'close':
        return [closePositionInstruction({ owner, market, programId, ...oracle })];
    }
  };

  return {
    connection,
    programId,
    mint,
    async market(symbol) {
      const info = await connection.getAccountInfo(marketKey(symbol));
      return info ? decodeMarket(info.data) : undefined;
    },
    async position(symbol, owner) {
      const info = await connection.getAccountInfo(positionAddress(marketKey(symbol), new PublicKey(owner), programId));
      return info ? decodePosition(info.data) : undefined;
    },
    async walletQuote(owner) {
      const ata = associatedTokenAddress(new PublicKey(owner), mint);
      const info = await connection.getTokenAccountBalance(ata).catch(() => undefined);
      return info ? BigInt(info.value.amount) : 0n;
    },
    async lamports(owner) {
      return BigInt(await connection.getBalance(new PublicKey(owner)));
    },
    deposit: async (signer, symbol, amount, on) => send(signer, await build('deposit', new PublicKey(signer.address), symbol, amount), on),
    withdraw: async (signer, symbol, amount, on) => send(signer, await build('withdraw', new PublicKey(signer.address), symbol, amount), on),
    open: async (signer, symbol, size, on) => send(signer, await build('open', new PublicKey(signer.address), symbol, size), on),
    close: async (signer, symbol, on) => send(signer, await build('close', new PublicKey(signer.address), symbol), on),
    async fee(payer, kind, symbol) {
      const owner = new PublicKey(payer);
      const { blockhash } = await connection.getLatestBlockhash(cluster.commitment);
      const tx = new Transaction({ feePayer: owner, recentBlockhash: blockhash }).add(...build(kind, owner, symbol));
      return (await connection.getFeeForMessage(tx.compileMessage(), cluster.commitment)).value ?? undefined;
    },
  };
}

/** A new burner keypair, as it is kept in localStorage. */
export function newBurner(): { publicKey: string; secretKey: number[] } {
  const k = Keypair.generate();
  return { publicKey: k.publicKey.toBase58(), secretKey: Array.from(k.secretKey) };
}

export function burnerSigner(stored: { publicKey: string; secretKey: number[] }): TxSigner {
  const keypair = Keypair.fromSecretKey(Uint8Array.from(stored.secretKey));
  if (keypair.publicKey.toBase58() !== stored.publicKey) throw new Error('the stored burner keypair is corrupt');
  return {
    kind: 'burner',
    label: 'Burner wallet',
    address: stored.publicKey,
    async signTransaction(tx) {
      tx.partialSign(keypair);
      return tx;
    },
  };
}
