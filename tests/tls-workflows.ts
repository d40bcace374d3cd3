import { proxyActivities } from '@temporalio/workflow';
import { PROFILES } from '../workflows/timeouts.ts';

/** The activities of the TLS test's worker (tests/temporal-tls.test.ts). */
export interface TlsEchoActivities {
  echo(text: string): Promise<string>;
}

const { echo } = proxyActivities<TlsEchoActivities>(PROFILES.quickIo);

/** One activity round trip: workflow and activity tasks both reach the worker through TLS. */
export async function tlsEcho(text: string): Promise<string> {
  return `${await echo(text)} (workflow)`;
}
