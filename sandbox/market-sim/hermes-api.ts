import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { WHOLE_MESSAGE_CORRUPTIONS, type FaultBoard } from './faults.ts';
import type { FeedCatalogue, SimFeed } from './feeds.ts';
import { priceUpdateMessage, type Encoding, type PublishedUpdate } from './hermes-wire.ts';
import { touches, type RequestGate } from './request-gate.ts';

/** Hermes (axum) sends an SSE comment this often when there is nothing else to send. */
const KEEP_ALIVE_MS = 15_000;
/** `/v2/updates/price/{publish_time}` (besides `latest` and `stream`, routed first). */
const UPDATES_PREFIX = '/v2/updates/price/';
/** A client this far behind is cut off rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/** Hermes' asset types (`AssetType` in its OpenAPI schema), for `/v2/price_feeds?asset_type=`. */
const ASSET_TYPES = [
  'crypto',
  'fx',
  'equity',
  'metal',
  'rates',
  'crypto_redemption_rate',
  'commodities',
  'crypto_index',
  'crypto_nav',
  'eco',
  'kalshi',
] as const;

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
const priceId = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'a price id is 32 bytes of hex, with or without 0x')
  .transform((id) => id.toLowerCase().replace(/^0x/, ''));

const updatesQuerySchema = z.object({
  ids: z.array(priceId).min(1, 'missing field `ids[]`'),
  encoding: z.enum(['hex', 'base64']).default('hex'),
  parsed: boolParam.default(true),
  ignore_invalid_price_ids: boolParam.default(false),
  allow_unordered: boolParam.default(false),
  benchmarks_only: boolParam.default(false),
});

const priceFeedsQuerySchema = z.object({
  query: z.string().optional(),
  asset_type: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(ASSET_TYPES))
    .optional(),
});

function queryObject(params: URLSearchParams, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = params.get(k);
    if (v !== null) out[k] = v;
  }
  return out;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function sendJsonText(res: ServerResponse, json: string): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(json);
}

function badQuery(res: ServerResponse, error: z.ZodError): void {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  sendText(res, 400, `Failed to deserialize query string: ${where}${issue?.message ?? 'invalid query'}`);
}

/** Hermes' `/v2/price_feeds` entry for a feed. */
export function feedMetadata(feed: SimFeed) {
  return {
    id: feed.id,
    attributes: {
      asset_type: 'Crypto',
      base: feed.base,
      description: `${feed.coingeckoId.toUpperCase().replaceAll('-', ' ')} / US DOLLAR`,
      display_symbol: `${feed.base}/USD`,
      generic_symbol: `${feed.base}USD`,
      quote_currency: 'USD',
      schedule: 'America/New_York;O,O,O,O,O,O,O;',
      symbol: feed.pythSymbol,
    },
  };
}

interface StreamOptions {
  readonly encoding: Encoding;
  readonly parsed: boolean;
  readonly benchmarksOnly: boolean;
}

/** One open `/v2/updates/price/stream` response. */
class SseStream {
  readonly feedIds: ReadonlySet<string>;
  readonly #res: ServerResponse;
  readonly #options: StreamOptions;
  /** Per feed, when its last event is (or was) written: a delayed feed never overtakes itself. */
  readonly #releaseAt = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #keepAlive: NodeJS.Timeout;

  constructor(
    res: ServerResponse,
    feedIds: ReadonlySet<string>,
    options: StreamOptions,
    silent: () => boolean,
    retryMs: number | undefined,
  ) {
    this.#res = res;
    this.feedIds = feedIds;
    this.#options = options;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    if (retryMs !== undefined) res.write(`retry: ${retryMs}\n\n`);
    res.flushHeaders();
    this.#keepAlive = setInterval(() => {
      if (!silent()) this.#writeRaw(':\n\n');
    }, KEEP_ALIVE_MS);
  }

  /** Sends these updates (all about this stream's feeds) as one event, `delayMs` from now. */
  send(updates: readonly PublishedUpdate[], delayMs: number): void {
    if (this.#options.benchmarksOnly) {
      updates = updates.filter((u) => u.prevPublishTime !== u.publishTime);
      if (updates.length === 0) return;
    }
    const now = Date.now();
    let at = now + delayMs;
    for (const u of updates) at = Math.max(at, this.#releaseAt.get(u.feedId) ?? 0);
    for (const u of updates) this.#releaseAt.set(u.feedId, at);
    const write = () => this.#writeRaw(`data: ${priceUpdateMessage(updates, this.#options)}\n\n`);
    if (at <= now) {
      write();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      write();
    }, at - now);
    this.#timers.add(timer);
  }

  #writeRaw(chunk: string): void {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
  }

  /** Closes the stream: gracefully (`end`) or by resetting the connection (`destroy`). */
  close(how: 'end' | 'destroy'): void {
    this.dispose();
    if (how === 'end') this.#res.end();
    else this.#res.socket?.destroy();
  }

  dispose(): void {
    clearInterval(this.#keepAlive);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

export interface HermesApiDeps {
  readonly catalogue: FeedCatalogue;
  readonly board: FaultBoard;
  readonly gate: RequestGate;
  /** The latest update the simulated Hermes published for a feed. */
  readonly latest: (feedId: string) => PublishedUpdate | undefined;
  /** The first remembered update of a feed published at or after this Unix second. */
  readonly atOrAfter: (feedId: string, publishTime: number) => PublishedUpdate | undefined;
  readonly apiKey: string | undefined;
  /** Sent as the SSE `retry:` field when set (real Hermes sends none; EventSource then waits 3 s). */
  readonly sseRetryMs: number | undefined;
  readonly logger: Logger;
}

export interface HermesApi {
  /** Serves `/v2/...`; false when the path is not one of Hermes'. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
  /** Writes freshly published updates to every open stream that asked for their feeds. */
  deliver(updates: readonly PublishedUpdate[]): void;
  /** Closes the streams about these feeds (all when null); returns how many. */
  closeStreams(feedIds: ReadonlySet<string> | null, how: 'end' | 'destroy'): number;
  streamCount(): number;
}

/** The Hermes v2 HTTP API, as `@pythnetwork/hermes-client` calls it. */
export function createHermesApi(deps: HermesApiDeps): HermesApi {
  const { catalogue, board, gate, logger } = deps;
  const streams = new Set<SseStream>();

  /** Hermes takes the token as `Authorization: Bearer` or as the `ACCESS_TOKEN` query parameter. */
  function authorised(req: IncomingMessage, url: URL): boolean {
    if (deps.apiKey === undefined) return true;
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    return (bearer ?? url.searchParams.get('ACCESS_TOKEN')) === deps.apiKey;
  }

  /** Splits requested ids into known feeds and unknown ids (as requested, without 0x). */
  function resolveIds(ids: readonly string[]) {
    const feeds: SimFeed[] = [];
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const feed = catalogue.byId(id);
      if (feed === undefined) missing.push(id);
      else feeds.push(feed);
    }
    return { feeds, missing };
  }

  function priceFeeds(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const q = priceFeedsQuerySchema.safeParse(queryObject(url.searchParams, ['query', 'asset_type']));
    if (!q.success) return badQuery(res, q.error);
    gate.admit('pyth', null, req, res, () => {
      const needle = q.data.query?.toLowerCase();
      const list = catalogue.all
        .map(feedMetadata)
        .filter((m) => needle === undefined || m.attributes.symbol.toLowerCase().includes(needle))
        .filter((m) => q.data.asset_type === undefined || m.attributes.asset_type.toLowerCase() === q.data.asset_type);
      sendJsonText(res, JSON.stringify(list));
    }, { parkWhenStalled: true });
  }

  function parseUpdatesQuery(res: ServerResponse, url: URL) {
    const q = updatesQuerySchema.safeParse({
      ids: url.searchParams.getAll('ids[]'),
      ...queryObject(url.searchParams, [
        'encoding',
        'parsed',
        'ignore_invalid_price_ids',
        'allow_unordered',
        'benchmarks_only',
      ]),
    });
    if (!q.success) {
      badQuery(res, q.error);
      return undefined;
    }
    return q.data;
  }

  /**
   * One update per requested feed, as `pick` chooses it, in one `PriceUpdate` (the `/latest` body).
   * Unknown ids: 404 unless ignored. A known feed `pick` has nothing for: with `noUpdate`, it is left
   * out (404 with that text when every feed is); without, it counts as an unknown id (`/latest`).
   */
  function serveUpdates(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    pick: (feedId: string) => PublishedUpdate | undefined,
    noUpdate?: string,
  ): void {
    const q = parseUpdatesQuery(res, url);
    if (q === undefined) return;
    const { feeds, missing } = resolveIds(q.ids);
    gate.admit('pyth', new Set(feeds.map((f) => f.id)), req, res, () => {
      const updates: PublishedUpdate[] = [];
      for (const f of feeds) {
        const u = pick(f.id);
        if (u !== undefined) updates.push(u);
        else if (noUpdate === undefined) missing.push(f.id);
      }
      if (missing.length > 0 && !q.ignore_invalid_price_ids) {
        return sendText(res, 404, `Price ids not found: ${missing.join(', ')}`);
      }
      if (noUpdate !== undefined && updates.length === 0) return sendText(res, 404, noUpdate);
      sendJsonText(res, priceUpdateMessage(updates, { encoding: q.encoding, parsed: q.parsed }));
    }, { parkWhenStalled: true });
  }

  function latest(req: IncomingMessage, res: ServerResponse, url: URL): void {
    serveUpdates(req, res, url, deps.latest);
  }

  /** `/v2/updates/price/{publish_time}`: per feed, the first update published at or after that Unix second. */
  function atTimestamp(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const segment = url.pathname.slice(UPDATES_PREFIX.length);
    // Hermes takes the path parameter as an i64 (axum answers 400 when it is not one).
    const publishTime = /^-?\d{1,16}$/.test(segment) ? Number(segment) : Number.NaN;
    if (!Number.isSafeInteger(publishTime)) {
      return sendText(res, 400, `Invalid URL: Cannot parse \`${segment.slice(0, 40)}\` to a \`i64\``);
    }
    // What Hermes keeps is each update's data: a message the wire truncated or padded when it was
    // streamed is answered whole from the archive, its entries' values (bad or not) as published.
    const archived = (u: PublishedUpdate | undefined) =>
      u?.corruption !== undefined && WHOLE_MESSAGE_CORRUPTIONS.includes(u.corruption) ? { ...u, corruption: undefined } : u;
    serveUpdates(req, res, url, (id) => archived(deps.atOrAfter(id, publishTime)), `No price update at or after publish time ${publishTime} for the requested ids`);
  }

  function stream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const q = parseUpdatesQuery(res, url);
    if (q === undefined) return;
    const { feeds, missing } = resolveIds(q.ids);
    const feedIds = new Set(feeds.map((f) => f.id));
    gate.admit('pyth', feedIds, req, res, () => {
      if (missing.length > 0 && !q.ignore_invalid_price_ids) {
        return sendText(res, 404, `Price ids not found: ${missing.join(', ')}`);
      }
      const s = new SseStream(
        res,
        feedIds,
        { encoding: q.encoding, parsed: q.parsed, benchmarksOnly: q.benchmarks_only },
        () => board.isStalledAll('pyth'),
        deps.sseRetryMs,
      );
      streams.add(s);
      logger.info({ feeds: feedIds.size, streams: streams.size }, 'stream.opened');
      res.once('close', () => {
        s.dispose();
        if (streams.delete(s)) logger.info({ feeds: feedIds.size, streams: streams.size }, 'stream.closed');
      });
    }, { parkWhenStalled: false });
  }

  return {
    handle(req, res, url) {
      const route =
        url.pathname === '/v2/price_feeds'
          ? priceFeeds
          : url.pathname === '/v2/updates/price/latest'
            ? latest
            : url.pathname === '/v2/updates/price/stream'
              ? stream
              : url.pathname.startsWith(UPDATES_PREFIX) && !url.pathname.slice(UPDATES_PREFIX.length).includes('/')
                ? atTimestamp
                : undefined;
      if (route === undefined) return false;
      if (board.isKilled('pyth')) {
        req.socket.destroy();
        return true;
      }
      if (req.method !== 'GET') {
        sendText(res, 405, 'Method Not Allowed');
        return true;
      }
      if (!authorised(req, url)) {
        logger.warn({ path: url.pathname }, 'request.unauthorised');
        sendText(res, 401, 'Unauthorized: a valid access token is required');
        return true;
      }
      route(req, res, url);
      return true;
    },

    deliver(updates) {
      if (updates.length === 0) return;
      for (const s of streams) {
        // Group this stream's share by delay, so a delayed feed does not hold back the others.
        const byDelay = new Map<number, PublishedUpdate[]>();
        for (const u of updates) {
          if (!s.feedIds.has(u.feedId)) continue;
          const ms = board.delayMs('pyth', [u.feedId]);
          const group = byDelay.get(ms);
          if (group === undefined) byDelay.set(ms, [u]);
          else group.push(u);
        }
        for (const [ms, group] of byDelay) s.send(group, ms);
      }
    },

    closeStreams(feedIds, how) {
      let n = 0;
      for (const s of [...streams]) {
        if (!touches(s.feedIds, feedIds)) continue;
        streams.delete(s);
        s.close(how);
        n += 1;
      }
      if (n > 0) logger.info({ closed: n, how, streams: streams.size }, 'stream.closed');
      return n;
    },

    streamCount: () => streams.size,
  };
}
