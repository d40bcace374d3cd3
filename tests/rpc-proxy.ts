import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of a Solana RPC that can swallow the answers to `sendTransaction` (the
 * transaction reaches the chain and lands, but the sender never learns it — as when a worker
 * crashes between sending a batch and seeing its outcome), fail chosen methods (HTTP 503, as an
 * overloaded RPC does), hold chosen methods for a while, and add latency to every call (as real
 * RPCs have).
 */
export async function startRpcProxy(target: string, o: { latencyMs?: number } = {}) {
  let swallow = false;
  let failing = new Set<string>();
  const holding = new Map<string, number>();
  const methodsOf = (body: Buffer) => [...body.toString().matchAll(/"method"\s*:\s*"([A-Za-z]+)"/g)].map((m) => m[1]!);
  const swallowed: string[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const methods = methodsOf(body);
    if (o.latencyMs) await new Promise((r) => setTimeout(r, o.latencyMs));
    if (methods.some((m) => failing.has(m))) {
      res.writeHead(503).end('overloaded');
      return;
    }
    const hold = Math.max(0, ...methods.map((m) => holding.get(m) ?? 0));
    if (hold > 0) await new Promise((r) => setTimeout(r, hold));
    const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch((e: Error) => e);
    if (swallow && body.includes('"sendTransaction"')) {
      swallowed.push(body.toString());
      hanging.add(res); // never answered
      return;
    }
    if (upstream instanceof Error) {
      res.writeHead(502).end(upstream.message);
      return;
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    swallowed,
    setSwallow(on: boolean) {
      swallow = on;
    },
    /** Methods answered with HTTP 503 until set again (none: all pass). */
    setFailing(methods: readonly string[]) {
      failing = new Set(methods);
    },
    /** Holds every call of `method` this long before passing it on (0: not at all). */
    setHold(method: string, ms: number) {
      holding.set(method, ms);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
