// The JSON-RPC framing over raw HTTP and WebSocket: errors, batches, notifications and limits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import bs58 from 'bs58';
import { Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction } from '@solana/web3.js';
import { startLocalnet, type Localnet } from './localnet.ts';

let localnet: Localnet;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'localnet-rpc-'));
  localnet = await startLocalnet({
    httpPort: 0,
    slotMs: 50,
    dataDir,
    bootstrap: [],
    logger: pino({ level: 'silent' }),
    maxRequestBytes: 8192,
  });
});

afterAll(async () => {
  await localnet.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function post(body: string): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(localnet.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

describe('JSON-RPC over HTTP', () => {
  it('answers an unknown method with -32601', async () => {
    const { json } = await post('{"jsonrpc":"2.0","id":7,"method":"getEverything","params":[]}');
    expect(json).toEqual({ jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: 7 });
  });

  it('answers malformed JSON with -32700 and a non-request with -32600', async () => {
    expect((await post('{"jsonrpc":"2.0","id":1,"method":')).json).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error' },
      id: null,
    });
    expect((await post('{"id":3,"method":"getSlot"}')).json).toEqual({
      jsonrpc: '2.0',
      error: { code: -32600, message: 'Invalid request' },
      id: 3,
    });
    expect((await post('[]')).json).toMatchObject({ error: { code: -32600 } });
  });

  it('answers bad parameters with -32602 and a message saying what is wrong', async () => {
    const { json } = await post('{"jsonrpc":"2.0","id":1,"method":"getBalance","params":["not-a-key"]}');
    expect(json).toMatchObject({ error: { code: -32602, message: expect.stringContaining('public key') }, id: 1 });
    const tooMany = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'getMultipleAccounts', params: [Array(101).fill(Keypair.generate().publicKey.toBase58())] }),
    );
    expect(tooMany.json).toMatchObject({ error: { code: -32602, message: 'Too many inputs provided; max 100' } });
    const garbage = await post('{"jsonrpc":"2.0","id":3,"method":"sendTransaction","params":["AQID",{"encoding":"base64"}]}');
    expect(garbage.json).toMatchObject({ error: { code: -32602, message: expect.stringContaining('failed to deserialize') } });
    const base58Big = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'getAccountInfo', params: ['SysvarS1otHashes111111111111111111111111111'] }),
    );
    expect(base58Big.json).toMatchObject({ error: { message: expect.stringContaining('please use Base64 encoding') } });
  });

  it('answers a batch in order, each call on its own', async () => {
    const { json } = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'getHealth' },
        { jsonrpc: '2.0', id: 2, method: 'nope' },
        { jsonrpc: '2.0', method: 'getSlot' }, // a notification: no answer
        { jsonrpc: '2.0', id: 'x', method: 'getBlockHeight', params: [{ commitment: 'confirmed' }] },
      ]),
    );
    expect(Array.isArray(json)).toBe(true);
    const answers = json as { id: unknown; result?: unknown; error?: { code: number } }[];
    expect(answers.map((a) => a.id)).toEqual([1, 2, 'x']);
    expect(answers[0]?.result).toBe('ok');
    expect(answers[1]?.error?.code).toBe(-32601);
    expect(typeof answers[2]?.result).toBe('number');
  });

  it('rejects a body over the size limit with 413 and a JSON-RPC error', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getHealth', params: ['x'.repeat(10_000)] });
    const { status, json } = await post(big);
    expect(status).toBe(413);
    expect(json).toMatchObject({ error: { code: -32600, message: 'Request body too large: the limit is 8192 bytes' } });
    // The server still answers afterwards.
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"getHealth"}')).json).toMatchObject({ result: 'ok' });
  });

  it('reports a minimum context slot that has not been reached', async () => {
    const { json } = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSlot', params: [{ minContextSlot: localnet.ledger.slot + 10_000 }] }),
    );
    expect(json).toMatchObject({ error: { code: -32016, message: 'Minimum context slot has not been reached' } });
  });

  it('serves GET /health', async () => {
    const res = await fetch(`${localnet.rpcUrl}/health`);
    expect(await res.text()).toBe('ok');
  });
});

describe('sendTransaction encodings and signatures', () => {
  async function call(method: string, params: unknown[]): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
    return (await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))).json as {
      result?: unknown;
      error?: { code: number; message: string };
    };
  }

  async function fundedKeypair(): Promise<Keypair> {
    const kp = Keypair.generate();
    const airdrop = await call('requestAirdrop', [kp.publicKey.toBase58(), LAMPORTS_PER_SOL]);
    expect(typeof airdrop.result).toBe('string');
    return kp;
  }

  async function blockhash(): Promise<string> {
    const answer = await call('getLatestBlockhash', [{ commitment: 'confirmed' }]);
    return (answer.result as { value: { blockhash: string } }).value.blockhash;
  }

  it('accepts a base58-encoded transaction (the default encoding) and lands it', async () => {
    const from = await fundedKeypair();
    const to = Keypair.generate().publicKey;
    const tx = new Transaction({ feePayer: from.publicKey, recentBlockhash: await blockhash() }).add(
      SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports: 2_000_000 }),
    );
    tx.sign(from);
    const sent = await call('sendTransaction', [bs58.encode(tx.serialize())]);
    expect(sent.result).toBe(bs58.encode(tx.signature ?? new Uint8Array()));
    const balance = await call('getBalance', [to.toBase58()]);
    expect((balance.result as { value: number }).value).toBe(2_000_000);
  });

  it('rejects a transaction with a missing signature in preflight and drops it without', async () => {
    const from = await fundedKeypair();
    const tx = new Transaction({ feePayer: from.publicKey, recentBlockhash: await blockhash() }).add(
      SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 2_000_000 }),
    );
    const unsigned = tx.serialize({ requireAllSignatures: false, verifySignatures: false }).toString('base64');
    const preflight = await call('sendTransaction', [unsigned, { encoding: 'base64' }]);
    expect(preflight.error).toEqual({ code: -32003, message: 'Transaction signature verification failure' });
    const skipped = await call('sendTransaction', [unsigned, { encoding: 'base64', skipPreflight: true }]);
    const status = await call('getSignatureStatuses', [[skipped.result], { searchTransactionHistory: true }]);
    expect((status.result as { value: unknown[] }).value).toEqual([null]);
    const balance = await call('getBalance', [from.publicKey.toBase58()]);
    expect((balance.result as { value: number }).value).toBe(LAMPORTS_PER_SOL);
  });
});

describe('PubSub over WebSocket', () => {
  async function open(url: string): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }> {
    const ws = new WebSocket(url);
    const queue: Record<string, unknown>[] = [];
    const waiters: ((m: Record<string, unknown>) => void)[] = [];
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const next = () => {
      const queued = queue.shift();
      return queued ? Promise.resolve(queued) : new Promise<Record<string, unknown>>((resolve) => waiters.push(resolve));
    };
    return { ws, next };
  }

  it('subscribes to slots, unsubscribes, and refuses an unknown subscription id', async () => {
    const { ws, next } = await open(localnet.wsUrl);
    ws.send('{"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}');
    const subscribed = await next();
    expect(subscribed).toMatchObject({ id: 1, result: expect.any(Number) });
    const notification = await next();
    expect(notification).toMatchObject({
      method: 'slotNotification',
      params: { subscription: subscribed.result, result: { slot: expect.any(Number), parent: expect.any(Number) } },
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'slotUnsubscribe', params: [subscribed.result] }));
    let answer = await next();
    while (answer.method === 'slotNotification') answer = await next();
    expect(answer).toEqual({ jsonrpc: '2.0', result: true, id: 2 });
    ws.send('{"jsonrpc":"2.0","id":3,"method":"slotUnsubscribe","params":[999999]}');
    expect(await next()).toMatchObject({ id: 3, error: { code: -32602, message: 'Invalid subscription id.' } });
    ws.send('{"jsonrpc":"2.0","id":4,"method":"blockSubscribe","params":[]}');
    expect(await next()).toMatchObject({ id: 4, error: { code: -32601 } });
    ws.close();
  });

  it('is also served on the RPC port', async () => {
    const { ws, next } = await open(localnet.rpcUrl.replace('http', 'ws'));
    ws.send('{"jsonrpc":"2.0","id":1,"method":"rootSubscribe"}');
    expect(await next()).toMatchObject({ id: 1, result: expect.any(Number) });
    ws.close();
  });
});
