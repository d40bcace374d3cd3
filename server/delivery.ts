import type { Socket } from 'socket.io';

/**
 * Latest-value delivery to one client, in batches. The prices of one update from the source go out
 * as one event; while the client's connection still has unsent data, new prices replace older
 * pending ones of the same symbol instead of queueing behind them: a slow client gets the newest
 * price per market, never a backlog. Sequence numbers let it see what it skipped.
 */
export class LatestValueChannel<M extends { symbol: string }> {
  private readonly pending = new Map<string, M>();

  constructor(
    private readonly socket: Socket,
    private readonly event: string,
  ) {
    // The transport's own `drain` fires when its in-flight write completed, just before it becomes
    // writable again: flush right after that. A polling → websocket upgrade brings a new transport.
    const attach = (transport: { on(event: 'drain', fn: () => void): void }) => transport.on('drain', () => queueMicrotask(() => this.flush()));
    attach(socket.conn.transport);
    socket.conn.on('upgrade', attach);
  }

  private busy(): boolean {
    const conn = this.socket.conn as unknown as { writeBuffer: unknown[]; transport: { writable: boolean } };
    return conn.writeBuffer.length > 0 || !conn.transport.writable;
  }

  /** Queues a message; `flush` sends what is queued (call it once per batch). */
  add(message: M): void {
    this.pending.set(message.symbol, message);
  }

  /** Sends the queued messages as one event, unless the connection is still busy (then on drain). */
  flush(): void {
    if (this.pending.size === 0 || this.busy()) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.socket.emit(this.event, batch);
  }

  get backlog(): number {
    return this.pending.size;
  }
}
