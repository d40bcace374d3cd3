import { randomUUID } from 'node:crypto';
import type { PublicKey } from '@solana/web3.js';
import type { PushOutcome } from '../../contracts/temporal.ts';
import type { InflightUpdate, PushDoc, PushLog } from '../../store/roles.ts';
import type { BatchOutcome, OracleChain } from './chain.ts';

/**
 * Lands `update_oracle_price` batches and keeps their audit trail (the role Pyth's price pusher
 * calls IPricePusher): signs, records the batch as in flight before sending (a worker that dies
 * between send and outcome is followed by one that sends it again — the program refuses a replay),
 * lands it, and records one outcome document per market.
 */

const REPLAY_ERRORS = new Set(['PublishTimeDuplicate', 'PublishTimeRegressed']);

export const outcomeOf = (o: BatchOutcome): PushOutcome =>
  o.status === 'confirmed' ? 'confirmed' : o.status === 'expired' ? 'expired' : o.status === 'unreachable' ? 'send_failed' : o.name && REPLAY_ERRORS.has(o.name) ? 'replay_rejected' : 'rejected';

export interface PushResult {
  batchId: string;
  updates: InflightUpdate[];
  outcome: BatchOutcome;
  kind: PushOutcome;
  signature?: string;
  /** Epoch ms the outcome was known. */
  at: number;
  /** Epoch ms the transaction was handed to the RPC, when it got that far. */
  sentAt?: number;
}

/** Records waiting for the database at most (a long outage keeps the newest). */
const MAX_UNRECORDED = 100_000;
/** How long a push waits for its in-flight record before it is sent regardless, ms. */
const INFLIGHT_WAIT_MS = 1_000;

export class PricePusher {
  private unrecorded: Omit<PushDoc, 'recordedAt'>[] = [];
  private clearing: string[] = [];
  private recording: Promise<void> | undefined;
  private recordingCount = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly chain: Pick<OracleChain, 'sign' | 'land'>,
    private readonly log: PushLog,
    private readonly addresses: ReadonlyMap<string, PublicKey>,
    private readonly now: () => number,
  ) {}

  /** Outcome records not yet in the database (waiting or being written). */
  get backlog(): number {
    return this.unrecorded.length + this.recordingCount;
  }

  /** Writes the audit trail in the background, retrying every second while the database is away. */
  private flushRecords(): void {
    if (this.recording || (this.unrecorded.length === 0 && this.clearing.length === 0)) return;
    const docs = this.unrecorded.splice(0, 5_000);
    const clear = this.clearing.splice(0);
    this.recordingCount = docs.length;
    this.recording = (async () => {
      await this.log.record(docs);
      for (const id of clear) await this.log.clearInflight(id);
    })()
      .then(() => {
        this.recording = undefined;
        this.recordingCount = 0;
        this.flushRecords();
      })
      .catch(() => {
        this.recordingCount = 0;
        this.unrecorded.unshift(...docs);
        this.clearing.unshift(...clear);
        if (this.unrecorded.length > MAX_UNRECORDED) this.unrecorded.splice(0, this.unrecorded.length - MAX_UNRECORDED);
        this.recording = undefined;
        this.timer ??= setTimeout(() => ((this.timer = undefined), this.flushRecords()), 1_000);
      });
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.recording;
  }

  /** Never throws: an RPC or database failure is the outcome `unreachable` (nothing known about the batch). */
  async push(updates: InflightUpdate[], attempt = 1, batchId: string = randomUUID(), signal?: AbortSignal): Promise<PushResult> {
    const decidedAt = new Date(this.now());
    let signature: string | undefined;
    let sentAt: number | undefined;
    let outcome: BatchOutcome;
    try {
      const signed = await this.chain.sign(
        updates.map((u) => ({ market: this.addresses.get(u.symbol)!, price: BigInt(u.price), conf: BigInt(u.conf), expo: u.expo, publishTime: u.publishTime })),
      );
      signature = signed.signature;
      // Bounded: with the database away the push goes ahead (the sync verifies the chain on restart).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.log.markInflight({ _id: batchId, attempt, signature: signed.signature, decidedAt, updates }).catch(() => undefined),
        new Promise((r) => (timer = setTimeout(r, INFLIGHT_WAIT_MS))),
      ]);
      clearTimeout(timer);
      sentAt = this.now();
      outcome = await this.chain.land(signed, signal);
    } catch (e) {
      outcome = { status: 'unreachable', detail: (e as Error).message.slice(0, 300) };
    }
    const at = this.now();
    const kind = outcomeOf(outcome);
    const records: Omit<PushDoc, 'recordedAt'>[] = updates.map((u) => ({
      ...u,
      batchId,
      attempt,
      decidedAt,
      ...(signature && { signature }),
      outcome: kind,
      ...(outcome.status === 'confirmed' && {
        slot: outcome.slot,
        ...(outcome.feeLamports !== undefined && { feeLamports: outcome.feeLamports }),
        ...(outcome.computeUnits !== undefined && { computeUnits: outcome.computeUnits }),
        latencyMs: at - u.receivedAt.getTime(),
      }),
      ...((outcome.status === 'rejected' || outcome.status === 'unreachable') && { error: outcome.status === 'rejected' && outcome.name ? `${outcome.name}: ${outcome.detail}` : outcome.detail }),
    }));
    // The audit trail follows in the background: a slow database must not hold up the next push.
    this.unrecorded.push(...records);
    if (signature) this.clearing.push(batchId);
    this.flushRecords();
    return { batchId, updates, outcome, kind, ...(signature && { signature }), at, ...(sentAt !== undefined && { sentAt }) };
  }
}
