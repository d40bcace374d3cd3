import type { ClusterConfig, MarketInfo } from '$lib/api.ts';
import { gatewayTry, gatewayUrl } from '$lib/server/gateway.ts';
import type { LayoutServerLoad } from './$types';

export const load = (async ({ fetch }) => {
  const [config, registry] = await Promise.all([
    gatewayTry<{ solana: ClusterConfig }>('/api/config', fetch),
    gatewayTry<{ markets: MarketInfo[] }>('/api/markets', fetch),
  ]);
  return {
    gatewayUrl,
    gatewayDown: !config || !registry,
    cluster: config?.solana,
    markets: registry?.markets ?? [],
  };
}) satisfies LayoutServerLoad;
