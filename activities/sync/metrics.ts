import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { priceStages } from '../../bus/stage-latency.ts';

export function syncMetrics(registry: Registry) {
  return {
    onChainAge: new Gauge({ name: 'qd_onchain_price_age_seconds', help: 'Age of the price each market holds on-chain', labelNames: ['symbol'] as const, registers: [registry] }),
    onChainLag: new Gauge({
      name: 'qd_onchain_lag_seconds',
      help: 'How far the on-chain price trails the newest good price (publish times)',
      labelNames: ['symbol'] as const,
      registers: [registry],
    }),
    pushes: new Counter({ name: 'qd_sync_pushes_total', help: 'Push attempts per market by outcome', labelNames: ['symbol', 'outcome'] as const, registers: [registry] }),
    latency: new Histogram({
      name: 'qd_sync_push_latency_seconds',
      help: 'From the backend receiving a price to its confirmation on-chain',
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
      registers: [registry],
    }),
    rpcFailures: new Counter({ name: 'qd_sync_rpc_failures_total', help: 'RPC calls that failed', labelNames: ['call'] as const, registers: [registry] }),
    health: new Gauge({ name: 'qd_sync_health', help: 'On-chain sync health: 0 ok, 1 degraded, 2 down', registers: [registry] }),
    /** Received → push sent, received → push confirmed. */
    stages: priceStages(registry),
  };
}
export type SyncMetrics = ReturnType<typeof syncMetrics>;
