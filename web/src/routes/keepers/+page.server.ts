import type { KeeperRow } from '$lib/api.ts';
import { gatewayTry } from '$lib/server/gateway.ts';
import type { PageServerLoad } from './$types';

export const load = (async ({ fetch }) => {
  const answer = await gatewayTry<{ keepers: KeeperRow[] }>('/api/keepers', fetch);
  return { keepers: answer?.keepers };
}) satisfies PageServerLoad;
