// The gateway's inputs, fuzzed (seeded, bounded): REST paths, parameters and query strings, and
// Socket.IO events with any payload. Each ends in an answer with a reason (a 4xx with `error`, a
// negative ack), never a 500, and the gateway keeps serving.
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../contracts/socket.ts';
import { startMemoryGateway } from '../tests/test-gateway.ts';
import { OPEN_ACCESS, type Gateway } from './app.ts';

let memory: Awaited<ReturnType<typeof startMemoryGateway>>;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  memory = await startMemoryGateway(OPEN_ACCESS);
  ({ gateway, url } = memory);
});
afterAll(() => memory?.close());

const segment = fc.oneof(
  fc.constantFrom('SOL-PERP', 'BTC-PERP', 'sol', 'DOGE-PERP', '', '..', '%00', '%ZZ', '-PERP', 'A'.repeat(300)),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);
const queryValue = fc.oneof(fc.constantFrom('0', '-1', '1e9', 'NaN', '1800000000', '60', '86400', '7', ''), fc.integer().map(String), fc.string({ maxLength: 20 }).map(encodeURIComponent));
const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom('from', 'to', 'interval', 'limit', 'symbol', 'since', 'evil'), fc.string({ maxLength: 10 }).map(encodeURIComponent)), queryValue), { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
const path = fc.oneof(
  segment.map((s) => `/api/prices/${s}`),
  fc.tuple(segment, query).map(([s, q]) => `/api/prices/${s}/history${q}`),
  query.map((q) => `/api/prices${q}`),
  fc.tuple(fc.constantFrom('/api/health', '/api/live', '/metrics', '/api/nothing', '/'), query).map(([p, q]) => p + q),
);

describe('gateway input, fuzzed', () => {
  it('answers any REST path, parameter and query with a result or a 4xx that says why, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), path, fc.option(fc.json({ maxDepth: 2 })), async (method, p, body) => {
        const res = await gateway.app.inject({ method: method as 'GET', url: p, ...(body !== null && method !== 'GET' && { payload: body, headers: { 'content-type': 'application/json' } }) });
        // /api/health answers 503 with its report when a dependency is down (here: no price yet), by design.
        if (method === 'GET' && p.startsWith('/api/health')) return void expect([200, 503]).toContain(res.statusCode);
        expect(res.statusCode, `${method} ${p}`).toBeLessThan(500);
        if (res.statusCode >= 400 && p.startsWith('/api/')) expect((res.json() as { error?: unknown }).error, `${method} ${p}`).toEqual(expect.any(String));
      }),
      { seed: 7_007, numRuns: 400 },
    );
    expect((await fetch(`${url}/api/prices`)).status).toBe(200);
  });

  it('acks any Socket.IO event payload with a reason, and keeps serving the socket', async () => {
    const c: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => (c.once('connect', resolve), c.once('connect_error', reject)));
    type Ack = { ok: boolean; error?: string };
    const emit = (event: string, payload: unknown) =>
      new Promise<Ack>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack to ${event}`)), 3_000);
        (c as unknown as Socket).emit(event, payload, (a: Ack) => (clearTimeout(timer), resolve(a)));
      });
    const payload = fc.oneof(fc.anything({ maxDepth: 3 }), fc.array(fc.oneof(fc.constantFrom('SOL-PERP', 'DOGE-PERP', 'sol'), fc.string({ maxLength: 20 })), { maxLength: 60 }), fc.string({ maxLength: 50 }));
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('subscribe', 'unsubscribe', 'watch-wallet', 'unwatch-wallet'), payload, async (event, p) => {
          const ack = await emit(event, p);
          expect(typeof ack.ok).toBe('boolean');
          if (!ack.ok) expect(ack.error).toEqual(expect.any(String));
        }),
        { seed: 8_008, numRuns: 300 },
      );
      // Events it does not know, and known ones without an ack, change nothing: the socket still works.
      (c as unknown as Socket).emit('no-such-event', { x: 1 });
      (c as unknown as Socket).emit('subscribe', ['SOL-PERP']);
      expect(await emit('subscribe', ['SOL-PERP'])).toMatchObject({ ok: true });
      expect(c.connected).toBe(true);
    } finally {
      c.close();
    }
  });
});
