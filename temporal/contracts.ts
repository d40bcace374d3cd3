/**
 * Names shared by workflows, activities, workers and clients: task queues, workflow ids, failure
 * types, signals and queries. Pure (importable by the workflow bundle).
 */
export const TASK_QUEUES = {
  ingest: 'oracle-ingest',
  sync: 'oracle-sync',
  liquidations: 'liquidations',
} as const;

export const ingestWorkflowId = (feedGroup: string) => `ingest-${feedGroup}`;
export const RETENTION_SCHEDULE_ID = 'retention-prune';
export const SYNC_WORKFLOW_ID = 'oracle-sync';

/** A source failed or went silent: the workflow switches source instead of Temporal retrying. */
export const SOURCE_UNAVAILABLE = 'SourceUnavailable';
/** The chain's RPC has not answered for a while: the sync activity fails visibly and Temporal retries it. */
export const CHAIN_UNAVAILABLE = 'ChainUnavailable';
