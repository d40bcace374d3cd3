import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/sync/activities.ts';
import { syncProgressSignal, syncStatusQuery, type OracleSyncInput, type OracleSyncState } from '../contracts/temporal.ts';
import { SA } from '../temporal/search-attributes.ts';
import { PROFILES } from './timeouts.ts';

/**
 * Keeps the program's markets in step with the served prices: supervises the long-running push
 * activity (retried by Temporal when it fails, e.g. while the RPC is unreachable) and exposes what it
 * reports — health, per-market on-chain publish time, last trigger and outcome — as a query and as
 * the `SyncHealth` search attribute.
 */

// Waiting for the cancellation to complete keeps two push loops from overlapping across a roll-over.
const { runOracleSync } = proxyActivities<SyncActivities>({ ...PROFILES.sourceStream, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });

const SIGNALS_PER_RUN = 1_000;

export async function oracleSync(input: OracleSyncInput = {}): Promise<never> {
  const state: OracleSyncState = input.state ?? { health: 'ok', reason: 'started', markets: {}, pushes: 0, failures: 0 };
  // Counters restart with each activity attempt; the workflow keeps the running totals.
  const carried = { pushes: state.pushes, failures: state.failures };
  let last = { pushes: 0, failures: 0 };
  let signals = 0;
  setHandler(syncStatusQuery, () => state);
  setHandler(syncProgressSignal, (p) => {
    signals += 1;
    if (p.pushes < last.pushes || p.failures < last.failures) {
      carried.pushes += last.pushes;
      carried.failures += last.failures;
    }
    last = { pushes: p.pushes, failures: p.failures };
    if (p.health !== state.health) upsertSearchAttributes({ [SA.SyncHealth.name]: [p.health] });
    Object.assign(state, { health: p.health, reason: p.reason, bus: p.bus, markets: p.markets, pushes: carried.pushes + p.pushes, failures: carried.failures + p.failures, reportedAt: Date.now() });
  });
  upsertSearchAttributes({ [SA.SyncHealth.name]: [state.health], [SA.Markets.name]: input.symbols ?? ['all'] });

  const rollOver = () => signals >= SIGNALS_PER_RUN || workflowInfo().continueAsNewSuggested;
  // The activity runs until the workflow rolls over (Temporal retries it whenever it fails).
  const scope = new CancellationScope();
  const running = scope.run(() => runOracleSync({ ...(input.symbols && { symbols: input.symbols }) }));
  await Promise.race([running.catch(() => undefined), condition(rollOver)]);
  scope.cancel();
  await running.catch(() => undefined);
  return continueAsNew<typeof oracleSync>({ ...input, state });
}
