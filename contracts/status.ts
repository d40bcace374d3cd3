/**
 * Status shapes shared by the workers that report them, the bus that carries them, the gateways
 * that serve them and the dashboard that shows them. Pure.
 */

/** Where a feed group's prices come from now. */
export const INGEST_MODES = ['pyth', 'coingecko', 'stale', 'paused'] as const;
export type IngestMode = (typeof INGEST_MODES)[number];

/** Health of the on-chain sync: `down` while pushes cannot land (RPC unreachable, persistent failures). */
export const CHAIN_HEALTH = ['ok', 'degraded', 'down'] as const;
export type ChainHealth = (typeof CHAIN_HEALTH)[number];

export interface Divergence {
  pyth: string;
  coingecko: string;
  bps: string;
  boundBps: number;
}

/** Why a source cannot deliver a market's price, as health reports it. */
export interface SourceProblem {
  source: 'pyth' | 'coingecko';
  /** `unauthorized` (401/403: a wrong API key), `unknown_feed` (the upstream does not carry it), `silent`, `http_<status>`, `unreachable`. */
  reason: string;
  detail: string;
  /** Epoch ms since when it has been so. */
  since: number;
}

/** A worker's status report, published on the bus once and kept as the latest of its `scope`. */
export type StatusReport =
  /** Where a feed group's prices come from now (ingest). */
  | { kind: 'ingest'; scope: string; symbols: string[]; mode: IngestMode; stale: boolean; reason: string }
  /** The Pyth ↔ CoinGecko alarm raised (with figures) or cleared (without). */
  | { kind: 'divergence'; scope: string; symbols: string[]; divergence?: Divergence; reason: string }
  /** The on-chain sync's health (sync). */
  | { kind: 'chain'; scope: string; symbols: string[]; health: ChainHealth; reason: string }
  /** Per-market source problems of a feed group (ingest): an empty list clears them. */
  | { kind: 'sources'; scope: string; symbols: string[]; problems: Record<string, SourceProblem[]> };
