import { HermesClient } from '@pythnetwork/hermes-client';

/**
 * The Hermes client every part of ours uses. The API key travels as `Authorization: Bearer`, on
 * the SSE stream as on every other request (the public Hermes requires one). The client is
 * @pythnetwork/hermes-client 2.0.0: 2.1 and 3.x declare Node ≥ 22 / ^24 while we run on Node 20,
 * and 2.0.0 has the same API for what we use (latest updates, the parsed stream).
 */
export function createHermesClient(o: { url: string; apiKey?: string; timeoutMs?: number }): HermesClient {
  return new HermesClient(o.url, {
    ...(o.apiKey && { headers: { Authorization: `Bearer ${o.apiKey}` } }),
    timeout: o.timeoutMs ?? 5_000,
    httpRetries: 0,
  });
}
