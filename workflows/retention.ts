import { proxyActivities } from '@temporalio/workflow';
import type { IngestActivities } from '../activities/ingest/activities.ts';
import type { RetentionResult } from '../contracts/temporal.ts';
import { PROFILES } from './timeouts.ts';

const { pruneHistory } = proxyActivities<IngestActivities>(PROFILES.quickIo);

/** Run by the `retention-prune` schedule: FerretDB has no TTL indexes, so history is pruned here. */
export async function retention(input: { historyDays: number; rejectionDays: number }): Promise<RetentionResult> {
  return pruneHistory(input);
}
