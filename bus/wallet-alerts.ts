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

export function createWalletAlerts(redis: Redis, prefix?: string): WalletAlerts {
  const emitter = new Emitter<ServerToClientEvents>(redis, { key: busNames(prefix).socketIo });
  return {
    marginWarning: (w) => void emitter.to(walletRoom(w.wallet)).emit('margin-warning', w),
    liquidation: (a) => void emitter.to(walletRoom(a.wallet)).emit('liquidation', a),
  };
}
