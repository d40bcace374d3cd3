import { HermesClient } from '@pythnetwork/hermes-client';
import { createHermesClient } from '../../activities/ingest/hermes.ts';
import { describe, expect, it } from 'vitest';
import { BONK, BTC, ETH, JUP, recordMessages, SOL, sleep, startSim, track, waitFor } from './test-support.ts';

interface Parsed {
  id: string;
  price: { price: string; conf: string; expo: number; publish_time: number };
  ema_price: { price: string; conf: string; expo: number; publish_time: number };
  metadata: { slot: number; proof_available_time: number; prev_publish_time: number };
}

const usd = (p: { price: string; expo: number }) => Number(p.price) * 10 ** p.expo;

describe('Hermes v2 API through the real HermesClient', () => {
  it('lists the registry feeds with Hermes attributes, filtered by query and asset type', async () => {
    const sim = await startSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });

    const all = await client.getPriceFeeds();
    expect(all.map((f) => f.id).sort()).toEqual([SOL, BTC, ETH, JUP, BONK].sort());
    const sol = all.find((f) => f.id === SOL);
    expect(sol?.attributes).toMatchObject({
      symbol: 'Crypto.SOL/USD',
      base: 'SOL',
      quote_currency: 'USD',
      asset_type: 'Crypto',
      display_symbol: 'SOL/USD',
    });

    const btc = await client.getPriceFeeds({ query: 'btc' });
    expect(btc.map((f) => f.id)).toEqual([BTC]);
    expect(await client.getPriceFeeds({ assetType: 'crypto' })).toHaveLength(5);
    expect(await client.getPriceFeeds({ assetType: 'fx' })).toHaveLength(0);
  });

  it('serves latest updates at realistic levels, ids with or without 0x, ids returned without 0x', async () => {
    const sim = await startSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });

    const res = await client.getLatestPriceUpdates([`0x${SOL}`, BTC, `0x${ETH.toUpperCase()}`, JUP, BONK]);
    const parsed = res.parsed as Parsed[];
    expect(parsed.map((p) => p.id)).toEqual([SOL, BTC, ETH, JUP, BONK]);
    const by = Object.fromEntries(parsed.map((p) => [p.id, p]));
    const nowSec = Math.floor(Date.now() / 1000);

    expect(usd(by[SOL]!.price)).toBeGreaterThan(120);
    expect(usd(by[SOL]!.price)).toBeLessThan(180);
    expect(usd(by[BTC]!.price)).toBeGreaterThan(80_000);
    expect(usd(by[BTC]!.price)).toBeLessThan(110_000);
    expect(usd(by[ETH]!.price)).toBeGreaterThan(2_800);
    expect(usd(by[ETH]!.price)).toBeLessThan(3_800);
    expect(usd(by[JUP]!.price)).toBeGreaterThan(0.8);
    expect(usd(by[JUP]!.price)).toBeLessThan(1.2);
    expect(by[BONK]!.price.expo).toBe(-10);
    expect(usd(by[BONK]!.price)).toBeGreaterThan(0.000016);
    expect(usd(by[BONK]!.price)).toBeLessThan(0.000024);
    for (const p of parsed) {
      expect(p.price.price).toMatch(/^\d+$/);
      if (p.id !== BONK) expect(p.price.expo).toBe(-8);
      expect(Math.abs(p.price.publish_time - nowSec)).toBeLessThanOrEqual(2);
      expect(p.ema_price.publish_time).toBe(p.price.publish_time);
      // Confidence: a few bps for majors, wider for alts, never zero.
      const confBps = (Number(p.price.conf) / Number(p.price.price)) * 10_000;
      const [lo, hi] = p.id === JUP || p.id === BONK ? [10, 60] : [2, 10];
      expect(confBps).toBeGreaterThanOrEqual(lo * 0.9);
      expect(confBps).toBeLessThanOrEqual(hi * 1.1);
      // The EMA tracks the price closely over a short run.
      expect(Math.abs(Number(p.ema_price.price) / Number(p.price.price) - 1)).toBeLessThan(0.01);
      expect(p.metadata.slot).toBeGreaterThan(0);
    }
    expect(res.binary.encoding).toBe('hex');
    expect(res.binary.data).toHaveLength(1);
    // Magic "QDSM", version 1, five entries.
    expect(res.binary.data[0]!.slice(0, 14)).toBe(`${Buffer.from('QDSM').toString('hex')}010005`);

    const b64 = await client.getLatestPriceUpdates([SOL], { encoding: 'base64', parsed: false });
    expect(b64.binary.encoding).toBe('base64');
    expect(Buffer.from(b64.binary.data[0]!, 'base64').subarray(0, 4).toString()).toBe('QDSM');
    expect(b64.parsed ?? undefined).toBeUndefined();
  });

  it('answers unknown ids with 404 like Hermes, unless asked to ignore them; bad ids with 400', async () => {
    const sim = await startSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const unknown = 'ab'.repeat(32);

    await expect(client.getLatestPriceUpdates([SOL, `0x${unknown}`])).rejects.toThrow(
      `status: 404, body: Price ids not found: ${unknown}`,
    );
    const some = await client.getLatestPriceUpdates([SOL, unknown], { ignoreInvalidPriceIds: true });
    expect((some.parsed as Parsed[]).map((p) => p.id)).toEqual([SOL]);
    await expect(client.getLatestPriceUpdates(['not-hex'])).rejects.toThrow('status: 400');

    const stream = track(await client.getPriceUpdatesStream([unknown], { parsed: true }));
    const rec = recordMessages(stream);
    await waitFor(() => rec.errors.length > 0, 'stream error');
    expect(rec.errors[0]!.code).toBe(404);
    expect(stream.readyState).toBe(stream.CLOSED);
  });

  it('streams parsed updates at about 2.5 per second, one per slot, publish times following the clock', async () => {
    const sim = await startSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const stream = track(await client.getPriceUpdatesStream([SOL, `0x${BTC}`], { parsed: true }));
    const rec = recordMessages(stream);
    await sleep(3_000);

    const updates = rec.messages.map((m) => JSON.parse(m.data) as { parsed: Parsed[] });
    // 3 s at one update per 400 ms: 7 or 8, give or take scheduling.
    expect(updates.length).toBeGreaterThanOrEqual(6);
    expect(updates.length).toBeLessThanOrEqual(9);
    let previous: Parsed | undefined;
    for (const u of updates) {
      expect(u.parsed.map((p) => p.id)).toEqual([SOL, BTC]);
      const sol = u.parsed[0]!;
      expect(Math.abs(sol.price.publish_time - Math.floor(Date.now() / 1000))).toBeLessThanOrEqual(4);
      if (previous !== undefined) {
        expect(sol.metadata.slot).toBeGreaterThan(previous.metadata.slot);
        expect(sol.price.publish_time).toBeGreaterThanOrEqual(previous.price.publish_time);
        expect(sol.metadata.prev_publish_time).toBe(previous.price.publish_time);
      }
      previous = sol;
    }
    // Publish times advance with real time: 3 s of updates span at least 2 distinct seconds.
    expect(new Set(updates.map((u) => u.parsed[0]!.price.publish_time)).size).toBeGreaterThanOrEqual(2);
    // The walk moves.
    expect(new Set(updates.map((u) => u.parsed[0]!.price.price)).size).toBeGreaterThan(1);
  });

  it('with strictPublishTime, streams strictly increasing publish times', async () => {
    const sim = await startSim({ strictPublishTime: true });
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const stream = track(await client.getPriceUpdatesStream([SOL, BTC], { parsed: true }));
    const rec = recordMessages(stream);
    await waitFor(() => rec.messages.length >= 3, 'three updates', 6_000);

    const times = rec.messages.map((m) => (JSON.parse(m.data) as { parsed: Parsed[] }).parsed[0]!.price.publish_time);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
    for (const m of rec.messages) {
      const sol = (JSON.parse(m.data) as { parsed: Parsed[] }).parsed[0]!;
      expect(sim.publishedAt(SOL, sol.price.publish_time)).toBeDefined();
    }
  });

  it('honours a per-feed update rate', async () => {
    const sim = await startSim({ feedRates: { 'SOL-PERP': 10 }, updatesPerSecond: 2 });
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const rec = recordMessages(track(await client.getPriceUpdatesStream([SOL, BTC], { parsed: true })));
    await sleep(2_000);
    const count = (id: string) =>
      rec.messages.filter((m) => (JSON.parse(m.data) as { parsed: Parsed[] }).parsed.some((p) => p.id === id)).length;
    expect(count(SOL)).toBeGreaterThanOrEqual(15);
    expect(count(BTC)).toBeLessThanOrEqual(5);
    expect(count(BTC)).toBeGreaterThanOrEqual(3);
  });

  it('records when each streamed update was published, in-process and over HTTP', async () => {
    const sim = await startSim();
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const rec = recordMessages(track(await client.getPriceUpdatesStream([SOL], { parsed: true })));
    await waitFor(() => rec.messages.length >= 3, 'three updates');

    for (const m of rec.messages) {
      const p = (JSON.parse(m.data) as { parsed: Parsed[] }).parsed[0]!;
      const at = sim.publishedAt(`0x${SOL}`, p.price.publish_time, p.price.price);
      expect(at).toBeDefined();
      expect(at!).toBeLessThanOrEqual(m.at);
      expect(m.at - at!).toBeLessThan(500);
    }
    const last = (JSON.parse(rec.messages.at(-1)!.data) as { parsed: Parsed[] }).parsed[0]!;
    const res = await fetch(
      `${sim.url}/control/published?feed=SOL-PERP&publish_time=${last.price.publish_time}&price=${last.price.price}`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { publishedAtMs: number };
    expect(body.publishedAtMs).toBe(sim.publishedAt(SOL, last.price.publish_time, last.price.price));
    const missing = await fetch(`${sim.url}/control/published?feed=SOL-PERP&publish_time=1`);
    expect(missing.status).toBe(404);
  });

  it('requires the bearer key when one is configured', async () => {
    const sim = await startSim({ pythApiKey: 'hermes-test-key' });
    const anonymous = createHermesClient({ url: sim.url });
    const wrong = createHermesClient({ url: sim.url, apiKey: 'nope' });
    const keyed = createHermesClient({ url: sim.url, apiKey: 'hermes-test-key' });

    await expect(anonymous.getLatestPriceUpdates([SOL])).rejects.toThrow('status: 401');
    await expect(wrong.getPriceFeeds()).rejects.toThrow('status: 401');
    expect((await keyed.getLatestPriceUpdates([SOL])).parsed).toHaveLength(1);
    expect(await keyed.getPriceFeeds()).toHaveLength(5);
    // Hermes also takes the token as a query parameter.
    expect((await fetch(`${sim.url}/v2/price_feeds?ACCESS_TOKEN=hermes-test-key`)).status).toBe(200);

    const denied = recordMessages(track(await anonymous.getPriceUpdatesStream([SOL], { parsed: true })));
    const allowed = recordMessages(track(await keyed.getPriceUpdatesStream([SOL], { parsed: true })));
    await waitFor(() => denied.errors.length > 0 && allowed.messages.length > 0, 'denied and allowed streams');
    expect(denied.errors[0]!.code).toBe(401);
    expect(denied.messages).toHaveLength(0);
  });

  it('adds synthetic feeds for benchmarks, thousands of ids fitting in one request', async () => {
    const sim = await startSim({ extraFeeds: 2_000 });
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    const feeds = await client.getPriceFeeds();
    expect(feeds).toHaveLength(2_005);
    const synthetic = feeds.filter((f) => f.attributes.base?.startsWith('SYN'));
    expect(synthetic).toHaveLength(2_000);
    const res = await client.getLatestPriceUpdates(synthetic.map((f) => f.id));
    expect(res.parsed).toHaveLength(2_000);
    const rec = recordMessages(track(await client.getPriceUpdatesStream(synthetic.map((f) => f.id))));
    await waitFor(() => rec.messages.length > 0, 'an update of 2,000 feeds');
    expect((JSON.parse(rec.messages[0]!.data) as { parsed: Parsed[] }).parsed).toHaveLength(2_000);
  });
});
