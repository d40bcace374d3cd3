import { ActivityCancellationType, CancellationScope, condition, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LiquidationActivities } from '../activities/liquidation/activities.ts';
import { PROFILES } from './timeouts.ts';

/**
 * Supervises a keeper's scanner (a long-running activity retried by Temporal when it fails),
 * continuing as new when the history grows; and, on a schedule, one full scan as a backstop.
 */
const { runScanner } = proxyActivities<LiquidationActivities>({ ...PROFILES.sourceStream, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });
const { scanOnce } = proxyActivities<LiquidationActivities>({ ...PROFILES.quickIo, startToCloseTimeout: '2 minutes' });

export async function liquidationScanner(): Promise<never> {
  const scope = new CancellationScope();
  const running = scope.run(() => runScanner());
  await Promise.race([running.catch(() => undefined), condition(() => workflowInfo().continueAsNewSuggested)]);
  scope.cancel();
  await running.catch(() => undefined);
  return continueAsNew<typeof liquidationScanner>();
}

export async function liquidationScan(): Promise<{ positions: number; sagas: number }> {
  return scanOnce();
}
