// PriceUpdateV2 accounts written from Hermes: the conversion, the account bytes, and the SSE feed's
// recovery (absent source, dropped stream, silent stream, bad payloads) against the real simulator.
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Keypair, PublicKey } from '@solana/web3.js';
import { HermesClient } from '@pythnetwork/hermes-client';
import { PRICE_UPDATE_V2_SIZE, decodePriceUpdateV2 } from '../../programs/client/pyth-price-update.ts';
import { loadMarkets } from '../../runtime/markets.ts';
import { createMarketSim, type MarketSim } from '../market-sim/market-sim.ts';
import type { AccountCheat, ChainAccount } from './bootstrap.ts';
import { HermesAccountFeed, PriceUpdateWriter, priceMessageFromHermes, priceUpdateAddress, type PythFeedTarget } from './pyth-accounts.ts';
import { DEFAULT_MARKETS_FILE } from './quantdesk-bootstrap.ts';
import { freePort } from '../free-port.ts';

const registry = loadMarkets(DEFAULT_MARKETS_FILE);
const silent = pino({ level: 'silent' });
/** Any id works as the owner: the receiver id is configuration. */
const receiver = Keypair.generate().publicKey;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The chain as the writer sees it, in memory: the accounts written, in order, at a settable slot (the
 * same writes against surfpool are in quantdesk.test.ts). */
class MemoryChain implements AccountCheat {
  readonly accounts = new Map<string, ChainAccount>();
  readonly written: string[] = [];
  slotNow = 1n;
  async slot() {
    return this.slotNow;
  }
  async setAccount(address: PublicKey, account: ChainAccount) {
    this.accounts.set(address.toBase58(), account);
    this.written.push(address.toBase58());
  }
  readAccount(address: string) {
    return this.accounts.get(address);
  }
}

const ledger = () => new MemoryChain();
const LAMPORTS = 1_823_520n;

const targets: PythFeedTarget[] = registry.all.map((m) => ({ symbol: m.symbol, feedId: m.pythFeedId, address: priceUpdateAddress(m.pythFeedId, receiver) }));

function writer(l: MemoryChain): PriceUpdateWriter {
  return new PriceUpdateWriter({ chain: l, lamports: LAMPORTS, receiver, writeAuthority: Keypair.generate().publicKey, targets });
}

async function startSim(port = 0): Promise<MarketSim> {
  const sim = createMarketSim({ port, seed: 5, logLevel: 'silent' });
  await sim.start();
  cleanups.push(() => sim.stop());
  return sim;
}

function feed(url: string, w: PriceUpdateWriter, timing: { silenceMs?: number } = {}): HermesAccountFeed {
  const f = new HermesAccountFeed({ hermesUrl: url, writer: w, log: silent, initialBackoffMs: 50, maxBackoffMs: 200, ...timing });
  f.start();
  cleanups.push(() => f.stop());
  return f;
}

async function until(what: string, check: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}


const sol = registry.bySymbol('SOL-PERP')!;

describe('priceMessageFromHermes', () => {
  it('converts a simulator entry exactly, EMA and previous publish time included', async () => {
    const sim = await startSim();
    const latest = await new HermesClient(sim.url, { httpRetries: 0 }).getLatestPriceUpdates([sol.pythFeedId], { parsed: true });
    const entry = latest.parsed![0]!;
    const m = priceMessageFromHermes(entry);
    expect(m).toEqual({
      feedId: sol.pythFeedId,
      price: BigInt(entry.price.price),
      conf: BigInt(entry.price.conf),
      exponent: entry.price.expo,
      publishTime: BigInt(entry.price.publish_time),
      prevPublishTime: BigInt(entry.metadata.prev_publish_time!),
      emaPrice: BigInt(entry.ema_price.price),
      emaConf: BigInt(entry.ema_price.conf),
    });
  });

  it('names what an account cannot hold, and defaults what Hermes may omit', () => {
    const base = { id: `0x${sol.pythFeedId}`, price: { price: '15000000000', conf: '1000', expo: -8, publish_time: 1_800_000_000 } };
    expect(priceMessageFromHermes(base)).toMatchObject({ feedId: sol.pythFeedId, prevPublishTime: 1_800_000_000n, emaPrice: 15_000_000_000n, emaConf: 1000n });
    expect(priceMessageFromHermes({ ...base, price: { ...base.price, price: 'NaN' } })).toEqual({ invalid: 'price "NaN" is not an integer' });
    expect(priceMessageFromHermes({ ...base, price: { ...base.price, price: '9223372036854775808' } })).toEqual({ invalid: 'price 9223372036854775808 does not fit the account' });
    expect(priceMessageFromHermes({ ...base, price: { ...base.price, conf: '-1' } })).toEqual({ invalid: 'conf -1 does not fit the account' });
    expect(priceMessageFromHermes({ ...base, price: { ...base.price, expo: 2.5 } })).toEqual({ invalid: 'exponent 2.5 is not an i32' });
    expect(priceMessageFromHermes({ ...base, id: 'abc' })).toHaveProperty('invalid');
    expect(priceMessageFromHermes({ id: sol.pythFeedId })).toHaveProperty('invalid');
    // Negative prices and extreme exponents fit: the program, not the poster, refuses them.
    expect(priceMessageFromHermes({ ...base, price: { ...base.price, price: '-5', expo: -40 } })).toMatchObject({ price: -5n, exponent: -40 });
  });
});

describe('PriceUpdateWriter', () => {
  it('writes a receiver-owned, fully verified account of the given lamports at the current slot', async () => {
    const l = ledger();
    const w = writer(l);
    l.slotNow = 7n;
    const address = priceUpdateAddress(sol.pythFeedId, receiver);
    const outcome = await w.write({ id: sol.pythFeedId, price: { price: '15000000000', conf: '1000', expo: -8, publish_time: 1_800_000_000 } });
    expect(outcome).toEqual({ written: { symbol: 'SOL-PERP', feedId: sol.pythFeedId, address } });
    expect(l.written).toEqual([address.toBase58()]);
    const account = l.readAccount(address.toBase58())!;
    expect(account.owner).toBe(receiver.toBase58());
    expect(account.data.length).toBe(PRICE_UPDATE_V2_SIZE);
    expect(account.lamports).toBe(LAMPORTS);
    const u = decodePriceUpdateV2(account.data);
    expect(u).toMatchObject({ verification: { kind: 'full' }, feedId: sol.pythFeedId, price: 15_000_000_000n, publishTime: 1_800_000_000n, postedSlot: 7n });
    expect(await w.write({ id: 'aa'.repeat(32), price: { price: '1', conf: '0', expo: 0, publish_time: 1 } })).toEqual({ skipped: 'unknown-feed', detail: 'aa'.repeat(32) });
  });

  it('derives one address per feed and receiver id', () => {
    const other = Keypair.generate().publicKey;
    expect(priceUpdateAddress(sol.pythFeedId, receiver).equals(priceUpdateAddress(`0x${sol.pythFeedId.toUpperCase()}`, receiver))).toBe(true);
    expect(priceUpdateAddress(sol.pythFeedId, receiver).equals(priceUpdateAddress(sol.pythFeedId, other))).toBe(false);
    expect(PublicKey.isOnCurve(priceUpdateAddress(sol.pythFeedId, receiver).toBytes())).toBe(false);
  });
});

describe('HermesAccountFeed', () => {
  it('keeps retrying while Hermes is absent and starts writing once it comes up', async () => {
    const port = await freePort();
    const l = ledger();
    const f = feed(`http://127.0.0.1:${port}`, writer(l));
    await until('two failed attempts', () => f.status.reconnects >= 2);
    expect(f.status.written).toBe(0);
    const sim = await startSim(port);
    await until('an update written', () => f.status.written > 0);
    const u = decodePriceUpdateV2(l.readAccount(priceUpdateAddress(sol.pythFeedId, receiver).toBase58())!.data);
    expect(sim.publishedAt(u.feedId, Number(u.publishTime), u.price.toString())).toEqual(expect.any(Number));
    expect(f.status.connected).toBe(true);
  });

  it('reopens a dropped stream and goes on writing', async () => {
    const sim = await startSim();
    const l = ledger();
    const f = feed(sim.url, writer(l));
    await until('connected', () => f.status.written > 0);
    const droppedAt = Date.now();
    sim.control.drop('pyth');
    await until('a reconnect', () => f.status.reconnects >= 1);
    const address = priceUpdateAddress(sol.pythFeedId, receiver).toBase58();
    // An update published after the drop reaches the account through the new stream.
    await until('a post-drop update', () => {
      const u = decodePriceUpdateV2(l.readAccount(address)!.data);
      return (sim.publishedAt(u.feedId, Number(u.publishTime), u.price.toString()) ?? 0) > droppedAt;
    });
  });

  it('treats a silent stream as dead and recovers when the source speaks again', async () => {
    const sim = await startSim();
    const l = ledger();
    const f = feed(sim.url, writer(l), { silenceMs: 400 });
    await until('connected', () => f.status.written > 0);
    sim.control.stall('pyth');
    await until('a silence reconnect', () => f.status.reconnects >= 1);
    const written = f.status.written;
    sim.control.unstall('pyth');
    await until('writing again', () => f.status.written > written);
  });

  it('skips bad payloads and unrepresentable prices without stopping', async () => {
    const sim = await startSim();
    const l = ledger();
    const f = feed(sim.url, writer(l));
    await until('connected', () => f.status.written > 0);
    sim.control.inject('pyth', 'nan-price', { count: 1, feeds: ['BTC-PERP'] });
    await until('the NaN price skipped', () => f.status.skipped === 1);
    sim.control.inject('pyth', 'malformed-json', { count: 1 });
    await until('the malformed message skipped', () => f.status.skipped === 2);
    const written = f.status.written;
    await until('writing on', () => f.status.written > written);
  });

  it('writes nothing after stop', async () => {
    const sim = await startSim();
    const l = ledger();
    const f = feed(sim.url, writer(l));
    await until('connected', () => f.status.written > 0);
    f.stop();
    const written = f.status.written;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(f.status).toMatchObject({ written, connected: false });
  });
});
