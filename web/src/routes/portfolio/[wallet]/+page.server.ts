import { error } from '@sveltejs/kit';
import type { Portfolio } from '../../../../../server/portfolio.ts';
import { gatewayTry } from '$lib/server/gateway.ts';
import type { PageServerLoad } from './$types';

export const load = (async ({ params, fetch }) => {
  if (!/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(params.wallet)) error(400, 'a wallet is a base58 public key');
  return { wallet: params.wallet, portfolio: await gatewayTry<Portfolio>(`/api/portfolio/${params.wallet}`, fetch) };
}) satisfies PageServerLoad;
