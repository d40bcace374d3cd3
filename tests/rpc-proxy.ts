import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of a Solana RPC that can swallow the answers to `sendTransaction`: the
 * transaction reaches the chain (and lands), but the sender never learns it — as when a worker
 * crashes between sending a batch and seeing its outcome.
 */
export async function startRpcProxy(target: string) {
  let swallow = false;
  const swallowed: string[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
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
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
