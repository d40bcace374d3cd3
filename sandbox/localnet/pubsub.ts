// The Solana WebSocket PubSub API: account, program, signature, slot, root and logs subscriptions,
// fed by the Ledger's slot, transaction and account-write events.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { answerBody, invalidParams, stringifyJson, type MethodTable } from './json-rpc.ts';
import { accountEncoding, commitment, dataSlice, filter, parseParams, pubkey, signature, type Commitment } from './rpc-params.ts';
import {
  checkEncoding,
  compileFilters,
  encodeAccount,
  matchesFilters,
  type AccountEncoding,
  type AccountFilter,
  type AccountView,
  type DataSlice,
} from './account-encoding.ts';
import type { LandedTransaction, Ledger, SlotInfo } from './ledger.ts';
import { SYSTEM_PROGRAM_ID } from './wire.ts';

const VOTE_PROGRAM_ID = 'Vote111111111111111111111111111111111111111';

type Finality = 'confirmed' | 'finalized';

interface SubBase {
  id: number;
  ws: WebSocket;
}
type Subscription =
  | (SubBase & { kind: 'account'; address: string; encoding: AccountEncoding; slice: DataSlice | undefined; fingerprint: string })
  | (SubBase & { kind: 'program'; programId: string; encoding: AccountEncoding; slice: DataSlice | undefined; filters: AccountFilter[] })
  | (SubBase & { kind: 'signature'; signature: string; finality: Finality; received: boolean })
  | (SubBase & { kind: 'slot' })
  | (SubBase & { kind: 'root' })
  | (SubBase & { kind: 'logs'; mentions: string | null; includeVotes: boolean });

type Kind = Subscription['kind'];

const accountSubConfig = z.object({ commitment: commitment.optional(), encoding: accountEncoding.optional(), dataSlice: dataSlice.optional() });
const parse = parseParams;

function finalityOf(c: Commitment | undefined): Finality {
  // A validator's default commitment is finalized.
  return c === 'finalized' || c === 'root' || c === 'max' || c === undefined ? 'finalized' : 'confirmed';
}

function fingerprint(account: AccountView | null): string {
  if (account === null) return 'none';
  const digest = createHash('sha1').update(account.data).digest('hex');
  return `${account.lamports}:${account.owner}:${account.executable}:${digest}`;
}

/** A closed account is reported as an empty system account, as a validator does. */
const CLOSED_ACCOUNT: AccountView = { lamports: 0n, owner: SYSTEM_PROGRAM_ID, executable: false, data: new Uint8Array() };

export class PubSub {
  readonly #ledger: Ledger;
  readonly #log: Logger;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #byId = new Map<number, Subscription>();
  readonly #byConnection = new Map<WebSocket, Set<number>>();
  readonly #unsubscribeLedger: (() => void)[];
  #nextId = 1;

  constructor(ledger: Ledger, log: Logger) {
    this.#ledger = ledger;
    this.#log = log;
    this.#wss.on('connection', (ws) => this.#attach(ws));
    this.#unsubscribeLedger = [
      ledger.slots.on((info) => this.#onSlot(info)),
      ledger.transactions.on((record) => this.#onTransaction(record)),
      ledger.accountsWritten.on((addresses) => this.#onAccountsWritten(addresses)),
    ];
  }

  /** Takes over an HTTP upgrade request (from the PubSub port or the RPC port). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
  }

  get subscriptionCount(): number {
    return this.#byId.size;
  }

  async close(): Promise<void> {
    for (const off of this.#unsubscribeLedger) off();
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #attach(ws: WebSocket): void {
    this.#byConnection.set(ws, new Set());
    const methods = this.#methodsFor(ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const answer = answerBody(data.toString(), methods, (method, err) =>
        this.#log.error({ method, err }, 'pubsub.internal_error'),
      );
      if (answer !== null) ws.send(answer);
    });
    ws.on('close', () => {
      for (const id of this.#byConnection.get(ws) ?? []) this.#byId.delete(id);
      this.#byConnection.delete(ws);
    });
    ws.on('error', (err) => this.#log.debug({ err }, 'pubsub.socket_error'));
  }

  #add<S extends Subscription>(sub: S): number {
    this.#byId.set(sub.id, sub);
    this.#byConnection.get(sub.ws)?.add(sub.id);
    this.#log.debug({ id: sub.id, kind: sub.kind }, 'pubsub.subscribed');
    return sub.id;
  }

  #remove(id: number): void {
    const sub = this.#byId.get(id);
    if (sub === undefined) return;
    this.#byId.delete(id);
    this.#byConnection.get(sub.ws)?.delete(id);
  }

  #methodsFor(ws: WebSocket): MethodTable {
    const methods = new Map<string, (params: unknown[]) => unknown>();
    const unsubscribe = (kind: Kind) => (params: unknown[]) => {
      const [id] = parse(z.tuple([z.number().int()]), params);
      const sub = this.#byId.get(id);
      if (sub === undefined || sub.kind !== kind || sub.ws !== ws) throw invalidParams('Invalid subscription id.');
      this.#remove(id);
      return true;
    };

    methods.set('accountSubscribe', (params) => {
      const [address, config] = parse(z.tuple([pubkey, accountSubConfig.nullish()]), params);
      const encoding = config?.encoding ?? 'binary';
      checkEncoding(encoding, config?.dataSlice);
      return this.#add({
        kind: 'account',
        id: this.#nextId++,
        ws,
        address,
        encoding,
        slice: config?.dataSlice,
        fingerprint: fingerprint(this.#ledger.readAccount(address)),
      });
    });
    methods.set('accountUnsubscribe', unsubscribe('account'));

    methods.set('programSubscribe', (params) => {
      const config = accountSubConfig.extend({ filters: z.array(filter).nullish() });
      const [programId, cfg] = parse(z.tuple([pubkey, config.nullish()]), params);
      const encoding = cfg?.encoding ?? 'binary';
      checkEncoding(encoding, cfg?.dataSlice);
      return this.#add({
        kind: 'program',
        id: this.#nextId++,
        ws,
        programId,
        encoding,
        slice: cfg?.dataSlice,
        filters: compileFilters(cfg?.filters ?? []),
      });
    });
    methods.set('programUnsubscribe', unsubscribe('program'));

    methods.set('signatureSubscribe', (params) => {
      const config = z.object({ commitment: commitment.optional(), enableReceivedNotification: z.boolean().optional() });
      const [sig, cfg] = parse(z.tuple([signature, config.nullish()]), params);
      const id = this.#add({
        kind: 'signature',
        id: this.#nextId++,
        ws,
        signature: sig,
        finality: finalityOf(cfg?.commitment),
        received: cfg?.enableReceivedNotification ?? false,
      });
      // After the subscription id has gone out: a transaction that already landed is reported at once.
      setImmediate(() => this.#checkSignature(id));
      return id;
    });
    methods.set('signatureUnsubscribe', unsubscribe('signature'));

    methods.set('slotSubscribe', () => this.#add({ kind: 'slot', id: this.#nextId++, ws }));
    methods.set('slotUnsubscribe', unsubscribe('slot'));
    methods.set('rootSubscribe', () => this.#add({ kind: 'root', id: this.#nextId++, ws }));
    methods.set('rootUnsubscribe', unsubscribe('root'));

    methods.set('logsSubscribe', (params) => {
      const logsFilter = z.union([z.literal('all'), z.literal('allWithVotes'), z.object({ mentions: z.array(pubkey) })]);
      const [which] = parse(z.tuple([logsFilter, z.object({ commitment: commitment.optional() }).nullish()]), params);
      if (typeof which === 'object' && which.mentions.length !== 1) {
        throw invalidParams('Invalid Request: Only 1 address supported');
      }
      return this.#add({
        kind: 'logs',
        id: this.#nextId++,
        ws,
        mentions: typeof which === 'object' ? (which.mentions[0] ?? null) : null,
        includeVotes: which === 'allWithVotes',
      });
    });
    methods.set('logsUnsubscribe', unsubscribe('logs'));
    return methods;
  }

  #notify(sub: Subscription, method: string, result: unknown): void {
    if (sub.ws.readyState !== sub.ws.OPEN) return;
    sub.ws.send(stringifyJson({ jsonrpc: '2.0', method, params: { result, subscription: sub.id } }));
  }

  #context() {
    return { slot: this.#ledger.slot };
  }

  #encode(account: AccountView, encoding: AccountEncoding, slice: DataSlice | undefined) {
    return encodeAccount(account, encoding, slice, this.#ledger, false);
  }

  #notifyAccount(sub: Extract<Subscription, { kind: 'account' }>, account: AccountView | null): void {
    sub.fingerprint = fingerprint(account);
    this.#notify(sub, 'accountNotification', {
      context: this.#context(),
      value: this.#encode(account ?? CLOSED_ACCOUNT, sub.encoding, sub.slice),
    });
  }

  #checkSignature(id: number): void {
    const sub = this.#byId.get(id);
    if (sub?.kind !== 'signature') return;
    const record = this.#ledger.getTransaction(sub.signature);
    if (record === null) return;
    if (sub.finality === 'finalized' && record.slot > this.#ledger.rootSlot) return;
    // Signature subscriptions end with their notification, as on a validator.
    this.#remove(id);
    // The context is the bank the status was read at: the root for finalized, else the current slot.
    const slot = sub.finality === 'finalized' ? this.#ledger.rootSlot : this.#ledger.slot;
    this.#notify(sub, 'signatureNotification', { context: { slot }, value: { err: record.err } });
  }

  #onSlot(info: SlotInfo): void {
    for (const sub of [...this.#byId.values()]) {
      if (sub.kind === 'slot') this.#notify(sub, 'slotNotification', info);
      else if (sub.kind === 'root' && info.root > 0) this.#notify(sub, 'rootNotification', info.root);
      else if (sub.kind === 'signature' && sub.finality === 'finalized') this.#checkSignature(sub.id);
      else if (sub.kind === 'account') {
        // Catches writes made straight into the SVM (svm.setAccount) rather than through the Ledger.
        const account = this.#ledger.readAccount(sub.address);
        if (fingerprint(account) !== sub.fingerprint) this.#notifyAccount(sub, account);
      }
    }
  }

  #onTransaction(record: LandedTransaction): void {
    const isVote = record.keys.keys.includes(VOTE_PROGRAM_ID);
    for (const sub of [...this.#byId.values()]) {
      if (sub.kind === 'signature' && sub.signature === record.signature) {
        if (sub.received) this.#notify(sub, 'signatureNotification', { context: { slot: record.slot }, value: 'receivedSignature' });
        this.#checkSignature(sub.id);
      } else if (sub.kind === 'logs') {
        if (isVote && !sub.includeVotes) continue;
        if (sub.mentions !== null && !record.keys.keys.includes(sub.mentions)) continue;
        this.#notify(sub, 'logsNotification', {
          context: { slot: record.slot },
          value: { signature: record.signature, err: record.err, logs: record.logs },
        });
      }
    }
  }

  #onAccountsWritten(addresses: string[]): void {
    if (this.#byId.size === 0) return;
    const written = new Set(addresses);
    const accounts = new Map<string, AccountView | null>();
    const read = (address: string) => {
      if (!accounts.has(address)) accounts.set(address, this.#ledger.readAccount(address));
      return accounts.get(address) ?? null;
    };
    for (const sub of [...this.#byId.values()]) {
      if (sub.kind === 'account' && written.has(sub.address)) {
        this.#notifyAccount(sub, read(sub.address));
      } else if (sub.kind === 'program') {
        for (const address of written) {
          const account = read(address);
          if (account === null || account.owner !== sub.programId || !matchesFilters(account, sub.filters)) continue;
          this.#notify(sub, 'programNotification', {
            context: this.#context(),
            value: { pubkey: address, account: this.#encode(account, sub.encoding, sub.slice) },
          });
        }
      }
    }
  }
}

/** A dedicated PubSub port (the validator's RPC port + 1); plain HTTP requests there get 426. */
export async function startPubSubServer(
  pubsub: PubSub,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('WebSocket upgrade required');
  });
  server.on('upgrade', (req, socket, head) => pubsub.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
