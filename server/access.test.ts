import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMemoryGateway } from '../tests/test-gateway.ts';
import type { Gateway } from './app.ts';

/** Who may call the gateway: CORS and sockets for the dashboard's origin only, a rate limit per client address, security headers. */
const DASHBOARD = 'http://127.0.0.1:3001';
let memory: Awaited<ReturnType<typeof startMemoryGateway>>;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  // Behind a proxy: the client address is X-Forwarded-For's; the proxy's own (loopback) is exempt.
  memory = await startMemoryGateway({ corsOrigins: [DASHBOARD], rateLimit: { perMinute: 5, exempt: ['127.0.0.1'] }, trustProxy: true });
  ({ gateway, url } = memory);
});
afterAll(() => memory?.close());

describe('gateway access', () => {
  it('grants CORS to the dashboard origin only', async () => {
    const preflight = (origin: string) => fetch(`${url}/api/prices`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    const ok = await preflight(DASHBOARD);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const plain = await fetch(`${url}/api/prices`, { headers: { origin: 'https://evil.example', 'x-forwarded-for': '198.51.100.1' } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends the security headers of an API that must never render as a page', async () => {
    const res = await fetch(`${url}/api/prices`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('limits each client address, with a clear 429, and leaves exempt addresses alone', async () => {
    const from = (ip: string) => fetch(`${url}/api/prices`, { headers: { 'x-forwarded-for': ip } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await from('203.0.113.7')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await from('203.0.113.7');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await limited.json()) as { error: string }).error).toMatch(/rate limit: at most 5 requests per minute/);
    // Another client is not affected, and the exempt address (the dashboard's server) never is.
    expect((await from('203.0.113.8')).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await fetch(`${url}/api/prices`)).status).toBe(200);
  });

  it('opens sockets for the dashboard origin and refuses others', async () => {
    const attempt = (origin: string) =>
      new Promise<'connected' | string>((resolve) => {
        const c = io(url, { transports: ['websocket'], extraHeaders: { origin }, reconnection: false, timeout: 3_000 });
        c.on('connect', () => (c.close(), resolve('connected')));
        c.on('connect_error', (e) => (c.close(), resolve(e.message)));
      });
    expect(await attempt(DASHBOARD)).toBe('connected');
    expect(await attempt('https://evil.example')).not.toBe('connected');
  });
});
