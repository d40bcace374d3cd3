import { io, type Socket } from 'socket.io-client';
import type { Logger } from 'pino';
import {
  INTERNAL_NAMESPACE,
  toWirePrice,
  type InternalClientToServerEvents,
  type InternalServerToClientEvents,
  type WorkerStatus,
} from '../../server/events.ts';
import type { AcceptedPrice } from '../store/prices.ts';

/** Where accepted prices and source status go for broadcast. */
export interface PricePublisher {
  prices(batch: readonly AcceptedPrice[]): void;
  status(status: WorkerStatus): void;
  close(): Promise<void>;
}

/**
 * Publishes to the gateway's authenticated internal namespace. Prices are latest-value data: while
 * the gateway is unreachable they are dropped (volatile), not queued — the gateway reloads the
 * latest prices from the store when it starts. Status changes are few and are queued until delivered.
 */
export function createGatewayPublisher(gatewayUrl: string, token: string, log: Logger): PricePublisher {
  const socket: Socket<InternalServerToClientEvents, InternalClientToServerEvents> = io(`${gatewayUrl}${INTERNAL_NAMESPACE}`, {
    auth: { token },
    transports: ['websocket'],
    reconnectionDelayMax: 2_000,
  });
  socket.on('connect', () => log.info({ gatewayUrl }, 'gateway_connected'));
  socket.on('disconnect', (reason) => log.warn({ reason }, 'gateway_disconnected'));
  socket.on('connect_error', (err) => log.warn({ err: err.message }, 'gateway_connect_failed'));
  return {
    prices(batch) {
      if (batch.length > 0) socket.volatile.emit('prices', batch.map(toWirePrice));
    },
    status(status) {
      socket.emit('status', status);
    },
    async close() {
      socket.close();
    },
  };
}
