import bs58 from 'bs58';
import { ComputeBudgetProgram, Transaction, type Commitment, type Connection, type Keypair, type PublicKey } from '@solana/web3.js';
import type { OnChainPrice } from '../../domain/push-policy.ts';
import { decodeMarket, updateOraclePriceInstruction } from '../../programs/client/quantdesk-perp.ts';
import { landTransaction, type LandingOutcome, type SignedTransaction } from '../chain/landing.ts';

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

export type SignedBatch = SignedTransaction;

export type BatchOutcome =
  | { status: 'confirmed'; slot: number; feeLamports?: number; computeUnits?: number }
  | Exclude<LandingOutcome, { status: 'confirmed' }>;

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
      const r = await landTransaction(o.connection, batch, { commitment: o.commitment, pollMs, ...(signal && { signal }) });
      return r.status === 'confirmed' ? { status: 'confirmed', slot: r.slot, ...(r.feeLamports !== undefined && { feeLamports: r.feeLamports }), ...(r.computeUnits !== undefined && { computeUnits: r.computeUnits }) } : r;
    },
  };
}
