import { timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { MAX_CANDLES, buildCandles } from '../domain/candles.ts';
import { format } from '../domain/decimal.ts';
import type { MarketIndex } from '../domain/markets.ts';
import { MAX_HISTORY_WINDOW_SEC, fromLatestDoc, type PriceStore } from '../activities/store/prices.ts';
import { LatestValueChannel } from './delivery.ts';
import {
  INTERNAL_NAMESPACE,
  roomOf,
  type ClientToServerEvents,
  type InternalClientToServerEvents,
  type InternalServerToClientEvents,
  type PriceMessage,
  type ServerToClientEvents,
  type StatusMessage,
  type WirePrice,
} from './events.ts';
import { PriceHub } from './price-hub.ts';

/**
 * The gateway: REST for the dashboard and operators, Socket.IO for live prices and status, and an
 * authenticated internal namespace through which workers publish. Everything received is parsed
 * with zod; a bad request gets a 4xx with the reason.
 */
export interface GatewayDeps {
  markets: MarketIndex;
  store: PriceStore;
  internalToken: string;
  registry: Registry;
  log: Logger;
  /** Health of dependencies beyond the store (Temporal, ingestion workflows), for /api/health. */
  health?: () => Promise<Record<string, unknown>>;
  now?: () => number;
}

const symbolSchema = z.string().regex(/^[A-Z0-9]{1,10}-PERP$/, 'a symbol looks like SOL-PERP');
const symbolsSchema = z.array(symbolSchema).min(1).max(50);
const historyQuery = z
  .object({
    from: z.coerce.number().int().positive().optional(),
    to: z.coerce.number().int().positive().optional(),
    interval: z.coerce.number().int().min(1).max(86_400).default(60),
  })
  .strict();

const wirePriceSchema = z.object({
  symbol: symbolSchema,
  feedId: z.string().regex(/^[0-9a-f]{64}$/),
  source: z.enum(['pyth', 'coingecko']),
  price: z.string().regex(/^\d{1,40}$/),
  conf: z.string().regex(/^\d{1,40}$/),
  expo: z.number().int().min(-18).max(0),
  publishTime: z.number().int().positive(),
  receivedAt: z.number().int().positive(),
  emaPrice: z.string().regex(/^-?\d{1,40}$/).optional(),
  emaConf: z.string().regex(/^\d{1,40}$/).optional(),
});
const symbolList = z.array(symbolSchema).max(1_000);
const workerStatusSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ingest'), symbols: symbolList, mode: z.enum(['pyth', 'coingecko', 'stale', 'paused']), stale: z.boolean(), reason: z.string().max(500) }),
  z.object({
    kind: z.literal('divergence'),
    symbols: symbolList,
    reason: z.string().max(500),
    divergence: z.object({ pyth: z.string().max(60), coingecko: z.string().max(60), bps: z.string().max(20), boundBps: z.number() }).optional(),
  }),
  z.object({ kind: z.literal('chain'), symbols: symbolList, health: z.enum(['ok', 'degraded', 'down']), reason: z.string().max(500) }),
]);

/** Prices with human-readable decimals alongside the exact mantissas. */
function view(p: PriceMessage) {
  const scale = -p.expo;
  return { ...p, value: format({ mantissa: BigInt(p.price), scale }, scale), confValue: format({ mantissa: BigInt(p.conf), scale }, scale) };
}

const tokenMatches = (given: unknown, expected: string) => {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

export async function createGateway(deps: GatewayDeps) {
  const { markets, store, log } = deps;
  const now = deps.now ?? Date.now;
  const hub = new PriceHub(markets, now);
  hub.seed((await store.latest()).map((d) => ({ ...fromLatestDoc(d), stale: d.stale })));

  const metrics = {
    clients: new Gauge({ name: 'qd_gateway_clients', help: 'Connected dashboard clients', registers: [deps.registry] }),
    prices: new Counter({ name: 'qd_gateway_prices_total', help: 'Prices received from workers, by outcome', labelNames: ['outcome'] as const, registers: [deps.registry] }),
    rejectedInput: new Counter({ name: 'qd_gateway_rejected_input_total', help: 'Malformed client or worker input', labelNames: ['channel'] as const, registers: [deps.registry] }),
    priceAge: new Gauge({ name: 'qd_price_age_seconds', help: 'Age of the served price per symbol', labelNames: ['symbol'] as const, registers: [deps.registry] }),
  };

  // Request lines are info-level: at warn, the HTTP log holds only what went wrong.
  const app = Fastify({ loggerInstance: log.child({ module: 'http' }, { level: 'warn' }), bodyLimit: 16 * 1024 });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err: err.message }, 'http_error');
    void reply.status(status).send({ error: status === 500 ? 'internal error' : err.message });
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

  app.get<{ Params: { symbol: string }; Querystring: Record<string, string> }>('/api/prices/:symbol/history', async (req, reply) => {
    const r = knownSymbol(req.params.symbol);
    if ('error' in r) return reply.status(r.status).send({ error: r.error });
    const q = historyQuery.safeParse(req.query);
    if (!q.success) return reply.status(400).send({ error: q.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });
    const to = q.data.to ?? Math.floor(now() / 1000);
    const from = q.data.from ?? to - 3_600;
    if (from > to) return reply.status(400).send({ error: 'from must not be after to' });
    if (to - from > MAX_HISTORY_WINDOW_SEC) return reply.status(400).send({ error: `a window is at most ${MAX_HISTORY_WINDOW_SEC} s` });
    if ((to - from) / q.data.interval > MAX_CANDLES) return reply.status(400).send({ error: `more than ${MAX_CANDLES} candles: widen the interval or narrow the range` });
    // The chart follows the served price: Pyth's updates, and CoinGecko's only where Pyth had none.
    const rows = await store.history(markets.bySymbol(r.symbol)!.pythFeedId, from, to);
    const pythSeconds = new Set(rows.filter((d) => d.source === 'pyth').map((d) => d.publishTime));
    const served = rows.filter((d) => d.source === 'pyth' || !pythSeconds.has(d.publishTime));
    const { expo, candles } = buildCandles(
      served.map((d) => ({ publishTime: d.publishTime, price: BigInt(d.price), expo: d.expo })),
      q.data.interval,
    );
    const dec = (v: bigint) => format({ mantissa: v, scale: -expo }, -expo);
    return {
      symbol: r.symbol,
      from,
      to,
      interval: q.data.interval,
      expo,
      candles: candles.map((c) => ({ time: c.time, open: dec(c.open), high: dec(c.high), low: dec(c.low), close: dec(c.close), count: c.count })),
    };
  });

  /** Liveness: the process serves requests (no dependency is asked). */
  app.get('/api/live', async () => ({ ok: true }));

  app.get('/api/health', async (_req, reply) => {
    const checks: Record<string, unknown> = {};
    let ok = true;
    try {
      await store.models.latest.db.db!.admin().ping();
      checks.mongodb = 'up';
    } catch (e) {
      ok = false;
      checks.mongodb = `down: ${(e as Error).message}`;
    }
    Object.assign(checks, await deps.health?.().catch((e: Error) => ({ temporal: `down: ${e.message}` })));
    const statuses = hub.all().map((s) => s.status);
    return reply.status(ok ? 200 : 503).send({ ok, checks, markets: statuses });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });

  await app.ready();

  const io = new Server<ClientToServerEvents, ServerToClientEvents>(app.server, {
    // Clients only ever send small subscribe messages; workers send price batches.
    maxHttpBufferSize: 1 << 20,
    cors: { origin: true },
    serveClient: false,
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
      for (const s of parsed.data) void socket.join(roomOf(s));
      for (const s of parsed.data) {
        const st = hub.statusOf(s);
        if (st) socket.emit('status', st);
      }
      ack({ ok: true, snapshot: parsed.data.map((s) => hub.snapshot(s)).filter((p): p is PriceMessage => p !== undefined) });
    });
    socket.on('unsubscribe', (raw, ack) => {
      const parsed = symbolsSchema.safeParse(raw);
      if (!parsed.success) return typeof ack === 'function' && ack({ ok: false, error: parsed.error.issues[0]!.message });
      for (const s of parsed.data) void socket.leave(roomOf(s));
      if (typeof ack === 'function') ack({ ok: true });
    });
  });

  /** Each client gets one `prices` event per batch: the batch's prices for the markets it follows. */
  function broadcastPrices(messages: readonly PriceMessage[]): void {
    const touched = new Set<LatestValueChannel<PriceMessage>>();
    for (const m of messages) {
      const room = io.sockets.adapter.rooms.get(roomOf(m.symbol));
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
  function broadcastStatus(s: StatusMessage): void {
    io.to(roomOf(s.symbol)).emit('status', s);
  }

  const internal = io.of(INTERNAL_NAMESPACE) as unknown as import('socket.io').Namespace<InternalClientToServerEvents, InternalServerToClientEvents>;
  internal.use((socket, next) => {
    if (tokenMatches(socket.handshake.auth?.token, deps.internalToken)) return next();
    log.warn({ address: socket.handshake.address }, 'internal_auth_refused');
    next(new Error('unauthorized'));
  });
  internal.on('connection', (socket) => {
    log.info({ address: socket.handshake.address }, 'worker_connected');
    socket.on('prices', (batch: unknown) => {
      const parsed = z.array(z.unknown()).max(10_000).safeParse(batch);
      if (!parsed.success) {
        metrics.rejectedInput.inc({ channel: 'internal' });
        return;
      }
      const messages: PriceMessage[] = [];
      for (const raw of parsed.data) {
        const p = wirePriceSchema.safeParse(raw);
        if (!p.success) {
          metrics.rejectedInput.inc({ channel: 'internal' });
          continue;
        }
        const message = hub.update(p.data as WirePrice);
        metrics.prices.inc({ outcome: message ? 'broadcast' : 'older' });
        if (message) messages.push(message);
      }
      broadcastPrices(messages);
    });
    socket.on('status', (raw: unknown) => {
      const s = workerStatusSchema.safeParse(raw);
      if (!s.success) {
        metrics.rejectedInput.inc({ channel: 'internal' });
        return;
      }
      for (const m of hub.report(s.data)) broadcastStatus(m);
    });
  });

  // Staleness by age: announced as soon as a served price gets too old, whatever the workers say.
  const staleTimer = setInterval(() => {
    for (const m of hub.staleChanges()) broadcastStatus(m);
    for (const s of hub.all()) if (s.status.ageSec !== undefined) metrics.priceAge.set({ symbol: s.symbol }, s.status.ageSec);
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
