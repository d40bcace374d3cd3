import { redirect } from '@sveltejs/kit';
import { faucetAction } from '$lib/server/faucet.ts';
import type { Actions } from './$types';

export const actions = {
  /** Without JS: look a wallet up read-only. */
  view: async ({ request }) => {
    const wallet = String((await request.formData()).get('wallet') ?? '').trim();
    redirect(303, `/portfolio/${encodeURIComponent(wallet)}`);
  },
  faucet: faucetAction,
} satisfies Actions;
