import bs58 from 'bs58';
import {
  ComputeBudgetProgram,
  SendTransactionError,
  Transaction,
  type Commitment,
  type Connection,
  type Keypair,
  type PublicKey,
} from '@solana/web3.js';
import type { OnChainPrice } from '../../domain/push-policy.ts';
import { customErrorCode, decodeMarket, perpErrorName, updateOraclePriceInstruction } from '../../programs/client/quantdesk-perp.ts';

/**
 * The chain side of the on-chain sync (the role Pyth's price pusher calls IPricePusher): read what
 * the program's markets hold, and land `update_oracle_price` batches, telling confirmed, refused by
 * the program, expired and unreachable apart.
 */

export interface PushUpdate {
  market: PublicKey;
  price: bigint;
  conf: bigint;
  expo: number;
  publishTime: number;
}

export interface SignedBatch {
  signature: string;
  raw: Buffer;
  lastValidBlockHeight: number;
}

export type BatchOutcome =
  | { status: 'confirmed'; slot: number; feeLamports?: number; computeUnits?: number }
  /** The program refused the batch: `code` is its custom error code, `name` its name. */
  | { status: 'rejected'; code?: number; name?: string; detail: string }
  | { status: 'expired' }
  /** The RPC failed; nothing is known about the batch. */
  | { status: 'unreachable'; detail: string };

export interface OracleChain {
  readMarkets(markets: readonly PublicKey[]): Promise<(OnChainPrice & { slot: number } | undefined)[]>;
  sign(updates: readonly PushUpdate[]): Promise<SignedBatch>;
  /** Sends and waits for the outcome (or for the blockhash to expire). */
  land(batch: SignedBatch, signal?: AbortSignal): Promise<BatchOutcome>;
}

export interface ChainOptions {
  connection: Connection;
  programId: PublicKey;
  authority: Keypair;
  commitment: Commitment;
  priorityFeeMicroLamports: number;
  /** How often signature status is polled while waiting, ms. */
  pollMs?: number;
}

/** update_oracle_price costs ~770 CU for one market and ~470 per extra market (bench/program-cu.ts). */
export const computeUnitsFor = (markets: number) => 1_000 + 600 * markets;

const COMMITMENT_RANK = { processed: 0, confirmed: 1, finalized: 2 } as const;

export function createOracleChain(o: ChainOptions): OracleChain {
  const pollMs = o.pollMs ?? 150;
  return {
    async readMarkets(markets) {
      const ctx = await o.connection.getMultipleAccountsInfoAndContext([...markets], o.commitment);
      return ctx.value.map((info) => {
        if (!info || !info.owner.equals(o.programId)) return undefined;
        const m = decodeMarket(info.data);
        return { price: m.price, conf: m.conf, expo: m.expo, publishTime: Number(m.publishTime), slot: Number(m.priceSlot) };
      });
    },

    async sign(updates) {
      const { blockhash, lastValidBlockHeight } = await o.connection.getLatestBlockhash(o.commitment);
      const tx = new Transaction({ feePayer: o.authority.publicKey, blockhash, lastValidBlockHeight });
      tx.add(ComputeBudgetProgram.setComputeUnitLimit({ units: computeUnitsFor(updates.length) }));
      if (o.priorityFeeMicroLamports > 0) tx.add(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: o.priorityFeeMicroLamports }));
      tx.add(
        updateOraclePriceInstruction({
          oracleAuthority: o.authority.publicKey,
          programId: o.programId,
          updates: updates.map((u) => ({ market: u.market, price: { price: u.price, conf: u.conf, expo: u.expo, publishTime: BigInt(u.publishTime) } })),
        }),
      );
      tx.sign(o.authority);
      return { signature: bs58.encode(tx.signature!), raw: tx.serialize(), lastValidBlockHeight };
    },

    async land(batch, signal) {
      try {
        await o.connection.sendRawTransaction(batch.raw, { skipPreflight: false, preflightCommitment: o.commitment, maxRetries: 0 });
      } catch (e) {
        if (e instanceof SendTransactionError) {
          const logs = (await e.getLogs(o.connection).catch(() => undefined)) ?? e.logs ?? [];
          const code = customErrorCode(e, logs);
          if (code !== undefined) return { status: 'rejected', code, name: perpErrorName(code), detail: e.message.slice(0, 300) };
          if (/blockhash not found/i.test(e.message)) return { status: 'expired' };
          return { status: 'rejected', detail: e.message.slice(0, 300) };
        }
        return { status: 'unreachable', detail: (e as Error).message.slice(0, 300) };
      }
      // Poll the signature until it reaches the commitment, fails, or its blockhash can no longer land.
      for (;;) {
        if (signal?.aborted) return { status: 'unreachable', detail: 'cancelled while waiting for confirmation' };
        try {
          const { value } = await o.connection.getSignatureStatuses([batch.signature]);
          const st = value[0];
          if (st?.err) {
            const code = customErrorCode({ err: st.err });
            return { status: 'rejected', ...(code !== undefined && { code, name: perpErrorName(code) }), detail: JSON.stringify(st.err).slice(0, 300) };
          }
          if (st?.confirmationStatus && COMMITMENT_RANK[st.confirmationStatus] >= COMMITMENT_RANK[o.commitment as keyof typeof COMMITMENT_RANK]) {
            const tx = await o.connection.getTransaction(batch.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 }).catch(() => null);
            return {
              status: 'confirmed',
              slot: st.slot,
              ...(tx?.meta && { feeLamports: tx.meta.fee, ...(tx.meta.computeUnitsConsumed !== undefined && { computeUnits: tx.meta.computeUnitsConsumed }) }),
            };
          }
          if (!st && (await o.connection.getBlockHeight(o.commitment)) > batch.lastValidBlockHeight) return { status: 'expired' };
        } catch (e) {
          return { status: 'unreachable', detail: (e as Error).message.slice(0, 300) };
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
  };
}
