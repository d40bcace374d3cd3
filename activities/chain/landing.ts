import { SendTransactionError, type Commitment, type Connection } from '@solana/web3.js';
import { customErrorCode, perpErrorName } from '../../programs/client/quantdesk-perp.ts';

/**
 * Lands a signed transaction and tells what became of it: confirmed (at the commitment, with its
 * fee, compute units and logs), refused by the program (its error's code and name), expired (its
 * blockhash can no longer land: sign again), or unreachable (the RPC failed; nothing is known).
 * Shared by the on-chain sync and the keepers.
 */
export type LandingOutcome =
  | { status: 'confirmed'; slot: number; feeLamports?: number; computeUnits?: number; logs: string[] }
  /** The program refused it: `code` is its custom error code, `name` its name. */
  | { status: 'rejected'; code?: number; name?: string; detail: string }
  | { status: 'expired' }
  | { status: 'unreachable'; detail: string };

export interface SignedTransaction {
  signature: string;
  raw: Buffer;
  lastValidBlockHeight: number;
}

const COMMITMENT_RANK = { processed: 0, confirmed: 1, finalized: 2 } as const;

export async function landTransaction(
  connection: Connection,
  tx: SignedTransaction,
  o: { commitment: Commitment; pollMs?: number; signal?: AbortSignal; skipPreflight?: boolean },
): Promise<LandingOutcome> {
  try {
    await connection.sendRawTransaction(tx.raw, { skipPreflight: o.skipPreflight ?? false, preflightCommitment: o.commitment, maxRetries: 0 });
  } catch (e) {
    if (e instanceof SendTransactionError) {
      const logs = (await e.getLogs(connection).catch(() => undefined)) ?? e.logs ?? [];
      const code = customErrorCode(e, logs);
      if (code !== undefined) return { status: 'rejected', code, ...(perpErrorName(code) && { name: perpErrorName(code) }), detail: e.message.slice(0, 300) };
      if (/blockhash not found/i.test(e.message)) return { status: 'expired' };
      return { status: 'rejected', detail: e.message.slice(0, 300) };
    }
    return { status: 'unreachable', detail: (e as Error).message.slice(0, 300) };
  }
  // Poll the signature until it reaches the commitment, fails, or its blockhash can no longer land.
  for (;;) {
    if (o.signal?.aborted) return { status: 'unreachable', detail: 'cancelled while waiting for confirmation' };
    try {
      const { value } = await connection.getSignatureStatuses([tx.signature]);
      const st = value[0];
      if (st?.err) {
        const code = customErrorCode({ err: st.err });
        return { status: 'rejected', ...(code !== undefined && { code, ...(perpErrorName(code) && { name: perpErrorName(code) }) }), detail: JSON.stringify(st.err).slice(0, 300) };
      }
      if (st?.confirmationStatus && COMMITMENT_RANK[st.confirmationStatus] >= COMMITMENT_RANK[o.commitment as keyof typeof COMMITMENT_RANK]) {
        const landed = await connection.getTransaction(tx.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 }).catch(() => null);
        return {
          status: 'confirmed',
          slot: st.slot,
          logs: landed?.meta?.logMessages ?? [],
          ...(landed?.meta && { feeLamports: landed.meta.fee, ...(landed.meta.computeUnitsConsumed !== undefined && { computeUnits: landed.meta.computeUnitsConsumed }) }),
        };
      }
      if (!st && (await connection.getBlockHeight(o.commitment)) > tx.lastValidBlockHeight) return { status: 'expired' };
    } catch (e) {
      return { status: 'unreachable', detail: (e as Error).message.slice(0, 300) };
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 150));
  }
}
