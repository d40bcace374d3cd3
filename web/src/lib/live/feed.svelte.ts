import { io, type Socket } from 'socket.io-client';
import { untrack } from 'svelte';
import { SvelteMap } from 'svelte/reactivity';
import type { ClientToServerEvents, LiquidationAlert, MarginWarning, PriceMessage, ServerToClientEvents, StatusMessage } from '$contracts/socket.ts';
import { RoomCounts, judge, newer } from './sequence.ts';

/**
 * The one live-price store of the dashboard: a Socket.IO connection to the gateway, market rooms
 * joined on demand (first subscriber joins, last leaves), rejoined with a fresh snapshot after every
 * reconnect, a REST resync of a market whose sequence jumps, wallet rooms for margin warnings and
 * liquidations. State is runes: components read `price(symbol)` and re-render only for that market.
 */
type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
export type Connection = 'idle' | 'connecting' | 'up' | 'down';

export interface Held {
  message: PriceMessage;
  /** performance.now() when it arrived here: age = its ageSec + time since, whatever the clocks say. */
  at: number;
}

export type WalletAlert = ({ kind: 'margin-warning' } & MarginWarning) | ({ kind: 'liquidation' } & LiquidationAlert);

class LiveFeed {
  connection = $state<Connection>('idle');
  /** Why the gateway cannot be reached, while it cannot. */
  problem = $state<string | undefined>();
  /** Markets resynced from REST after a sequence gap (for operators and tests). */
  resyncs = $state(0);
  /** Wall-clock tick, once a second: ages and stale badges follow it. */
  now = $state(typeof performance === 'undefined' ? 0 : performance.now());
  readonly alerts: WalletAlert[] = $state([]);

  private readonly held = new SvelteMap<string, Held>();
  private readonly statuses = new SvelteMap<string, StatusMessage>();
  private readonly seqs = new Map<string, number>();
  private readonly rooms = new RoomCounts();
  private readonly wallets = new RoomCounts();
  private socket: Client | undefined;
  private gatewayUrl = '';
  private timer: ReturnType<typeof setInterval> | undefined;

  /** The gateway to follow; called by the root layout with what the server says. */
  configure(gatewayUrl: string): void {
    this.gatewayUrl = gatewayUrl;
  }

  /** Seeds prices rendered on the server, so the first paint is already current. */
  seed(prices: readonly PriceMessage[], statuses: readonly StatusMessage[] = []): void {
    // Called from effects: what it reads to compare must not become their dependency.
    untrack(() => {
      const at = performance.now();
      for (const p of prices) if (newer(this.held.get(p.symbol)?.message, p)) this.held.set(p.symbol, { message: p, at });
      for (const s of statuses) if (!this.statuses.has(s.symbol)) this.statuses.set(s.symbol, s);
    });
  }

  price(symbol: string): Held | undefined {
    return this.held.get(symbol);
  }

  status(symbol: string): StatusMessage | undefined {
    return this.statuses.get(symbol);
  }

  /** Seconds since the source published the held price, as of the last tick. */
  ageSec(symbol: string): number | undefined {
    const h = this.held.get(symbol);
    return h && h.message.ageSec + Math.max(0, Math.floor((this.now - h.at) / 1000));
  }

  /** Stale as the gateway says it (both sources failing, or too old to display), or unreachable gateway. */
  stale(symbol: string): boolean {
    const h = this.held.get(symbol);
    if (!h) return false;
    const s = this.statuses.get(symbol);
    return s ? s.stale : h.message.stale;
  }

  /** Follow these markets while the returned function is not called. */
  subscribe(symbols: readonly string[]): () => void {
    return untrack(() => this.subscribeNow(symbols));
  }

  private subscribeNow(symbols: readonly string[]): () => void {
    const joined = this.rooms.add(symbols);
    const client = this.connect();
    if (joined.length > 0 && client.connected) this.join(client, joined);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = this.rooms.remove(symbols);
      if (left.length > 0 && this.socket?.connected) this.socket.emit('unsubscribe', left);
    };
  }

  /** Follow a wallet's margin warnings and liquidations. */
  watchWallet(wallet: string): () => void {
    return untrack(() => this.watchNow(wallet));
  }

  private watchNow(wallet: string): () => void {
    const joined = this.wallets.add([wallet]);
    const client = this.connect();
    if (joined.length > 0 && client.connected) client.emit('watch-wallet', wallet, () => undefined);
    return () => {
      if (this.wallets.remove([wallet]).length > 0 && this.socket?.connected) this.socket.emit('unwatch-wallet', wallet);
    };
  }

  private connect(): Client {
    if (this.socket) return this.socket;
    this.connection = 'connecting';
    const client: Client = io(this.gatewayUrl, { transports: ['websocket'], reconnectionDelay: 500, reconnectionDelayMax: 5_000 });
    this.socket = client;
    this.timer ??= setInterval(() => (this.now = performance.now()), 1_000);
    client.on('connect', () => {
      this.connection = 'up';
      this.problem = undefined;
      // Rooms do not survive a disconnect: join them again, each with a fresh snapshot.
      if (this.rooms.active.length > 0) this.join(client, this.rooms.active);
      for (const w of this.wallets.active) client.emit('watch-wallet', w, () => undefined);
    });
    client.on('disconnect', (reason) => {
      this.connection = 'down';
      this.problem = `disconnected (${reason})`;
    });
    client.on('connect_error', (e) => {
      this.connection = 'down';
      this.problem = e.message;
    });
    client.on('prices', (batch) => this.onPrices(batch));
    client.on('status', (s) => this.statuses.set(s.symbol, s));
    client.on('margin-warning', (w) => this.alert({ kind: 'margin-warning', ...w }));
    client.on('liquidation', (a) => this.alert({ kind: 'liquidation', ...a }));
    return client;
  }

  private alert(a: WalletAlert): void {
    this.alerts.unshift(a);
    if (this.alerts.length > 20) this.alerts.length = 20;
  }

  private join(client: Client, symbols: string[]): void {
    // The gateway takes at most 50 symbols per subscribe.
    for (let i = 0; i < symbols.length; i += 50) {
      const chunk = symbols.slice(i, i + 50);
      client.emit('subscribe', chunk, (ack) => {
        if (!ack.ok) {
          this.problem = ack.error;
          return;
        }
        const at = performance.now();
        for (const p of ack.snapshot ?? []) {
          // The snapshot restarts the numbering we compare against (a reconnect may reach another gateway).
          this.seqs.set(p.symbol, p.seq);
          if (newer(this.held.get(p.symbol)?.message, p)) this.held.set(p.symbol, { message: p, at });
        }
      });
    }
  }

  private onPrices(batch: PriceMessage[]): void {
    const at = performance.now();
    for (const m of batch) {
      const verdict = judge(this.seqs.get(m.symbol), m);
      if (verdict === 'old') continue;
      this.seqs.set(m.symbol, m.seq);
      this.held.set(m.symbol, { message: m, at });
      if (verdict === 'gap') void this.resync(m.symbol);
    }
  }

  private async resync(symbol: string): Promise<void> {
    this.resyncs += 1;
    try {
      const res = await fetch(`${this.gatewayUrl}/api/prices/${encodeURIComponent(symbol)}`);
      if (!res.ok) return;
      const body = (await res.json()) as { price: PriceMessage; status?: StatusMessage };
      if (newer(this.held.get(symbol)?.message, body.price)) this.held.set(symbol, { message: body.price, at: performance.now() });
      if (body.status) this.statuses.set(symbol, body.status);
    } catch {
      // The socket's own state says whether the gateway is reachable.
    }
  }
}

export const live = new LiveFeed();
