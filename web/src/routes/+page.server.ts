import type { ChainAnswer, PricesAnswer } from '$lib/api.ts';
import { gatewayTry } from '$lib/server/gateway.ts';
import type { PageServerLoad } from './$types';

/** Every market as the gateway serves it now, and the chain's copy: the page is complete without JS. */
export const load = (async ({ fetch }) => {
  const [prices, chain] = await Promise.all([gatewayTry<PricesAnswer>('/api/prices', fetch), gatewayTry<ChainAnswer>('/api/chain/markets', fetch)]);
  return { prices: prices?.prices ?? [], chain: chain?.markets ?? [] };
}) satisfies PageServerLoad;
