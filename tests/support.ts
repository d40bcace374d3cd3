import { loadConfig } from '../runtime/config.ts';

/**
 * Configuration for integration tests: `npm test` (scripts/test.ts) points QD_TEMPORAL_ADDRESS and
 * QD_MONGODB_URI at the test services it started, so tests read them like any process would.
 */
export const testConfig = loadConfig();

/** A name unique to this test run, for ids and database names that must not collide between runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
