import type { Socket } from 'socket.io';

/**
 * Latest-value delivery to one client. While the client's connection still has unsent packets, new
 * prices replace older pending ones of the same symbol instead of queueing behind them: a slow
 * client gets the newest price, never a backlog. Sequence numbers let it see what it skipped.
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

  push(message: M): void {
    if (this.pending.size > 0 || this.busy()) {
      this.pending.set(message.symbol, message);
      return;
    }
    this.socket.emit(this.event, message);
  }

  /** Sends what accumulated, once the connection has drained. */
  flush(): void {
    if (this.pending.size === 0 || this.busy()) return;
    const messages = [...this.pending.values()];
    this.pending.clear();
    for (const m of messages) this.socket.emit(this.event, m);
  }

  get backlog(): number {
    return this.pending.size;
  }
}
