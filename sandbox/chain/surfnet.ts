// Starts the embedded chain: surfpool (sandbox/surfnet, built by scripts/tools.mjs) as a child
// process, offline, on the given or free ports. It serves the Solana JSON-RPC over HTTP and the PubSub
// over WebSocket, as a validator does; everything else talks to it only through those.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { surfnetBinary } from '../../scripts/tools.mjs';
import { freePort } from '../free-port.ts';

export interface SurfnetOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  rpcPort?: number;
  /** Default: a free port (rpcPort + 1 when rpcPort is given). */
  wsPort?: number;
  /** Slot time, ms (400, as on mainnet). */
  slotMs?: number;
  /** How long to wait for the RPC to answer, ms. */
  readyTimeoutMs?: number;
  /** surfpool's warnings and errors, one line each. */
  onLog?: (line: string) => void;
}

export interface Surfnet {
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly rpcPort: number;
  readonly wsPort: number;
  readonly slotMs: number;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}


/** One JSON-RPC call over HTTP; throws on transport errors and on an error answer. */
export async function rpcCall<T>(url: string, method: string, params: unknown[] = [], timeoutMs = 5_000): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message} (${body.error.code})`);
  return body.result as T;
}

export async function startSurfnet(o: SurfnetOptions = {}): Promise<Surfnet> {
  const host = o.host ?? '127.0.0.1';
  const rpcPort = o.rpcPort || (await freePort(host));
  const wsPort = o.wsPort ?? (o.rpcPort ? o.rpcPort + 1 : await freePort(host));
  const slotMs = o.slotMs ?? 400;
  // Its stdin is a pipe from this process: if this process dies, even by SIGKILL, surfpool exits too.
  const child = spawn(surfnetBinary(), ['--host', host, '--rpc-port', String(rpcPort), '--ws-port', String(wsPort), '--slot-ms', String(slotMs), '--exit-with-stdin'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const rpcUrl = `http://${host}:${rpcPort}`;
  const wsUrl = `ws://${host}:${wsPort}`;
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 50) stderr.shift();
    o.onLog?.(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('ready ')) resolve();
    });
  });
  const timeoutMs = o.readyTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then((code) => `exited with ${code}` as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(kill);
  };
  if (outcome !== 'ready') {
    await stop();
    throw new Error(`surfnet did not start (${outcome}): ${stderr.slice(-5).join(' | ') || 'no output'}`);
  }
  // "ready" is printed when the runloop starts; the HTTP server follows within moments.
  for (const deadline = Date.now() + timeoutMs; ; ) {
    try {
      await rpcCall<number>(rpcUrl, 'getSlot', [], 1_000);
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`surfnet's RPC at ${rpcUrl} did not answer: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { rpcUrl, wsUrl, rpcPort, wsPort, slotMs, child, stop };
}
