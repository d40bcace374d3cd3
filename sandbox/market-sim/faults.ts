import { z } from 'zod';

/** The two upstreams the simulator impersonates. */
export const SOURCES = ['pyth', 'coingecko'] as const;
export type Source = (typeof SOURCES)[number];

/**
 * Bad payloads the simulator can publish. Per-feed kinds alter that feed's entry; `malformed-json`
 * and `oversized` spoil the whole message that carries the feed.
 */
export const CORRUPTIONS = [
  'nan-price',
  'negative-price',
  'zero-price',
  /** Exponent 7 (Pyth) / price × 10^7 (CoinGecko). */
  'expo-high',
  /** Exponent -40 (Pyth) / price × 10^-40 (CoinGecko). */
  'expo-low',
  /** Publish time (last_updated_at) 10 minutes old. */
  'stale-time',
  /** Publish time (last_updated_at) 10 minutes ahead. */
  'future-time',
  /** The entry carries an id nobody asked for. */
  'unknown-id',
  'malformed-json',
  /** The message grows beyond 1 MiB, still valid JSON. */
  'oversized',
] as const;
export type Corruption = (typeof CORRUPTIONS)[number];
/** The kinds that spoil the whole message carrying the corrupted entry (every feed in it). */
export const WHOLE_MESSAGE_CORRUPTIONS: readonly Corruption[] = ['malformed-json', 'oversized'];

/** Largest |bias| in basis points (±50%). */
export const MAX_BIAS_BPS = 5_000;

/**
 * A Pyth mantissa shifted by `bps` basis points: `mantissa × (1 + bps/10000)`, computed exactly and
 * rounded to the nearest integer (halves away from zero).
 */
export function biasMantissa(mantissa: bigint, bps: number): bigint {
  if (bps === 0) return mantissa;
  const scaled = mantissa * BigInt(10_000 + bps);
  const sign = scaled < 0n ? -1n : 1n;
  return sign * ((sign * scaled + 5_000n) / 10_000n);
}

/** A CoinGecko USD price shifted by `bps` basis points: `usd × (1 + bps/10000)`. */
export function biasUsd(usd: number, bps: number): number {
  return bps === 0 ? usd : usd * (1 + bps / 10_000);
}

export const ABSURD_EXPO_HIGH = 7;
export const ABSURD_EXPO_LOW = -40;
export const TIME_SHIFT_SEC = 600;
export const OVERSIZE_BYTES = 1_100_000;

/** A set of feeds a fault applies to: every feed (`all`), or the listed ones. */
class Scope {
  all = false;
  readonly feeds = new Set<string>();

  covers(feedId: string): boolean {
    return this.all || this.feeds.has(feedId);
  }

  coversAny(feedIds: Iterable<string> | null): boolean {
    if (this.all) return true;
    if (feedIds === null) return false;
    for (const id of feedIds) if (this.feeds.has(id)) return true;
    return false;
  }

  add(feedIds: readonly string[] | null): void {
    if (feedIds === null) this.all = true;
    else for (const id of feedIds) this.feeds.add(id);
  }

  /** Lifting without a feed list lifts everything; with one, only those feeds. */
  remove(feedIds: readonly string[] | null): void {
    if (feedIds === null) {
      this.all = false;
      this.feeds.clear();
    } else for (const id of feedIds) this.feeds.delete(id);
  }

  snapshot() {
    return { all: this.all, feeds: [...this.feeds] };
  }
}

export interface Injection {
  readonly id: number;
  readonly kind: Corruption;
  /** null: every feed. */
  readonly feeds: ReadonlySet<string> | null;
  /** Updates still to corrupt; null: until cleared. */
  remaining: number | null;
}

class SourceFaults {
  killed = false;
  readonly paused = new Scope();
  readonly stalled = new Scope();
  delayAllMs = 0;
  readonly delayByFeed = new Map<string, number>();
  injections: Injection[] = [];
  /** Bias of every feed without its own entry (bps). */
  biasAllBps = 0;
  /** Per-feed bias (bps), overriding `biasAllBps`. */
  readonly biasByFeed = new Map<string, number>();
}

/**
 * The simulator's fault state. Pure bookkeeping: the simulator asks it, per request and per update,
 * whether a source or feed is killed, paused, stalled, delayed or due a bad payload.
 */
export class FaultBoard {
  readonly #sources: Record<Source, SourceFaults> = {
    pyth: new SourceFaults(),
    coingecko: new SourceFaults(),
  };
  #nextInjectionId = 1;

  isKilled(source: Source): boolean {
    return this.#sources[source].killed;
  }

  /** Paused for the whole source, or for any of `feedIds`. */
  isPaused(source: Source, feedIds: Iterable<string> | null): boolean {
    return this.#sources[source].paused.coversAny(feedIds);
  }

  /** Stalled as a whole: connections stay open and nothing is sent. */
  isStalledAll(source: Source): boolean {
    return this.#sources[source].stalled.all;
  }

  /** Whether the source publishes nothing for this feed right now (killed, paused or stalled). */
  isSilenced(source: Source, feedId: string): boolean {
    const s = this.#sources[source];
    return s.killed || s.paused.covers(feedId) || s.stalled.covers(feedId);
  }

  /** Added latency for a message about these feeds (the largest applicable delay). */
  delayMs(source: Source, feedIds: Iterable<string> | null): number {
    const s = this.#sources[source];
    let ms = s.delayAllMs;
    if (feedIds !== null) for (const id of feedIds) ms = Math.max(ms, s.delayByFeed.get(id) ?? 0);
    return ms;
  }

  /** The shift (bps) applied to this feed's prices as the source publishes them; 0: none. */
  biasBps(source: Source, feedId: string): number {
    const s = this.#sources[source];
    return s.biasByFeed.get(feedId) ?? s.biasAllBps;
  }

  /** The bad payload due for this feed's next update, if any; counts it against its injection. */
  takeCorruption(source: Source, feedId: string): Corruption | undefined {
    const s = this.#sources[source];
    const injection = s.injections.find((i) => i.feeds === null || i.feeds.has(feedId));
    if (injection === undefined) return undefined;
    if (injection.remaining !== null) {
      injection.remaining -= 1;
      if (injection.remaining <= 0) s.injections = s.injections.filter((i) => i !== injection);
    }
    return injection.kind;
  }

  kill(source: Source): void {
    this.#sources[source].killed = true;
  }

  pause(source: Source, feedIds: readonly string[] | null): void {
    this.#sources[source].paused.add(feedIds);
  }

  resume(source: Source, feedIds: readonly string[] | null): void {
    this.#sources[source].paused.remove(feedIds);
  }

  stall(source: Source, feedIds: readonly string[] | null): void {
    this.#sources[source].stalled.add(feedIds);
  }

  unstall(source: Source, feedIds: readonly string[] | null): void {
    this.#sources[source].stalled.remove(feedIds);
  }

  /** Sets the delay (0 clears it) for the whole source or for the listed feeds. */
  delay(source: Source, ms: number, feedIds: readonly string[] | null): void {
    const s = this.#sources[source];
    if (feedIds === null) {
      s.delayAllMs = ms;
      if (ms === 0) s.delayByFeed.clear();
      return;
    }
    for (const id of feedIds) {
      if (ms === 0) s.delayByFeed.delete(id);
      else s.delayByFeed.set(id, ms);
    }
  }

  /**
   * Sets the bias (0 clears it) of the whole source, replacing every per-feed bias, or of the listed
   * feeds only (the latest setting of a feed wins over the whole-source one).
   */
  bias(source: Source, bps: number, feedIds: readonly string[] | null): void {
    const s = this.#sources[source];
    if (feedIds === null) {
      s.biasAllBps = bps;
      s.biasByFeed.clear();
      return;
    }
    for (const id of feedIds) {
      if (bps === s.biasAllBps) s.biasByFeed.delete(id);
      else s.biasByFeed.set(id, bps);
    }
  }

  inject(source: Source, kind: Corruption, count: number | null, feedIds: readonly string[] | null): number {
    const id = this.#nextInjectionId++;
    this.#sources[source].injections.push({
      id,
      kind,
      feeds: feedIds === null ? null : new Set(feedIds),
      remaining: count,
    });
    return id;
  }

  clearInjections(source: Source): void {
    this.#sources[source].injections = [];
  }

  /** Back to a healthy source: not killed, paused, stalled, delayed, biased or corrupting. */
  restore(source: Source): void {
    this.#sources[source] = new SourceFaults();
  }

  snapshot() {
    const one = (s: SourceFaults) => ({
      killed: s.killed,
      paused: s.paused.snapshot(),
      stalled: s.stalled.snapshot(),
      delay: { allMs: s.delayAllMs, byFeed: Object.fromEntries(s.delayByFeed) },
      bias: { allBps: s.biasAllBps, byFeed: Object.fromEntries(s.biasByFeed) },
      injections: s.injections.map((i) => ({
        id: i.id,
        kind: i.kind,
        feeds: i.feeds === null ? null : [...i.feeds],
        remaining: i.remaining,
      })),
    });
    return { pyth: one(this.#sources.pyth), coingecko: one(this.#sources.coingecko) };
  }
}

export type FaultSnapshot = ReturnType<FaultBoard['snapshot']>;

// Control requests (HTTP bodies and their programmatic equivalents), validated with zod.

const source = z.enum(SOURCES);
/** Feeds by Pyth id (with or without 0x), market symbol, base or CoinGecko id; omitted: all feeds. */
const feeds = z.array(z.string().min(1).max(80)).min(1).max(10_000).optional();

const scoped = z.object({ source, feeds }).strict();
const whole = z.object({ source }).strict();

export const controlRequestSchemas = {
  pause: scoped,
  resume: scoped,
  stall: scoped,
  unstall: scoped,
  drop: scoped,
  kill: whole,
  restore: whole,
  delay: z.object({ source, feeds, ms: z.number().int().min(0).max(600_000) }).strict(),
  /** Shift the source's prices by `bps` basis points (signed; 0 clears). */
  bias: z
    .object({ source, feeds, bps: z.number().int().min(-MAX_BIAS_BPS).max(MAX_BIAS_BPS) })
    .strict(),
  inject: z
    .object({
      source,
      feeds,
      kind: z.enum(CORRUPTIONS),
      /** Corrupt the next `count` updates; omitted: every update until cleared. */
      count: z.number().int().min(1).max(1_000_000).optional(),
    })
    .strict(),
  'clear-injections': whole,
  reset: z.object({}).strict(),
} as const;

export type ControlAction = keyof typeof controlRequestSchemas;
export type ControlRequest<A extends ControlAction> = z.infer<(typeof controlRequestSchemas)[A]>;
