import { Counter, Gauge, type Registry } from 'prom-client';
import { priceStages } from '../../bus/stage-latency.ts';

/** The ingest worker's metrics; one set per registry. */
export function ingestMetrics(registry: Registry) {
  return {
    updates: new Counter({
      name: 'qd_price_updates_total',
      help: 'Price observations by source, symbol and outcome (accepted, rejected, duplicate)',
      labelNames: ['source', 'symbol', 'outcome'] as const,
      registers: [registry],
    }),
    rejections: new Counter({
      name: 'qd_price_rejections_total',
      help: 'Rejected observations and payloads by source and reason',
      labelNames: ['source', 'reason'] as const,
      registers: [registry],
    }),
    sourceFailures: new Counter({
      name: 'qd_source_failures_total',
      help: 'Source failures: stream errors, silences, failed polls and probes',
      labelNames: ['source', 'kind'] as const,
      registers: [registry],
    }),
    divergences: new Counter({
      name: 'qd_source_divergence_total',
      help: 'Times Pyth and CoinGecko started to disagree beyond the market bound',
      labelNames: ['symbol'] as const,
      registers: [registry],
    }),
    writeBacklog: new Gauge({
      name: 'qd_ingest_write_backlog',
      help: 'Accepted prices and rejections not yet in the database (in memory, in flight, in the journal)',
      registers: [registry],
    }),
    stored: new Counter({
      name: 'qd_price_history_written_total',
      help: 'Accepted prices written to history (a retried duplicate is not counted)',
      registers: [registry],
    }),
    writeFailures: new Counter({
      name: 'qd_store_write_failures_total',
      help: 'Failed database writes of the ingest writer (each is retried)',
      labelNames: ['what'] as const,
      registers: [registry],
    }),
    backfilled: new Counter({
      name: 'qd_price_backfilled_total',
      help: 'Past Pyth updates fetched after a stream interruption, accepted and queued for history only (history refuses one it holds already)',
      labelNames: ['symbol'] as const,
      registers: [registry],
    }),
    backfillGaps: new Counter({
      name: 'qd_backfill_gaps_total',
      help: 'Per-feed history gaps after a Pyth stream restart, by outcome: filled, partial (seconds whose answer could not be read), skipped (longer than the maximum) or failed (given up)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    /** Received → validated, received → stored in history. */
    stages: priceStages(registry),
  };
}
export type IngestMetrics = ReturnType<typeof ingestMetrics>;
