// The ingestion benchmark's baseline: Hermes SSE straight to Socket.IO — no validation, no storage,
// no Temporal — to show what our full path costs on top of moving bytes.
//   tsx bench/bare-relay.ts <hermesUrl> <port> <feedId,...>
import { createServer } from 'node:http';
import { HermesClient } from '@pythnetwork/hermes-client';
import { Server } from 'socket.io';

const [hermesUrl, port, ids] = process.argv.slice(2) as [string, string, string];
const feedIds = ids.split(',');
const http = createServer();
const io = new Server(http, { serveClient: false });
io.on('connection', (socket) => socket.on('subscribe', (_symbols: unknown, ack: (r: unknown) => void) => (void socket.join('all'), ack({ ok: true }))));
await new Promise<void>((r) => http.listen(Number(port), '127.0.0.1', r));
const stream = await new HermesClient(hermesUrl).getPriceUpdatesStream(feedIds, { parsed: true, encoding: 'hex' });
stream.onmessage = (event: MessageEvent) => {
  const update = JSON.parse(String(event.data)) as { parsed: { id: string; price: { price: string; publish_time: number } }[] };
  // As the gateway does: one event per message from the source.
  io.to('all').emit('prices', update.parsed.map((p) => ({ feedId: p.id, price: p.price.price, publishTime: p.price.publish_time })));
};
process.stdout.write('ready\n');
