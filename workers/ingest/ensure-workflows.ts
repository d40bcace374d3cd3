import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { MarketIndex } from '../../domain/markets.ts';
import { TASK_QUEUES, ingestWorkflowId } from '../../contracts/temporal.ts';
import { SA } from '../../temporal/search-attributes.ts';
import { priceIngestion } from '../../workflows/price-ingestion.ts';

/** One `priceIngestion` per feed group; already running ones are left as they are. */
export async function ensureIngestionWorkflows(client: Client, markets: MarketIndex, maxProbeBackoffMs?: number): Promise<string[]> {
  const ids: string[] = [];
  for (const feedGroup of markets.groups().keys()) {
    const workflowId = ingestWorkflowId(feedGroup);
    await client.workflow.start(priceIngestion, {
      workflowId,
      taskQueue: TASK_QUEUES.ingest,
      args: [{ feedGroup, ...(maxProbeBackoffMs && { maxProbeBackoffMs }) }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [{ key: SA.FeedGroup, value: feedGroup }],
    });
    ids.push(workflowId);
  }
  return ids;
}
