import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { createAdapter } from '@socket.io/redis-adapter';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import type { PriceFollower } from '../bus/follower.ts';
import { marketRoom, walletRoom, type ClientToServerEvents, type PriceMessage, type ServerToClientEvents, type StatusMessage } from '../contracts/socket.ts';
import { MAX_CANDLES } from '../domain/candles.ts';
import { format } from '../domain/decimal.ts';
import type { MarketIndex } from '../domain/markets.ts';
import { MAX_HISTORY_WINDOW_SEC, type PriceHistory, type StoreHealth } from '../store/roles.ts';
import { registerDashboardRoutes, type DashboardDeps } from './dashboard.ts';
import { LatestValueChannel } from './delivery.ts';
import { summarizeStages } from '../bus/stage-latency.ts';
import type { StageReport } from '../contracts/latency.ts';
import { gatewayStages } from './latency.ts';
import { PriceHub } from './price-hub.ts';

/**
 * A gateway: REST for the dashboard and operators, Socket.IO for live prices, status and wallet
 * alerts. Prices and status come from the bus through a `PriceFollower` (each gateway follows the
 * bus itself and delivers to its own sockets, newest value per market); wallet alerts reach the
 * `wallet:<pubkey>` rooms of every gateway through the Socket.IO Redis adapter. Everything received
 * is parsed with zod; a bad request gets a 4xx with the reason.
 */
export interface GatewayDeps {
  markets: MarketIndex;
  follower: PriceFollower;
  history: PriceHistory;
  store: StoreHealth;
  registry: Registry;
  log: Logger;
  /** Redis connections for the Socket.IO adapter (several gateways share rooms); none for a lone gateway. */
  adapter?: { pub: unknown; sub: unknown; key: string };
  /** Health of dependencies beyond the store and the bus (Temporal, ingestion workflows), bounded in time. */
  health?: () => Promise<Record<string, unknown>>;
  /** Longest a dependency check in /api/health may take, ms. */
  healthTimeoutMs?: number;
  /** History reads one client may have running at once. */
  maxHistoryPerClient?: number;
  /** The dashboard's routes (chain state, portfolios, ops, faucet); server/dashboard.ts. */
  dashboard?: DashboardDeps;
  /** The other processes' stage-latency reports (ingest: validated, stored; sync: pushed, confirmed), from the bus. */
  stageReports?: () => Promise<StageReport[]>;
  /** Who may call it: origins for CORS and Socket.IO, the per-address rate limit, proxy trust. */
  access: GatewayAccess;
  now?: () => number;
}

export interface GatewayAccess {
  /** Origins whose pages may call the gateway (the dashboard's); others get no CORS grant and no socket. */
  corsOrigins: readonly string[];
  /** REST requests per minute per client address, and the addresses left alone (the dashboard's server). */
  rateLimit: { perMinute: number; exempt: readonly string[] };
  /** Take the client address from X-Forwarded-For (behind a proxy or load balancer). */
  trustProxy?: boolean;
}

/** For tests and tools that run a gateway by itself: any origin, a generous limit. */
export const OPEN_ACCESS: GatewayAccess = { corsOrigins: ['*'], rateLimit: { perMinute: 100_000, exempt: [] } };

const symbolSchema = z.string().regex(/^[A-Z0-9]{1,10}-PERP$/, 'a symbol looks like SOL-PERP');
const symbolsSchema = z.array(symbolSchema).min(1).max(50);
const walletSchema = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'a wallet is a base58 public key');
const historyQuery = z
  .object({
    from: z.coerce.number().int().positive().optional(),
    to: z.coerce.number().int().positive().optional(),
    interval: z.coerce.number().int().min(1).max(86_400).default(60),
  })
  .strict();

/** Prices with human-readable decimals alongside the exact mantissas. */
function view(p: PriceMessage) {
  const scale = -p.expo;
  return { ...p, value: format({ mantissa: BigInt(p.price), scale }, scale), confValue: format({ mantissa: BigInt(p.conf), scale }, scale) };
}

/** Settles with `fallback` when `work` takes longer than `ms`. */
function within<T>(ms: number, work: Promise<T>, fallback: (ms: number) => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback(ms)), ms)))]).finally(() => clearTimeout(timer));
}

export async function createGateway(deps: GatewayDeps) {
  const { markets, follower, log } = deps;
  const now = deps.now ?? Date.now;
  const healthTimeoutMs = deps.healthTimeoutMs ?? 2_000;
  const maxHistoryPerClient = deps.maxHistoryPerClient ?? 3;
  const hub = new PriceHub(markets, now);
  const { access } = deps;
  const latency = gatewayStages(deps.registry);
  const startedAt = Date.now();

  const metrics = {
    clients: new Gauge({ name: 'qd_gateway_clients', help: 'Connected dashboard clients', registers: [deps.registry] }),
    prices: new Counter({ name: 'qd_gateway_prices_total', help: 'Prices taken from the bus or the store, by origin', labelNames: ['origin'] as const, registers: [deps.registry] }),
    rejectedInput: new Counter({ name: 'qd_gateway_rejected_input_total', help: 'Malformed client input', labelNames: ['channel'] as const, registers: [deps.registry] }),
    priceAge: new Gauge({ name: 'qd_price_age_seconds', help: 'Age of the served price per symbol', labelNames: ['symbol'] as const, registers: [deps.registry] }),
    busUp: new Gauge({ name: 'qd_bus_up', help: '1 while the live-price bus delivers, 0 while it is down', registers: [deps.registry] }),
  };

  // Request lines are info-level: at warn, the HTTP log holds only what went wrong.
  const app = Fastify({ loggerInstance: log.child({ module: 'http' }, { level: 'warn' }), bodyLimit: 16 * 1024, trustProxy: access.trustProxy ?? false });
  const anyOrigin = access.corsOrigins.includes('*');
  // An API answers JSON only: nothing of it may be framed, sniffed or run as a page.
  await app.register(helmet, { contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } }, crossOriginResourcePolicy: { policy: 'cross-origin' } });
  await app.register(cors, { origin: anyOrigin ? true : [...access.corsOrigins], methods: ['GET', 'POST'], maxAge: 600 });
  await app.register(rateLimit, {
    max: access.rateLimit.perMinute,
    timeWindow: 60_000,
    allowList: [...access.rateLimit.exempt],
    errorResponseBuilder: (_req, ctx) => ({ statusCode: ctx.statusCode, error: `rate limit: at most ${ctx.max} requests per minute, retry in ${ctx.after}` }),
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err: err.message }, 'http_error');
    void reply.status(status).send({ error: status === 500 ? 'internal error' : ((err as { error?: string }).error ?? err.message) });
  });
  app.setNotFoundHandler((req, reply) => void reply.status(404).send({ error: `no route ${req.method} ${req.url.slice(0, 100)}` }));

  type Lookup = { symbol: string } | { error: string; status: 400 | 404 };
  const knownSymbol = (raw: unknown): Lookup => {
    const parsed = symbolSchema.safeParse(raw);
    if (!parsed.success) return { error: parsed.error.issues[0]!.message, status: 400 };
    if (!hub.has(parsed.data)) return { error: `unknown market ${parsed.data}`, status: 404 };
    return { symbol: parsed.data };
  };

  app.get('/api/prices', async () => ({
    prices: hub.all().map((s) => ({ symbol: s.symbol, ...(s.price && { price: view(s.price) }), status: s.status })),
  }));

  app.get<{ Params: { symbol: string } }>('/api/prices/:symbol', async (req, reply) => {
    const r = knownSymbol(req.params.symbol);
    if ('error' in r) return reply.status(r.status).send({ error: r.error });
    const price = hub.snapshot(r.symbol);
    if (!price) return reply.status(404).send({ error: `no price yet for ${r.symbol}`, status: hub.statusOf(r.symbol) });
    return { price: view(price), status: hub.statusOf(r.symbol) };
  });

  // History reads are bounded per client: at most this many at once (the rest get 429), each
  // abandoned as soon as its client goes away.
  const historyInFlight = new Map<string, number>();
  app.get<{ Params: { symbol: string }; Querystring: Record<string, string> }>('/api/prices/:symbol/history', async (req, reply) => {
    const r = knownSymbol(req.params.symbol);
    if ('error' in r) return reply.status(r.status).send({ error: r.error });
    const q = historyQuery.safeParse(req.query);
    if (!q.success) return reply.status(400).send({ error: q.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });
    const to = q.data.to ?? Math.floor(now() / 1000);
    const from = q.data.from ?? to - 3_600;
    const interval = q.data.interval;
    if (from > to) return reply.status(400).send({ error: 'from must not be after to' });
    if (to - from > MAX_HISTORY_WINDOW_SEC) return reply.status(400).send({ error: `a window is at most ${MAX_HISTORY_WINDOW_SEC} s` });
    if ((to - from) / interval > MAX_CANDLES) return reply.status(400).send({ error: `more than ${MAX_CANDLES} candles: widen the interval or narrow the range` });
    if (interval % 60 !== 0 && 60 % interval !== 0) return reply.status(400).send({ error: 'interval: under a minute it must divide 60 s; longer, it must be whole minutes' });
    const client = req.ip;
    const running = historyInFlight.get(client) ?? 0;
    if (running >= maxHistoryPerClient) return reply.status(429).send({ error: `at most ${maxHistoryPerClient} history reads at once per client` });
    historyInFlight.set(client, running + 1);
    const abort = new AbortController();
    // The response closing before it was written means the client went away.
    const gone = () => {
      if (!reply.raw.writableEnded) abort.abort(new Error('client went away'));
    };
    reply.raw.once('close', gone);
    try {
      // The store stops between its lookups once aborted; the request itself does not wait for it.
      const read = deps.history.candles(markets.bySymbol(r.symbol)!.pythFeedId, from, to, interval, abort.signal);
      read.catch(() => undefined);
      const { expo, candles } = await Promise.race([
        read,
        new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true })),
      ]);
      const dec = (v: bigint) => format({ mantissa: v, scale: -expo }, -expo);
      return {
        symbol: r.symbol,
        from,
        to,
        interval,
        expo,
        candles: candles.map((c) => ({ time: c.time, open: dec(c.open), high: dec(c.high), low: dec(c.low), close: dec(c.close), conf: dec(c.confClose), confMax: dec(c.confMax), count: c.count })),
      };
    } catch (e) {
      if (abort.signal.aborted) return reply.status(499).send({ error: 'client closed the request' });
      if (e instanceof RangeError) return reply.status(400).send({ error: e.message });
      throw e;
    } finally {
      reply.raw.off('close', gone);
      const left = (historyInFlight.get(client) ?? 1) - 1;
      if (left > 0) historyInFlight.set(client, left);
      else historyInFlight.delete(client);
    }
  });

  /** Liveness: the process serves requests (no dependency is asked). */
  app.get('/api/live', async () => ({ ok: true }));

  /**
   * Health in bounded time: every dependency check has a timeout. `ok` only when the database,
   * the bus and every market's sources are fine; otherwise `degraded` with what and why (503).
   */
  app.get('/api/health', async (_req, reply) => {
    const [db, extra] = await Promise.all([
      deps.store.ping(healthTimeoutMs),
      deps.health
        ? within(healthTimeoutMs, deps.health().catch((e: Error) => ({ temporal: `down: ${e.message}` })), (ms) => ({ temporal: `no answer within ${ms} ms` }))
        : Promise.resolve({}),
    ]);
    const checks: Record<string, unknown> = {
      mongodb: db.ok ? 'up' : `down: ${db.error}`,
      bus: hub.busState,
      ...extra,
    };
    const statuses = hub.all().map((s) => s.status);
    const degraded = statuses.filter((s) => s.stale || s.sources?.length || s.chain?.health === 'down').map((s) => ({
      symbol: s.symbol,
      ...(s.stale && { stale: true, ageSec: s.ageSec }),
      ...(s.sources?.length && { sources: s.sources.map((p) => ({ source: p.source, reason: p.reason, detail: p.detail })) }),
      ...(s.chain?.health === 'down' && { chain: s.chain }),
    }));
    const ok = db.ok && hub.busState === 'up' && degraded.length === 0;
    return reply.status(ok ? 200 : 503).send({ ok, status: ok ? 'ok' : 'degraded', checks, degraded, markets: statuses });
  });

  // Operators: each stage's p50/p99 (the ops page's latency table): this gateway's stages since it
  // started, added to what the workers report on the bus since each of them started.
  app.get('/api/ops/latency', async () => {
    const own = await latency.report('gateway');
    const others = deps.stageReports ? await within(healthTimeoutMs, deps.stageReports(), () => [] as StageReport[]).catch(() => [] as StageReport[]) : [];
    return {
      since: new Date(startedAt).toISOString(),
      stages: summarizeStages([own, ...others]),
      processes: others.map((r) => ({ scope: r.scope, since: new Date(r.since).toISOString(), at: new Date(r.at).toISOString() })),
    };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });

  if (deps.dashboard) registerDashboardRoutes(app, deps.dashboard, { markets, priceOf: (s) => hub.snapshot(s), log, now });

  await app.ready();

  const io = new Server<ClientToServerEvents, ServerToClientEvents>(app.server, {
    // Clients only ever send small subscribe messages.
    maxHttpBufferSize: 64 * 1024,
    cors: { origin: anyOrigin ? true : [...access.corsOrigins] },
    // A page of another origin gets no socket even where CORS does not apply (plain WebSocket).
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      callback(null, anyOrigin || origin === undefined || access.corsOrigins.includes(origin));
    },
    serveClient: false,
    ...(deps.adapter && { adapter: createAdapter(deps.adapter.pub, deps.adapter.sub, { key: deps.adapter.key }) }),
  });
  const channels = new Map<string, LatestValueChannel<PriceMessage>>();

  io.on('connection', (socket: Socket<ClientToServerEvents, ServerToClientEvents>) => {
    metrics.clients.inc();
    channels.set(socket.id, new LatestValueChannel<PriceMessage>(socket, 'prices'));
    socket.on('disconnect', () => {
      metrics.clients.dec();
      channels.delete(socket.id);
    });
    socket.on('subscribe', (raw, ack) => {
      if (typeof ack !== 'function') return;
      const parsed = symbolsSchema.safeParse(raw);
      if (!parsed.success) {
        metrics.rejectedInput.inc({ channel: 'client' });
        return ack({ ok: false, error: parsed.error.issues[0]!.message });
      }
      const unknown = parsed.data.filter((s) => !hub.has(s));
      if (unknown.length > 0) return ack({ ok: false, error: `unknown markets: ${unknown.join(', ')}` });
      for (const s of parsed.data) void socket.join(marketRoom(s));
      for (const s of parsed.data) {
        const st = hub.statusOf(s);
        if (st) socket.emit('status', st);
      }
      ack({ ok: true, snapshot: parsed.data.map((s) => hub.snapshot(s)).filter((p): p is PriceMessage => p !== undefined) });
    });
    socket.on('unsubscribe', (raw, ack) => {
      const parsed = symbolsSchema.safeParse(raw);
      if (!parsed.success) return typeof ack === 'function' && ack({ ok: false, error: parsed.error.issues[0]!.message });
      for (const s of parsed.data) void socket.leave(marketRoom(s));
      if (typeof ack === 'function') ack({ ok: true });
    });
    socket.on('watch-wallet', (raw, ack) => {
      if (typeof ack !== 'function') return;
      const parsed = walletSchema.safeParse(raw);
      if (!parsed.success) {
        metrics.rejectedInput.inc({ channel: 'client' });
        return ack({ ok: false, error: parsed.error.issues[0]!.message });
      }
      void socket.join(walletRoom(parsed.data));
      ack({ ok: true });
    });
    socket.on('unwatch-wallet', (raw, ack) => {
      const parsed = walletSchema.safeParse(raw);
      if (parsed.success) void socket.leave(walletRoom(parsed.data));
      if (typeof ack === 'function') ack(parsed.success ? { ok: true } : { ok: false, error: parsed.error.issues[0]!.message });
    });
  });

  /**
   * Each client gets one `prices` event per batch: the batch's prices for the markets it follows.
   * Local delivery only: every gateway follows the bus itself.
   */
  function broadcastPrices(messages: readonly PriceMessage[]): void {
    const touched = new Set<LatestValueChannel<PriceMessage>>();
    for (const m of messages) {
      const room = io.of('/').adapter.rooms.get(marketRoom(m.symbol));
      if (!room) continue;
      for (const id of room) {
        const channel = channels.get(id);
        if (!channel) continue;
        channel.add(m);
        touched.add(channel);
      }
    }
    for (const channel of touched) channel.flush();
  }
  const broadcastStatus = (s: StatusMessage) => io.local.to(marketRoom(s.symbol)).emit('status', s);

  follower.onPrices((prices, origin, busAt) => {
    // Wall clock, not `now`: these stages span processes.
    const arrivedAt = Date.now();
    if (busAt !== undefined) latency.arrived(prices, busAt, arrivedAt);
    metrics.prices.inc({ origin }, prices.length);
    const messages: PriceMessage[] = [];
    for (const p of prices) {
      const m = hub.update(p);
      if (m) messages.push(m);
    }
    broadcastPrices(messages);
    if (busAt !== undefined && messages.length > 0) latency.sent(arrivedAt, Date.now());
  });
  follower.onStatus((r) => {
    for (const m of hub.report(r)) broadcastStatus(m);
  });
  follower.onBusState((state) => {
    metrics.busUp.set(state === 'up' ? 1 : 0);
    for (const m of hub.setBus(state)) broadcastStatus(m);
  });
  for (const p of follower.all()) hub.update(p);
  for (const r of follower.reports()) hub.report(r);
  hub.setBus(follower.busState);
  metrics.busUp.set(follower.busState === 'up' ? 1 : 0);

  // Staleness by age: announced as soon as a served price gets too old, whatever the workers say.
  const staleTimer = setInterval(() => {
    for (const m of hub.staleChanges()) broadcastStatus(m);
    for (const [symbol, age] of hub.ages()) metrics.priceAge.set({ symbol }, age);
  }, 1_000);

  return {
    app,
    io,
    hub,
    async listen(port: number, host = '127.0.0.1'): Promise<string> {
      return app.listen({ port, host });
    },
    async close(): Promise<void> {
      clearInterval(staleTimer);
      await io.close();
      await app.close().catch(() => undefined);
    },
  };
}
export type Gateway = Awaited<ReturnType<typeof createGateway>>;
