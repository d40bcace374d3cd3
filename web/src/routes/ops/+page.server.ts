import type { StageSummary } from '$contracts/latency.ts';
import type { ChainAnswer, PushRow, SagaRow } from '$lib/api.ts';
import { gatewayTry } from '$lib/server/gateway.ts';
import type { PageServerLoad } from './$types';

interface Health {
  ok: boolean;
  status: string;
  checks: { mongodb?: string; bus?: string; temporal?: string; ingestion?: Record<string, unknown> };
  degraded: { symbol: string; stale?: boolean; ageSec?: number; sources?: { source: string; reason: string; detail: string }[]; chain?: { health: string; reason?: string } }[];
  markets: { symbol: string; mode: string; stale: boolean; ageSec?: number; divergence?: { pyth: string; coingecko: string; bps: string; boundBps: number }; chain?: { health: string; reason?: string }; bus: string }[];
}

interface RejectionSummary {
  since: string;
  total: number;
  truncated: boolean;
  byReason: { reason: string; count: number; pyth: number; coingecko: number; lastAt: string; lastDetail: string; symbols: string[] }[];
}

interface LatencyAnswer {
  since: string;
  stages: StageSummary[];
  processes: { scope: string; since: string; at: string }[];
}

export const load = (async ({ fetch, parent }) => {
  const { markets } = await parent();
  const [health, rejections, chain, pushes, sagas, latency] = await Promise.all([
    gatewayTry<Health>('/api/health', fetch),
    gatewayTry<RejectionSummary>('/api/ops/rejections?minutes=60', fetch),
    gatewayTry<ChainAnswer>('/api/chain/markets', fetch),
    Promise.all(markets.slice(0, 20).map((m) => gatewayTry<{ symbol: string; pushes: PushRow[] }>(`/api/prices/${m.symbol}/pushes?limit=3`, fetch))),
    gatewayTry<{ liquidations: SagaRow[] }>('/api/liquidations?limit=30', fetch),
    gatewayTry<LatencyAnswer>('/api/ops/latency', fetch),
  ]);
  return { health, rejections, chain: chain?.markets ?? [], pushes: pushes.flatMap((p) => (p ? [p] : [])), sagas: sagas?.liquidations, latency };
}) satisfies PageServerLoad;
