// Pyth PriceUpdateV2 accounts on the localnet, as the Pyth receiver would post them: one account per
// feed at a deterministic address, owned by the receiver program id, Full verification, written
// straight into the ledger (`Ledger.setAccount`, so account subscribers are notified) from Hermes
// updates. `HermesAccountFeed` keeps them current from the SSE stream, reconnecting with backoff.
import { I64_MAX, I64_MIN, U64_MAX } from '../../domain/decimal.ts';
import type { Logger } from 'pino';
import { z } from 'zod';
import { PublicKey } from '@solana/web3.js';
import { HermesClient } from '@pythnetwork/hermes-client';
import { feedIdBytes } from '../../programs/client/quantdesk-perp.ts';
import { encodePriceUpdateV2, type PriceUpdateV2 } from '../../programs/client/pyth-price-update.ts';
import type { AccountCheat } from './bootstrap.ts';

const PRICE_UPDATE_SEED = Buffer.from('price_update', 'utf8');

/**
 * The localnet's PriceUpdateV2 account for a feed: a PDA of the receiver program id with seeds
 * ["price_update", feed id], so it is stable across restarts, differs per receiver id, and no one
 * holds its key (only the localnet writes it, as only the receiver would).
 */
export function priceUpdateAddress(feedId: string, receiver: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([PRICE_UPDATE_SEED, Buffer.from(feedIdBytes(feedId))], receiver)[0];
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

const pythPrice = z.object({ price: z.string(), conf: z.string(), expo: z.number(), publish_time: z.number() });
const hermesParsedEntry = z.object({
  id: z.string(),
  price: pythPrice,
  ema_price: pythPrice.optional(),
  metadata: z.object({ prev_publish_time: z.number().nullish() }).partial().optional(),
});

/** The price message of a PriceUpdateV2, without the fields the poster fills in. */
export type PriceMessage = Pick<PriceUpdateV2, 'price' | 'conf' | 'exponent' | 'publishTime' | 'prevPublishTime' | 'emaPrice' | 'emaConf'> & {
  /** Lower-case hex, no 0x. */
  feedId: string;
};

function integer(raw: string | number, min: bigint, max: bigint, what: string): bigint {
  const text = typeof raw === 'number' ? (Number.isSafeInteger(raw) ? String(raw) : '') : raw;
  if (!/^-?\d{1,20}$/.test(text)) throw new RangeError(`${what} ${JSON.stringify(raw).slice(0, 40)} is not an integer`);
  const value = BigInt(text);
  if (value < min || value > max) throw new RangeError(`${what} ${value} does not fit the account`);
  return value;
}

/**
 * One Hermes `parsed[]` entry as a PriceUpdateV2 price message, or the reason it cannot be one.
 * Only representability is checked (i64 price, u64 conf, i32 exponent): the receiver posts any
 * signed message, and the program's own checks decide whether a price is usable.
 */
export function priceMessageFromHermes(entry: unknown): PriceMessage | { invalid: string } {
  const parsed = hermesParsedEntry.safeParse(entry);
  if (!parsed.success) return { invalid: `not a Hermes parsed update: ${parsed.error.issues[0]?.message ?? 'bad shape'}` };
  const e = parsed.data;
  try {
    if (!Number.isInteger(e.price.expo) || e.price.expo < I32_MIN || e.price.expo > I32_MAX) throw new RangeError(`exponent ${e.price.expo} is not an i32`);
    const feedId = Buffer.from(feedIdBytes(e.id)).toString('hex');
    const price = integer(e.price.price, I64_MIN, I64_MAX, 'price');
    const conf = integer(e.price.conf, 0n, U64_MAX, 'conf');
    const publishTime = integer(e.price.publish_time, I64_MIN, I64_MAX, 'publish_time');
    const prev = e.metadata?.prev_publish_time;
    return {
      feedId,
      price,
      conf,
      exponent: e.price.expo,
      publishTime,
      prevPublishTime: prev === undefined || prev === null ? publishTime : integer(prev, I64_MIN, I64_MAX, 'prev_publish_time'),
      emaPrice: e.ema_price === undefined ? price : integer(e.ema_price.price, I64_MIN, I64_MAX, 'ema price'),
      emaConf: e.ema_price === undefined ? conf : integer(e.ema_price.conf, 0n, U64_MAX, 'ema conf'),
    };
  } catch (err) {
    return { invalid: (err as Error).message };
  }
}

export interface PythFeedTarget {
  symbol: string;
  /** Lower-case hex, no 0x. */
  feedId: string;
  address: PublicKey;
}

export type WriteOutcome = { written: PythFeedTarget } | { skipped: 'unknown-feed' | 'invalid'; detail: string };

/** Writes PriceUpdateV2 accounts for a fixed set of feeds. */
export class PriceUpdateWriter {
  readonly #chain: AccountCheat;
  readonly #receiver: PublicKey;
  readonly #writeAuthority: PublicKey;
  readonly #byFeed: Map<string, PythFeedTarget>;
  readonly #lamports: bigint;

  /** `lamports`: what each account holds (rent-exempt for PRICE_UPDATE_V2_SIZE bytes). */
  constructor(options: { chain: AccountCheat; lamports: bigint; receiver: PublicKey; writeAuthority: PublicKey; targets: readonly PythFeedTarget[] }) {
    this.#chain = options.chain;
    this.#receiver = options.receiver;
    this.#writeAuthority = options.writeAuthority;
    this.#byFeed = new Map(options.targets.map((t) => [t.feedId, t]));
    this.#lamports = options.lamports;
  }

  get feedIds(): string[] {
    return [...this.#byFeed.keys()];
  }

  /** Writes one Hermes `parsed[]` entry into its feed's account, posted at the current slot. */
  async write(entry: unknown): Promise<WriteOutcome> {
    const message = priceMessageFromHermes(entry);
    if ('invalid' in message) return { skipped: 'invalid', detail: message.invalid };
    const target = this.#byFeed.get(message.feedId);
    if (target === undefined) return { skipped: 'unknown-feed', detail: message.feedId };
    const data = encodePriceUpdateV2({
      ...message,
      writeAuthority: this.#writeAuthority,
      verification: { kind: 'full' },
      postedSlot: await this.#chain.slot(),
    });
    await this.#chain.setAccount(target.address, { lamports: this.#lamports, owner: this.#receiver.toBase58(), executable: false, data });
    return { written: target };
  }
}

export interface HermesAccountFeedOptions {
  hermesUrl: string;
  writer: PriceUpdateWriter;
  log: Logger;
  /** First reconnect delay; doubles per failed attempt up to `maxBackoffMs`. Default 500 ms. */
  initialBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
  /** An open stream with no message for this long is treated as dead and reopened. Default 15 s. */
  silenceMs?: number;
}

export interface HermesAccountFeedStatus {
  connected: boolean;
  /** Updates written into accounts since start. */
  written: number;
  /** Entries that were not written (unknown feed, not representable, malformed message). */
  skipped: number;
  /** Times the stream was lost and scheduled to reopen. */
  reconnects: number;
}

/**
 * Keeps PriceUpdateV2 accounts current from Hermes' SSE stream (`@pythnetwork/hermes-client`).
 * Any failure (refused connection, HTTP error, reset, silence) closes the stream and reopens it
 * after an exponential backoff that resets once a message arrives; nothing here throws, so a
 * missing simulator never takes the localnet down.
 */
export class HermesAccountFeed {
  readonly #client: HermesClient;
  readonly #writer: PriceUpdateWriter;
  readonly #log: Logger;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #silenceMs: number;
  #source: { close(): void } | undefined;
  #retry: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #failures = 0;
  #lastActivityMs = 0;
  #stopped = true;
  #generation = 0;
  readonly #status: HermesAccountFeedStatus = { connected: false, written: 0, skipped: 0, reconnects: 0 };
  #writes: Promise<void> = Promise.resolve();

  constructor(options: HermesAccountFeedOptions) {
    this.#client = new HermesClient(options.hermesUrl, { httpRetries: 0 });
    this.#writer = options.writer;
    this.#log = options.log;
    this.#initialBackoffMs = options.initialBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#silenceMs = options.silenceMs ?? 15_000;
  }

  get status(): HermesAccountFeedStatus {
    return { ...this.#status };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#watchdog = setInterval(() => {
      if (this.#source !== undefined && Date.now() - this.#lastActivityMs > this.#silenceMs) {
        this.#lost(`no message for ${Date.now() - this.#lastActivityMs} ms`);
      }
    }, Math.min(1_000, this.#silenceMs));
    this.#watchdog.unref();
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.#generation++;
    clearInterval(this.#watchdog);
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#source?.close();
    this.#source = undefined;
    this.#status.connected = false;
  }

  #connect(): void {
    if (this.#stopped) return;
    // Events of a stream we already gave up on must not touch the current one.
    const generation = ++this.#generation;
    const current = () => generation === this.#generation && !this.#stopped;
    this.#lastActivityMs = Date.now();
    this.#client.getPriceUpdatesStream(this.#writer.feedIds, { parsed: true, encoding: 'hex' }).then(
      (source) => {
        if (!current()) {
          source.close();
          return;
        }
        this.#source = source;
        source.onopen = () => {
          if (!current()) return;
          this.#status.connected = true;
          this.#log.info({ feeds: this.#writer.feedIds.length }, 'pyth_feed.open');
        };
        source.onmessage = (event: MessageEvent) => {
          if (!current()) return;
          this.#lastActivityMs = Date.now();
          this.#failures = 0;
          this.#onMessage(String(event.data));
        };
        source.onerror = (event: Event & { code?: number; message?: string }) => {
          if (!current()) return;
          this.#lost(`stream failed${event.code ? ` (HTTP ${event.code})` : ''}: ${event.message ?? 'connection lost'}`);
        };
      },
      (err: unknown) => {
        if (current()) this.#lost(`stream not opened: ${(err as Error).message}`);
      },
    );
  }

  #lost(reason: string): void {
    if (this.#stopped || this.#retry !== undefined) return;
    this.#generation++;
    this.#source?.close();
    this.#source = undefined;
    this.#status.connected = false;
    this.#status.reconnects++;
    const delay = Math.min(this.#maxBackoffMs, this.#initialBackoffMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    this.#log.warn({ reason, retryInMs: delay, failures: this.#failures }, 'pyth_feed.lost');
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#connect();
    }, delay);
    this.#retry.unref();
  }

  #onMessage(data: string): void {
    let body: unknown;
    try {
      body = JSON.parse(data);
    } catch {
      this.#status.skipped++;
      this.#log.warn({ bytes: data.length }, 'pyth_feed.malformed_message');
      return;
    }
    const entries = (body as { parsed?: unknown } | null)?.parsed;
    if (!Array.isArray(entries)) {
      this.#status.skipped++;
      this.#log.warn({}, 'pyth_feed.message_without_parsed');
      return;
    }
    // Written in arrival order, one at a time: a chain that answers slowly delays the accounts, never reorders them.
    this.#writes = this.#writes.then(async () => {
      for (const entry of entries) {
        try {
          const outcome = await this.#writer.write(entry);
          if ('written' in outcome) {
            this.#status.written++;
          } else {
            this.#status.skipped++;
            this.#log.warn({ reason: outcome.skipped, detail: outcome.detail }, 'pyth_feed.update_skipped');
          }
        } catch (err) {
          this.#status.skipped++;
          this.#log.warn({ err: (err as Error).message }, 'pyth_feed.write_failed');
        }
      }
    });
  }
}
