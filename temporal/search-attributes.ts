import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes operators filter on in the Temporal Web UI (e.g. `IngestMode="coingecko"`).
 * Pure definitions, importable by workflows. The dev server gets them as `--search-attribute` flags;
 * other clusters through `registerSearchAttributes` (temporal/admin.ts).
 */
export const SA = {
  /** Which feed group an ingestion workflow serves (`majors`, `alts`, ...). */
  FeedGroup: defineSearchAttributeKey('FeedGroup', SearchAttributeType.KEYWORD),
  /** Where ingestion currently takes prices from: `pyth`, `coingecko`, `stale` or `paused`. */
  IngestMode: defineSearchAttributeKey('IngestMode', SearchAttributeType.KEYWORD),
  /** Publish time of the newest accepted Pyth price. */
  PythLastUpdate: defineSearchAttributeKey('PythLastUpdate', SearchAttributeType.DATETIME),
  /** Publish time of the newest accepted fallback (CoinGecko) price. */
  FallbackLastUpdate: defineSearchAttributeKey('FallbackLastUpdate', SearchAttributeType.DATETIME),
  /** Source failures since the workflow started (stream errors, silences, failed polls). */
  SourceFailures: defineSearchAttributeKey('SourceFailures', SearchAttributeType.INT),
  /** Markets a workflow acts on (sync batches, liquidation sagas). */
  Markets: defineSearchAttributeKey('Markets', SearchAttributeType.KEYWORD_LIST),
  /** The trader wallet a saga concerns. */
  TraderWallet: defineSearchAttributeKey('TraderWallet', SearchAttributeType.KEYWORD),
  /** Health of the on-chain sync: `ok`, `degraded` (some pushes failing) or `down`. */
  SyncHealth: defineSearchAttributeKey('SyncHealth', SearchAttributeType.KEYWORD),
} as const;

const CLI_TYPE: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return Object.values(SA).flatMap((k) => ['--search-attribute', `${k.name}=${CLI_TYPE[k.type]}`]);
}
