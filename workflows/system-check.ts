import { proxyActivities } from '@temporalio/workflow';
import type { SystemCheckActivities } from '../activities/system-check.ts';
import { PROFILES } from './timeouts.ts';

const { recordSystemCheck } = proxyActivities<SystemCheckActivities>(PROFILES.quickIo);

/** Proves worker, Temporal and the store work together: one activity, one round trip. */
export async function systemCheck(checkId: string): Promise<{ checkId: string; writtenAt: string }> {
  return recordSystemCheck(checkId);
}
