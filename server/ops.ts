import { z } from 'zod';
import type { MarketIndex } from '../domain/markets.ts';
import type { PushLog, Rejections } from '../store/roles.ts';
import type { GatewayApp } from './dashboard.ts';

/**
 * Operators' reads for `/ops`: rejections by reason over a recent window, and a market's latest
 * on-chain pushes. Both are a few indexed lookups (the store buckets them by hour).
 */
export interface OpsDeps {
  markets: MarketIndex;
  rejections: Rejections;
  pushes: PushLog;
  now: () => number;
}

const rejectionsQuery = z.object({ minutes: z.coerce.number().int().min(1).max(1_440).default(60) }).strict();
const pushesQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }).strict();
/** Most rejections read for one summary: a flood is counted up to here and said to be more. */
const REJECTION_READ_LIMIT = 20_000;

export function registerOpsRoutes(app: GatewayApp, d: OpsDeps): void {
  app.get<{ Querystring: Record<string, string> }>('/api/ops/rejections', async (req, reply) => {
    const q = rejectionsQuery.safeParse(req.query);
    if (!q.success) return reply.status(400).send({ error: q.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });
    const since = new Date(d.now() - q.data.minutes * 60_000);
    const list = await d.rejections.recent(since, {}, REJECTION_READ_LIMIT);
    const byReason = new Map<string, { reason: string; count: number; pyth: number; coingecko: number; lastAt: string; lastDetail: string; symbols: Set<string> }>();
    for (const r of list) {
      let e = byReason.get(r.reason);
      // Newest first: the first one seen is the latest.
      if (!e) byReason.set(r.reason, (e = { reason: r.reason, count: 0, pyth: 0, coingecko: 0, lastAt: r.receivedAt.toISOString(), lastDetail: r.detail.slice(0, 200), symbols: new Set() }));
      e.count += 1;
      e[r.source] += 1;
      if (r.symbol) e.symbols.add(r.symbol);
    }
    return {
      since: since.toISOString(),
      minutes: q.data.minutes,
      total: list.length,
      truncated: list.length >= REJECTION_READ_LIMIT,
      byReason: [...byReason.values()].sort((a, b) => b.count - a.count).map((e) => ({ ...e, symbols: [...e.symbols].sort() })),
      recent: list.slice(0, 20).map((r) => ({ source: r.source, reason: r.reason, detail: r.detail.slice(0, 200), symbol: r.symbol, receivedAt: r.receivedAt.toISOString() })),
    };
  });

  app.get<{ Params: { symbol: string }; Querystring: Record<string, string> }>('/api/prices/:symbol/pushes', async (req, reply) => {
    const market = d.markets.bySymbol(req.params.symbol);
    if (!market) return reply.status(404).send({ error: `unknown market ${req.params.symbol.slice(0, 20)}` });
    const q = pushesQuery.safeParse(req.query);
    if (!q.success) return reply.status(400).send({ error: q.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });
    const docs = await d.pushes.recent(market.symbol, q.data.limit);
    return {
      symbol: market.symbol,
      pushes: docs.map((p) => ({
        outcome: p.outcome,
        triggers: p.triggers,
        price: p.price,
        conf: p.conf,
        expo: p.expo,
        publishTime: p.publishTime,
        signature: p.signature,
        slot: p.slot,
        feeLamports: p.feeLamports,
        computeUnits: p.computeUnits,
        latencyMs: p.latencyMs,
        error: p.error,
        decidedAt: p.decidedAt.toISOString(),
        recordedAt: p.recordedAt.toISOString(),
      })),
    };
  });
}
