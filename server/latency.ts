import type { Registry } from 'prom-client';
import type { LivePrice } from '../bus/follower.ts';
import { priceStages } from '../bus/stage-latency.ts';

/**
 * The stages a gateway sees (contracts/latency.ts): `source` and `bus` from each price's times,
 * `gateway` (bus → here) and `sockets` (here → written to the sockets that follow the market).
 */
export function gatewayStages(registry: Registry) {
  const stages = priceStages(registry);
  return {
    ...stages,
    /** Prices that came off the bus in a batch sent at `busAt`, arrived here at `arrivedAt` (epoch ms). */
    arrived(prices: readonly LivePrice[], busAt: number, arrivedAt: number): void {
      for (const p of prices) {
        stages.observe('source', p.receivedAt - p.publishTime * 1000);
        stages.observe('bus', busAt - p.receivedAt);
      }
      stages.observe('gateway', arrivedAt - busAt);
    },
    sent(arrivedAt: number, sentAt: number): void {
      stages.observe('sockets', sentAt - arrivedAt);
    },
  };
}
