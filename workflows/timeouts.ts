import type { ActivityOptions } from '@temporalio/workflow';

/** Named timeout and retry profiles, so every workflow states its expectations the same way. */
export const PROFILES = {
  /** A quick database or RPC call: retried with backoff for a few minutes. */
  quickIo: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 20 },
  },
} satisfies Record<string, ActivityOptions>;
