import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { marketRegistrySchema } from '../../domain/markets.ts';
import { createCoingeckoApi } from './coingecko-api.ts';
import type { CoingeckoQuote } from './coingecko-wire.ts';
import { createControlApi } from './control-api.ts';
import { ControlError, createSimControl, type SimControl } from './control.ts';
import { biasMantissa, controlRequestSchemas, FaultBoard, type ControlAction } from './faults.ts';
import { buildCatalogue, loadRegistry, type SimFeed } from './feeds.ts';
import { createHermesApi } from './hermes-api.ts';
import { buildUpdate, type PublishedUpdate } from './hermes-wire.ts';
import { PriceWalk, type PythQuote } from './price-walk.ts';
import { PublishLog } from './publish-log.ts';
import { loadRecording, type ReplayRecord } from './replay.ts';
import { RequestGate } from './request-gate.ts';
import { groupBy } from '../../domain/group-by.ts';

export const DEFAULT_PORT = 4010;
export const DEFAULT_MARKETS_FILE = fileURLToPath(new URL('../../config/markets.json', import.meta.url));
/** Pythnet produces a slot every 400 ms; Hermes streams one aggregate per slot. */
const SLOT_MS = 400;
/** A plausible Pythnet slot height to count from. */
const GENESIS_SLOT = 200_000_000;

/** Room for ~10,000 feed ids in one query string. */
const MAX_URL_BYTES = 1024 * 1024;

const rate = z.number().positive().max(1_000);

/** A control to apply before the first update, as on `POST /control/<action>`. */
export const initialControlSchema = z.object({
  action: z.enum(Object.keys(controlRequestSchemas) as [ControlAction, ...ControlAction[]]),
  body: z.unknown(),
});

export const marketSimOptionsSchema = z.object({
  /** 0 picks a free port (tests). */
  port: z.number().int().min(0).max(65_535).default(DEFAULT_PORT),
  host: z.string().min(1).default('127.0.0.1'),
  /** Same seed, same sequence of quotes per feed. */
  seed: z.union([z.string().min(1), z.number()]).default(1),
  /** A registry object (parsed with `marketRegistrySchema`); else read from `marketsFile`. */
  registry: z.unknown().optional(),
  marketsFile: z.string().min(1).default(DEFAULT_MARKETS_FILE),
  /** Synthetic feeds added after the registry's, for benchmarks. */
  extraFeeds: z.number().int().min(0).max(100_000).default(0),
  /** Pyth updates per second per feed (2.5 = one per Pythnet slot). */
  updatesPerSecond: rate.default(2.5),
  /** Per-feed override of `updatesPerSecond`, by feed id, symbol, base or CoinGecko id. */
  feedRates: z.record(z.string(), rate).default({}),
  /** How often CoinGecko's prices refresh. */
  coingeckoIntervalMs: z.number().int().min(10).max(3_600_000).default(3_000),
  /** When set, Hermes routes require `Authorization: Bearer <key>` (or `ACCESS_TOKEN=`). */
  pythApiKey: z.string().min(1).optional(),
  /** When set, CoinGecko requires `x-cg-pro-api-key` / `x-cg-demo-api-key` (header or query). */
  coingeckoApiKey: z.string().min(1).optional(),
  /**
   * Pyth publish times are whole seconds, so at 2.5 updates/s several updates of a feed share one
   * (as on the real network). When true, a feed only publishes once its publish time has moved on:
   * strictly increasing publish times, at most one update per feed per second.
   */
  strictPublishTime: z.boolean().default(false),
  /** SSE `retry:` (ms) sent at stream start; real Hermes sends none. */
  sseRetryMs: z.number().int().min(0).max(600_000).optional(),
  /** false: no timers; updates happen only on `step()` / `refreshCoingecko()`. */
  autoPublish: z.boolean().default(true),
  /** Updates remembered per feed, for `publishedAt` and `/v2/updates/price/{publish_time}`. */
  publishLogSize: z.number().int().min(16).max(1_000_000).default(4_096),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && 'child' in v).optional(),
  initialControls: z.array(initialControlSchema).default([]),
  /**
   * Replays a recorded Hermes stream (`npm run record`) instead of the random walk, over and over:
   * its feeds' prices come from the file (at `speed` × the recorded pace), the others keep walking.
   */
  replay: z.object({ file: z.string().min(1), speed: z.number().positive().max(1_000).default(1) }).optional(),
});

export type MarketSimOptions = z.input<typeof marketSimOptionsSchema>;

/** A feed's state now: the underlying market and what each source last published. */
export interface FeedPrices {
  readonly id: string;
  readonly symbol: string;
  readonly coingeckoId: string;
  readonly expo: number;
  /** The underlying walk, in USD (what both sources observe). */
  readonly value: number;
  /** The last Hermes `parsed` entry for the feed, exactly as served (with any bias in effect when published). */
  readonly pyth: unknown;
  /** The latest CoinGecko sample, before any bias (the bias applies when it is served). */
  readonly coingecko: CoingeckoQuote | null;
  /** The bias (bps) each source applies to this feed now (Pyth: to its next update). */
  readonly bias: { readonly pyth: number; readonly coingecko: number };
}

export interface MarketSim {
  /** Base URL for both Hermes and CoinGecko (`http://127.0.0.1:<port>`); set once started. */
  readonly url: string;
  readonly feeds: readonly SimFeed[];
  readonly control: SimControl;
  start(): Promise<string>;
  stop(): Promise<void>;
  /** Current prices of all feeds, or of the named ones (id, symbol, base or CoinGecko id). */
  prices(feeds?: string[]): FeedPrices[];
  /** Wall-clock ms at which the update (feed, publish time[, price mantissa]) was published. */
  publishedAt(feed: string, publishTime: number, price?: string): number | undefined;
  /** The Pyth updates of a feed the simulator published and still remembers (`publishLogSize` per feed), oldest first. */
  published(feed: string): readonly PublishedUpdate[];
  /** Publishes one Pyth update of every feed now (the clock when `autoPublish` is false). */
  step(): void;
  /** Takes a fresh CoinGecko sample of every feed now. */
  refreshCoingecko(): void;
}

export function createMarketSim(input: MarketSimOptions = {}): MarketSim {
  const options = marketSimOptionsSchema.parse(input);
  const logger = (options.logger ?? pino({ name: 'market-sim', level: options.logLevel })).child({
    module: 'market-sim',
  });
  const registry =
    options.registry === undefined ? loadRegistry(options.marketsFile) : marketRegistrySchema.parse(options.registry);
  const catalogue = buildCatalogue(registry, options.extraFeeds);
  const board = new FaultBoard();
  const gate = new RequestGate(board);
  const walks = new Map(catalogue.all.map((f) => [f.id, new PriceWalk(f, options.seed)]));
  const pythLatest = new Map<string, PublishedUpdate>();
  const pythTrueTime = new Map<string, number>();
  const cgLatest = new Map<string, CoingeckoQuote>();
  const publishLog = new PublishLog(options.publishLogSize);
  const recording = options.replay && loadRecording(options.replay.file);
  /** Feeds whose prices come from the recording, and their latest replayed value (USD) for CoinGecko. */
  const replayed = new Set(recording ? recording.flatMap((r) => r.quotes.map((q) => catalogue.resolve(q.feedId)?.id).filter((id): id is string => id !== undefined)) : []);
  const replayValue = new Map<string, number>();

  // Feeds grouped by update interval: each group publishes together, one slot per tick.
  const intervalOf = new Map<string, number>();
  for (const f of catalogue.all) intervalOf.set(f.id, 1_000 / options.updatesPerSecond);
  for (const [name, perSecond] of Object.entries(options.feedRates)) {
    const feed = catalogue.resolve(name);
    if (feed === undefined) throw new ControlError(`feedRates: unknown feed ${name}`);
    intervalOf.set(feed.id, 1_000 / perSecond);
  }
  const groups = groupBy(catalogue.all, (f) => intervalOf.get(f.id)!);

  const hermes = createHermesApi({
    catalogue,
    board,
    gate,
    latest: (id) => pythLatest.get(id),
    atOrAfter: (id, publishTime) => publishLog.firstAtOrAfter(id, publishTime),
    apiKey: options.pythApiKey,
    sseRetryMs: options.sseRetryMs,
    logger: logger.child({ module: 'hermes' }),
  });
  const coingecko = createCoingeckoApi({
    catalogue,
    board,
    gate,
    latest: (id) => cgLatest.get(id),
    apiKey: options.coingeckoApiKey,
    logger: logger.child({ module: 'coingecko' }),
  });

  const control = createSimControl({
    board,
    catalogue,
    gate,
    logger: logger.child({ module: 'control' }),
    // Only Hermes has long-lived responses; CoinGecko's in-flight requests are the gate's.
    effects: {
      closeStreams: (source, feedIds, how) => (source === 'pyth' ? hermes.closeStreams(feedIds, how) : 0),
    },
  });
  for (const c of options.initialControls) control.apply(c.action, c.body);

  let slot = GENESIS_SLOT;
  let startedAtMs = 0;
  let url: string | undefined;
  const timers = new Set<NodeJS.Timeout>();

  function publishPyth(feeds: readonly SimFeed[], intervalMs: number): void {
    const nowMs = Date.now();
    const nowSec = Math.floor(nowMs / 1_000);
    slot = Math.max(slot + 1, GENESIS_SLOT + Math.floor((nowMs - startedAtMs) / SLOT_MS));
    const stepSec = options.strictPublishTime ? Math.max(1, intervalMs / 1_000) : intervalMs / 1_000;
    const out: PublishedUpdate[] = [];
    for (const f of feeds) {
      const previous = pythTrueTime.get(f.id);
      if (options.strictPublishTime && previous !== undefined && nowSec <= previous) continue;
      if (replayed.has(f.id)) continue;
      const walk = walks.get(f.id)!;
      walk.step(stepSec);
      const update = publishOne(f, walk.quote(), nowMs);
      if (update) out.push(update);
    }
    hermes.deliver(out);
  }

  /** One recorded message, published now. */
  function publishRecord(record: ReplayRecord): void {
    const nowMs = Date.now();
    slot = Math.max(slot + 1, GENESIS_SLOT + Math.floor((nowMs - startedAtMs) / SLOT_MS));
    const out: PublishedUpdate[] = [];
    for (const { feedId, quote } of record.quotes) {
      const f = catalogue.resolve(feedId);
      if (f === undefined) continue;
      replayValue.set(f.id, Number(quote.price) * 10 ** quote.expo);
      const update = publishOne(f, quote, nowMs);
      if (update) out.push(update);
    }
    hermes.deliver(out);
  }

  /** Publishes `quote` as feed `f`'s update now, with the faults in effect; undefined when Pyth is silenced for it. */
  function publishOne(f: SimFeed, quote: PythQuote, nowMs: number): PublishedUpdate | undefined {
    const nowSec = Math.floor(nowMs / 1_000);
    const previous = pythTrueTime.get(f.id);
    // The market moves on whether or not the source reports it.
    if (board.isSilenced('pyth', f.id)) return undefined;
    const bps = board.biasBps('pyth', f.id);
    const update = buildUpdate({
      feedId: f.id,
      // A bias shifts both mantissas; the confidence stays as it was.
      quote:
        bps === 0
          ? quote
          : { ...quote, price: biasMantissa(quote.price, bps), emaPrice: biasMantissa(quote.emaPrice, bps) },
      slot,
      publishTime: nowSec,
      prevPublishTime: previous ?? nowSec,
      nowSec,
      publishedAtMs: nowMs,
      corruption: board.takeCorruption('pyth', f.id),
    });
    pythTrueTime.set(f.id, nowSec);
    pythLatest.set(f.id, update);
    publishLog.record(update);
    return update;
  }

  /** Plays the recording from its start at its pace (÷ speed), then again, until stopped. */
  function playRecording(records: readonly ReplayRecord[], speed: number): void {
    const round = () => {
      const begun = Date.now();
      for (const r of records) {
        const timer = setTimeout(() => (timers.delete(timer), publishRecord(r)), r.offsetMs / speed);
        timers.add(timer);
      }
      // The next round starts one message interval after the last (at least a slot).
      const last = records.at(-1)!.offsetMs / speed;
      const next = setTimeout(() => (timers.delete(next), round()), Math.max(SLOT_MS, last + SLOT_MS) - (Date.now() - begun));
      timers.add(next);
    };
    round();
  }

  function refreshCoingecko(): void {
    const nowSec = Math.floor(Date.now() / 1_000);
    for (const f of catalogue.all) {
      if (board.isSilenced('coingecko', f.id)) continue;
      // A replayed feed: CoinGecko quotes the recording's latest price (once one was played).
      if (replayed.has(f.id) && !replayValue.has(f.id)) continue;
      cgLatest.set(f.id, { usd: replayValue.get(f.id) ?? walks.get(f.id)!.coingeckoSample(), lastUpdatedAt: nowSec });
    }
  }

  function step(): void {
    for (const [ms, feeds] of groups) publishPyth(feeds, ms);
  }

  /** Runs `fn` every `ms`, on schedule; ticks missed while the process was busy are skipped, not bunched. */
  function every(ms: number, fn: () => void): void {
    let due = Date.now() + ms;
    const tick = () => {
      timers.delete(timer);
      fn();
      const now = Date.now();
      due += ms;
      if (due <= now) due = now + ms;
      timer = setTimeout(tick, due - now);
      timers.add(timer);
    };
    let timer = setTimeout(tick, ms);
    timers.add(timer);
  }

  function resolveFeedNames(names: readonly string[] | undefined): SimFeed[] {
    if (names === undefined) return [...catalogue.all];
    return names.map((n) => {
      const feed = catalogue.resolve(n);
      if (feed === undefined) throw new ControlError(`unknown feed ${n}`);
      return feed;
    });
  }

  function prices(names?: string[]): FeedPrices[] {
    return resolveFeedNames(names).map((f) => {
      const pyth = pythLatest.get(f.id);
      return {
        id: f.id,
        symbol: f.symbol,
        coingeckoId: f.coingeckoId,
        expo: f.expo,
        value: walks.get(f.id)!.value,
        pyth: pyth === undefined || pyth.corruption === 'malformed-json' ? null : JSON.parse(pyth.parsedJson),
        coingecko: cgLatest.get(f.id) ?? null,
        bias: { pyth: board.biasBps('pyth', f.id), coingecko: board.biasBps('coingecko', f.id) },
      };
    });
  }

  function publishedAt(name: string, publishTime: number, price?: string): number | undefined {
    const feed = catalogue.resolve(name);
    return feed === undefined ? undefined : publishLog.publishedAt(feed.id, publishTime, price);
  }

  function published(name: string): readonly PublishedUpdate[] {
    const feed = catalogue.resolve(name);
    return feed === undefined ? [] : publishLog.updatesOf(feed.id);
  }

  const controlApi = createControlApi({
    control,
    prices,
    publishedAt,
    describe: () => ({
      url,
      seed: options.seed,
      feeds: catalogue.all.length,
      updatesPerSecond: options.updatesPerSecond,
      coingeckoIntervalMs: options.coingeckoIntervalMs,
      strictPublishTime: options.strictPublishTime,
      slot,
      streams: { pyth: hermes.streamCount() },
      pending: { pyth: gate.counts('pyth'), coingecko: gate.counts('coingecko') },
    }),
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://market-sim');
    if (hermes.handle(req, res, url) || coingecko.handle(req, res, url) || controlApi.handle(req, res, url)) return;
    if (url.pathname === '/live') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not Found');
  }

  // Large enough for thousands of `ids[]` in one URL (Node's default 16 KiB fits about 200).
  const server = createServer({ maxHeaderSize: MAX_URL_BYTES }, (req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      logger.error({ err: e, path: req.url }, 'request.failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal Server Error');
    }
  });

  return {
    get url() {
      if (url === undefined) throw new Error('market-sim is not started');
      return url;
    },
    feeds: catalogue.all,
    control,
    prices,
    publishedAt,
    published,
    step,
    refreshCoingecko,

    async start() {
      if (url !== undefined) return url;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const { port } = server.address() as AddressInfo;
      url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
      startedAtMs = Date.now();
      step();
      refreshCoingecko();
      if (options.autoPublish) {
        for (const [ms, feeds] of groups) every(ms, () => publishPyth(feeds, ms));
        if (recording) playRecording(recording, options.replay!.speed);
        every(options.coingeckoIntervalMs, refreshCoingecko);
      }
      logger.info(
        {
          url,
          feeds: catalogue.all.length,
          seed: options.seed,
          updatesPerSecond: options.updatesPerSecond,
          strictPublishTime: options.strictPublishTime,
          pythAuth: options.pythApiKey !== undefined,
          coingeckoAuth: options.coingeckoApiKey !== undefined,
        },
        'sim.started',
      );
      return url;
    },

    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      hermes.closeStreams(null, 'destroy');
      gate.clear();
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      logger.info({ url }, 'sim.stopped');
      url = undefined;
    },
  };
}
