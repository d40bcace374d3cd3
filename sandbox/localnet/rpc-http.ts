// JSON-RPC over HTTP: POST bodies (single calls or batches) up to a size limit, CORS for browser clients,
// and GET /health as a validator serves it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { RpcErrorCode, answerBody, stringifyJson, type MethodTable } from './json-rpc.ts';

/** A validator's limit on a JSON-RPC request body (agave `MAX_REQUEST_BODY_SIZE`, 50 KiB). */
export const DEFAULT_MAX_REQUEST_BYTES = 50 * 1024;

export interface RpcHttpOptions {
  host: string;
  port: number;
  maxRequestBytes: number;
  methods: MethodTable;
  log: Logger;
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
  'access-control-allow-headers': 'content-type, solana-client',
  'access-control-max-age': '86400',
};

function send(res: ServerResponse, status: number, body: string, contentType: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...CORS_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse, options: RpcHttpOptions): void {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS_HEADERS);
    res.end();
    return;
  }
  if (req.method === 'GET' && req.url === '/health') {
    send(res, 200, 'ok', 'text/plain');
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, 'Used HTTP Method is not allowed. POST or OPTIONS is required', 'text/plain', { allow: 'POST, OPTIONS' });
    return;
  }
  const tooLarge = () => {
    const body = stringifyJson({
      jsonrpc: '2.0',
      error: {
        code: RpcErrorCode.invalidRequest,
        message: `Request body too large: the limit is ${options.maxRequestBytes} bytes`,
      },
      id: null,
    });
    options.log.warn({ limit: options.maxRequestBytes }, 'rpc.body_too_large');
    send(res, 413, body, 'application/json', { connection: 'close' });
    // Drain, without keeping, whatever the client still sends, so it reads the 413 instead of a reset.
    req.resume();
  };
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > options.maxRequestBytes) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let rejected = false;
  req.on('data', (chunk: Buffer) => {
    if (rejected) return;
    size += chunk.length;
    if (size > options.maxRequestBytes) {
      rejected = true;
      chunks.length = 0;
      tooLarge();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (rejected) return;
    const started = performance.now();
    const text = Buffer.concat(chunks).toString('utf8');
    const answer = answerBody(text, options.methods, (method, err) =>
      options.log.error({ method, err }, 'rpc.internal_error'),
    );
    options.log.trace({ bytes: size, ms: performance.now() - started }, 'rpc.request');
    if (answer === null) {
      res.writeHead(204, CORS_HEADERS);
      res.end();
      return;
    }
    send(res, 200, answer, 'application/json');
  });
  req.on('error', (err) => options.log.debug({ err }, 'rpc.request_error'));
}

export async function startRpcHttp(options: RpcHttpOptions): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => handle(req, res, options));
  // Transactions arrive over many short keep-alive connections; the defaults are fine for a localnet.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
