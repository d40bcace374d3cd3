import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry, metricsHandler } from './metrics.ts';

describe('metrics', () => {
  const registry = createMetricsRegistry('test-service');
  const rejected = new Counter({ name: 'qd_test_rejections_total', help: 'test', labelNames: ['reason'], registers: [registry] });
  const server = createServer(metricsHandler(registry));
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('serves counters with the service label in the Prometheus format', async () => {
    rejected.inc({ reason: 'stale' }, 3);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('qd_test_rejections_total{reason="stale",service="test-service"} 3');
    expect(text).toContain('process_resident_memory_bytes');
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
