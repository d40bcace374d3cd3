import { error, isHttpError } from '@sveltejs/kit';
import { loadConfig } from '../../../../runtime/config.ts';

/**
 * The dashboard server's view of the gateway: its URL (QD_GATEWAY_URL, parsed by the one config
 * schema), and GETs that turn an unreachable gateway into a page that says so.
 */
const config = loadConfig();
export const gatewayUrl = config.gateway.url.replace(/\/$/, '');

export class GatewayDown extends Error {}

export async function gatewayGet<T>(path: string, f: typeof fetch = fetch, timeoutMs = 3_000): Promise<T> {
  let res: Response;
  try {
    res = await f(`${gatewayUrl}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new GatewayDown(`the gateway at ${gatewayUrl} is unreachable (${(e as Error).message})`);
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  // /api/health answers 503 with its body when degraded: that is an answer, not a failure.
  if (!res.ok && !(res.status === 503 && path.startsWith('/api/health'))) error(res.status === 404 ? 404 : 502, body.error ?? `gateway answered ${res.status}`);
  return body;
}

/**
 * The same, or undefined when the gateway cannot be reached or cannot answer this part (an RPC that
 * is down makes /api/chain/markets 502): the page renders without it, and says so.
 */
export async function gatewayTry<T>(path: string, f: typeof fetch = fetch): Promise<T | undefined> {
  try {
    return await gatewayGet<T>(path, f);
  } catch (e) {
    if (e instanceof GatewayDown || isHttpError(e)) return undefined;
    throw e;
  }
}

export async function gatewayPost<T>(path: string, body: unknown, f: typeof fetch = fetch): Promise<{ ok: boolean; status: number; body: T & { error?: string } }> {
  const res = await f(`${gatewayUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  return { ok: res.ok, status: res.status, body: (await res.json().catch(() => ({}))) as T & { error?: string } };
}
