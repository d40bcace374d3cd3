import type { ActivityOptions } from '@temporalio/workflow';

/** Named timeout and retry profiles, so every workflow states its expectations the same way. */
export const PROFILES = {
  /** A quick database or RPC call: retried with backoff for a few minutes. */
  quickIo: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 20 },
  },
  /**
   * A long-running source activity (stream, poller). Heartbeats show it is alive; a worker that dies
   * is noticed within the heartbeat timeout and the activity retried on another (or the restarted) one.
   */
  sourceStream: {
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: '5 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
  },
  /**
   * Sending a transaction and waiting for it: RPC errors retry with backoff (a few times, then the
   * saga compensates); the program's refusals are non-retryable failures named by its error.
   */
  chainSend: {
    startToCloseTimeout: '45 seconds',
    retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 4 },
  },
  /** A single probe: one attempt, the workflow decides when to try again. */
  probe: {
    startToCloseTimeout: '5 seconds',
    retry: { maximumAttempts: 1 },
  },
} satisfies Record<string, ActivityOptions>;
