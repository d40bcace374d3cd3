import { error } from '@sveltejs/kit';
import type { PriceMessage, StatusMessage } from '$contracts/socket.ts';
import type { ChainAnswer, PushRow } from '$lib/api.ts';
import { gatewayTry } from '$lib/server/gateway.ts';
import type { PageServerLoad } from './$types';

export const load = (async ({ params, parent, fetch }) => {
  const { markets, gatewayDown } = await parent();
  const market = markets.find((m) => m.symbol === params.symbol);
  if (!market && !gatewayDown) error(404, `no market ${params.symbol}`);
  const [price, pushes, chain] = await Promise.all([
    gatewayTry<{ price: PriceMessage; status?: StatusMessage }>(`/api/prices/${params.symbol}`, fetch).catch(() => undefined),
    gatewayTry<{ pushes: PushRow[] }>(`/api/prices/${params.symbol}/pushes?limit=50`, fetch),
    gatewayTry<ChainAnswer>('/api/chain/markets', fetch),
  ]);
  return {
    symbol: params.symbol,
    market,
    price: price?.price,
    status: price?.status,
    pushes: pushes?.pushes ?? [],
    chain: chain?.markets.find((c) => c.symbol === params.symbol),
  };
}) satisfies PageServerLoad;
