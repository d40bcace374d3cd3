import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import { busNames } from '../contracts/bus.ts';
import { walletRoom, type LiquidationAlert, type MarginWarning, type ServerToClientEvents } from '../contracts/socket.ts';

/**
 * Alerts for one trader, from any process (the liquidation scanner, a keeper): sent into the
 * `wallet:<pubkey>` room through the Socket.IO Redis adapter protocol, so every gateway delivers
 * them to that wallet's sockets, whichever gateway they are connected to. Delivery is at most once;
 * the alerts are also stored, and the dashboard reads their history from the gateway's REST API.
 */
export interface WalletAlerts {
  marginWarning(w: MarginWarning): void;
  liquidation(a: LiquidationAlert): void;
}

export function createWalletAlerts(redis: Pick<Redis, 'publish'>, prefix?: string, onDropped?: (err: Error) => void): WalletAlerts {
  // The emitter publishes and forgets the promise: with Redis away that rejection would be unhandled
  // and end the process. An alert that cannot be published is dropped (it is stored anyway).
  const client = { publish: (channel: string, message: string | Buffer) => redis.publish(channel, message).catch((e: Error) => onDropped?.(e)) };
  const emitter = new Emitter<ServerToClientEvents>(client, { key: busNames(prefix).socketIo });
  return {
    marginWarning: (w) => void emitter.to(walletRoom(w.wallet)).emit('margin-warning', w),
    liquidation: (a) => void emitter.to(walletRoom(a.wallet)).emit('liquidation', a),
  };
}
