import { fail, type RequestEvent } from '@sveltejs/kit';
import { isLoopback } from '../../../../server/faucet.ts';
import { gatewayPost } from './gateway.ts';

/**
 * The faucet as a form action (it works without JS): only for a browser on this machine, as the
 * gateway's own faucet only answers loopback requests; the gateway says whether it exists at all.
 */
export async function faucetAction(event: RequestEvent) {
  if (!isLoopback(event.getClientAddress())) return fail(403, { faucet: { error: 'the faucet serves browsers on this machine only' } });
  const wallet = String((await event.request.formData()).get('wallet') ?? '').trim();
  if (!/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(wallet)) return fail(400, { faucet: { error: 'a wallet is a base58 public key', wallet } });
  const res = await gatewayPost<{ lamports: string; usdc: string }>('/api/faucet', { wallet }, event.fetch).catch((e: Error) => ({ ok: false, status: 502, body: { error: e.message } as { error?: string; lamports?: string; usdc?: string } }));
  if (!res.ok) return fail(res.status === 404 ? 404 : 502, { faucet: { error: res.status === 404 ? 'no faucet: the RPC is not the embedded localnet' : (res.body.error ?? 'the faucet failed'), wallet } });
  return { faucet: { funded: wallet, lamports: res.body.lamports, usdc: res.body.usdc } };
}
