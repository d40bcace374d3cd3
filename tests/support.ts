import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket as NetSocket } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { io as ioClient, type Socket } from 'socket.io-client';
import { createRedisSubscriber } from '../bus/redis.ts';
import type { BusPrice } from '../contracts/bus.ts';
import type { ClientToServerEvents, LiquidationAlert, MarginWarning, PriceMessage, ServerToClientEvents, StatusMessage, SubscribeAck } from '../contracts/socket.ts';
import type { StatusReport } from '../contracts/status.ts';
import type { HistoryRow, PriceHistory } from '../store/roles.ts';
import { LIQUIDATION_SCAN_SCHEDULE_ID, SYNC_WORKFLOW_ID, ingestWorkflowId, scannerWorkflowId } from '../contracts/temporal.ts';
import type { MarketIndex } from '../domain/markets.ts';
import { createLogger } from '../runtime/logger.ts';
import { loadConfig, type Config } from '../runtime/config.ts';
import { loadMarkets } from '../runtime/markets.ts';
import { connectClient } from '../temporal/connection.ts';
import { ensureNamespace, registerSearchAttributes } from '../temporal/admin.ts';
import { groupBy } from '../domain/group-by.ts';
export { freePort } from '../sandbox/free-port.ts';

/**
 * Configuration for integration tests: `npm test` (scripts/test.ts) points QD_TEMPORAL_ADDRESS and
 * QD_MONGODB_URI at the test services it started, so tests read them like any process would.
 */
export const testConfig = loadConfig();

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The shipped feed registry (config/markets.json): tests take market bounds from it, not from copies. */
export const testMarkets = () => loadMarkets(`${ROOT}/config/markets.json`);

/** A name unique to this test run, for ids and database names that must not collide between runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A MongoDB URI for a database of the test's own. */
export function testDatabaseUri(name: string): string {
  const u = new URL(testConfig.mongodbUri);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A Temporal namespace of the test's own (fixed workflow ids and task queues then cannot collide
 * with another test file), with our search attributes registered — as on a self-hosted cluster.
 */
export async function createTestNamespace(name: string): Promise<Config['temporal']> {
  await ensureNamespace(testConfig.temporal.address, name);
  const cfg = { ...testConfig.temporal, namespace: name };
  const client = await connectClient(cfg);
  try {
    await registerSearchAttributes(client, name);
  } finally {
    await client.connection.close();
  }
  return cfg;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A real process of ours (a worker, the gateway), with its output kept for failure messages. */
export interface ChildHandle {
  child: ChildProcess;
  output: () => string;
  /** The secrets it was given that appeared anywhere in its output, over its whole life. */
  leaked: () => string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const children = new Set<ChildProcess>();
// Whatever happens to the test run (a timeout, a crash), no process of ours outlives it.
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/**
 * Node with `args` and `env`. Its output's last 400 chunks are kept; every chunk is checked for
 * `secrets` and for the values of the `*_API_KEY` variables in `env`, so a secret written anywhere
 * in a long run is caught, not only in the kept tail.
 */
export function startNodeChild(args: string[], env: Record<string, string>, secrets: readonly string[] = []): ChildHandle {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const watched = [...secrets, ...Object.entries(env).filter(([k]) => k.endsWith('_API_KEY')).map(([, v]) => v)];
  const lines: string[] = [];
  const leaked = new Set<string>();
  const keep = () => {
    let tail = '';
    return (b: Buffer) => {
      const text = b.toString();
      const window = tail + text;
      for (const secret of watched) if (window.includes(secret)) leaked.add(secret);
      tail = text.slice(-512);
      lines.push(text);
      if (lines.length > 400) lines.splice(0, lines.length - 400);
    };
  };
  child.stdout!.on('data', keep());
  child.stderr!.on('data', keep());
  children.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => (children.delete(child), r())));
  return {
    child,
    output: () => lines.join(''),
    leaked: () => [...leaked],
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** A process of ours from its TypeScript entry point. */
export function startProcess(entry: string, env: Record<string, string>, args: string[] = [], secrets: readonly string[] = []): ChildHandle {
  const profile = process.env.QD_TEST_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.QD_TEST_CPU_PROF_DIR}`] : [];
  return startNodeChild([...profile, '--import', 'tsx', entry, ...args], env, secrets);
}


/** The identity of a served price, as history stores it once: feed, source, publish time and slot. */
export const priceKey = (p: { feedId: string; source: string; publishTime: number; slot?: number }) => `${p.feedId}:${p.source}:${p.publishTime}:${p.slot ?? '-'}`;

/**
 * Received prices against history: which are not stored (`missing`), stored with other values
 * (`different`), and which updates history holds twice (`duplicates`), as price keys.
 */
export async function compareWithHistory(history: Pick<PriceHistory, 'updates'>, received: Iterable<PriceMessage>) {
  const byFeed = groupBy(received, (p) => p.feedId);
  const r = { missing: [] as string[], duplicates: [] as string[], different: [] as string[] };
  for (const [feedId, list] of byFeed) {
    const times = list.map((p) => p.publishTime);
    const rows: HistoryRow[] = await history.updates(feedId, Math.min(...times), Math.max(...times));
    const byKey = new Map<string, HistoryRow>();
    for (const row of rows) {
      const key = priceKey({ feedId, ...row });
      if (byKey.has(key)) r.duplicates.push(key);
      byKey.set(key, row);
    }
    for (const p of list) {
      const row = byKey.get(priceKey(p));
      if (!row) r.missing.push(`${p.symbol} ${priceKey(p)}`);
      else if (row.price !== p.price || row.conf !== p.conf || row.expo !== p.expo) r.different.push(priceKey(p));
    }
  }
  return r;
}

/**
 * A dashboard client on a gateway's Socket.IO: records every price and status it receives, in
 * arrival order, with its arrival time; subscribes again after a reconnect (rooms do not survive one).
 */
export class LiveClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly prices: (PriceMessage & { arrivedAt: number })[] = [];
  readonly statuses: (StatusMessage & { arrivedAt: number })[] = [];
  readonly alerts: { event: 'margin-warning' | 'liquidation'; body: MarginWarning | LiquidationAlert }[] = [];
  private symbols: string[] = [];
  private wallets: string[] = [];

  constructor(readonly url: string) {
    this.socket = ioClient(url, { transports: ['websocket'], reconnectionDelayMax: 1_000 });
    this.socket.on('prices', (batch) => {
      const arrivedAt = Date.now();
      for (const p of batch) this.prices.push({ ...p, arrivedAt });
    });
    this.socket.on('status', (s) => this.statuses.push({ ...s, arrivedAt: Date.now() }));
    this.socket.on('margin-warning', (w) => this.alerts.push({ event: 'margin-warning', body: w }));
    this.socket.on('liquidation', (a) => this.alerts.push({ event: 'liquidation', body: a }));
    this.socket.io.on('reconnect', () => {
      if (this.symbols.length > 0) void this.subscribe(this.symbols).catch(() => undefined);
      for (const w of this.wallets) void this.socket.timeout(10_000).emitWithAck('watch-wallet', w).catch(() => undefined);
    });
  }

  /** Subscribes (the snapshot in the ack counts as received prices); throws unless the gateway says ok. */
  async subscribe(symbols: string[]): Promise<SubscribeAck> {
    const ack = await this.socket.timeout(10_000).emitWithAck('subscribe', symbols);
    if (!ack.ok) throw new Error(`subscribe refused: ${ack.error}`);
    this.symbols = [...new Set([...this.symbols, ...symbols])];
    const arrivedAt = Date.now();
    for (const p of ack.snapshot ?? []) this.prices.push({ ...p, arrivedAt });
    return ack;
  }

  async watchWallet(wallet: string): Promise<void> {
    const ack = await this.socket.timeout(10_000).emitWithAck('watch-wallet', wallet);
    if (!ack.ok) throw new Error(`watch-wallet refused: ${ack.error}`);
    this.wallets.push(wallet);
  }

  /** The TCP socket under the websocket transport: `pause()` makes a client that stops reading. */
  get tcp(): NetSocket {
    return (this.socket.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
  }

  of(symbol: string): (PriceMessage & { arrivedAt: number })[] {
    return this.prices.filter((p) => p.symbol === symbol);
  }

  close(): void {
    this.socket.close();
  }
}

/** Everything published on a bus (prefix) of a Redis, as a consumer sees it: the truth to compare clients with. */
export function recordBus(url: string, prefix: string) {
  const subscriber = createRedisSubscriber({ url, prefix, log: createLogger('bus-recorder', 'silent') });
  const prices: (BusPrice & { arrivedAt: number })[] = [];
  const statuses: (StatusReport & { arrivedAt: number })[] = [];
  subscriber.onPrices((batch) => {
    const arrivedAt = Date.now();
    for (const p of batch.prices) prices.push({ ...p, arrivedAt });
  });
  subscriber.onStatus((r) => statuses.push({ ...r, arrivedAt: Date.now() }));
  return { subscriber, prices, statuses, close: () => subscriber.close() };
}

/** Waits until a process's HTTP endpoint answers 2xx (a gateway's /api/live), or fails with its output. */
export async function waitForHttp(url: string, handle: ChildHandle, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `${url} to answer`,
    async () => {
      if (handle.child.exitCode !== null) throw new Error(`exited with ${handle.child.exitCode}:\n${handle.output().slice(-3_000)}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return res.ok || undefined;
    },
    timeoutMs,
    250,
  );
}

/** A stream that keeps what a Supervisor prints (its own lines and its processes'), for failure messages. */
export function outputSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      if (lines.length > 2_000) lines.splice(0, lines.length - 2_000);
      done();
    },
  });
  return { stream, lines, tail: (n = 60) => lines.slice(-n).join('\n') };
}

/** The value of a Prometheus sample (`name{labels} value`) on a /metrics page; labels match as a substring. */
export async function metricValue(url: string, name: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(3_000) })).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * Ends what a system's workers started in its namespace and would keep running after the test:
 * ingestion per feed group, the sync, each keeper's scanner and, with keepers, the backstop scan
 * schedule. What is not there (or the namespace itself) is no error.
 */
export async function endSystemWorkflows(namespace: string, markets: MarketIndex, keepers: readonly { publicKey: string }[] = []): Promise<void> {
  const client = await connectClient({ ...testConfig.temporal, namespace }).catch(() => undefined);
  if (!client) return;
  const ids = [SYNC_WORKFLOW_ID, ...[...markets.groups().keys()].map(ingestWorkflowId), ...keepers.map((k) => scannerWorkflowId(k.publicKey))];
  for (const id of ids) await client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  if (keepers.length > 0) await client.schedule.getHandle(LIQUIDATION_SCAN_SCHEDULE_ID).delete().catch(() => undefined);
  await client.connection.close();
}
