import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createWalletAlerts } from './wallet-alerts.ts';

describe('wallet alerts', () => {
  // Nothing listens on port 1: every publish fails at once, as it does while Redis restarts.
  const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined);
  afterAll(() => redis.disconnect());

  it('drops an alert it cannot publish, with the reason, and never rejects unhandled (a keeper must survive a Redis restart)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const dropped: Error[] = [];
    const alerts = createWalletAlerts(redis, 'qd-test', (e) => dropped.push(e));
    alerts.liquidation({ wallet: '11111111111111111111111111111111', symbol: 'SOL-PERP' } as Parameters<typeof alerts.liquidation>[0]);
    alerts.marginWarning({ wallet: '11111111111111111111111111111111', symbol: 'SOL-PERP' } as Parameters<typeof alerts.marginWarning>[0]);
    await new Promise((r) => setTimeout(r, 200));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    expect(dropped.length).toBe(2);
    expect(dropped[0]!.message).toMatch(/connection|writable|closed|stream/i);
  });
});
