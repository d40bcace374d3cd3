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

  it('serves the first update at or after a publish time, from what it published, shaped as /latest', async () => {
    const sim = await startSim({ autoPublish: false });
    const client = new HermesClient(sim.url, { httpRetries: 0 });
    // start() published once; two more updates per second for three seconds, each /latest body kept.
    const bodies: { publishTime: number; body: string }[] = [];
    const keep = async () => {
      const body = await (await fetch(`${sim.url}/v2/updates/price/latest?ids[]=${SOL}&ids[]=${BTC}`)).text();
      bodies.push({ publishTime: (JSON.parse(body) as { parsed: Parsed[] }).parsed[0]!.price.publish_time, body });
    };
    await keep();
    for (let s = 0; s < 3; s++) {
      await sleep(1_000 - (Date.now() % 1_000) + 5);
      for (let i = 0; i < 2; i++) {
        sim.step();
        await keep();
      }
    }
    const seconds = [...new Set(bodies.map((b) => b.publishTime))];
    expect(seconds.length).toBeGreaterThanOrEqual(4);
    for (const t of seconds) {
      // The very bytes /latest served for the first update of that second, in the same shape and encoding.
      const at = await fetch(`${sim.url}/v2/updates/price/${t}?ids[]=${SOL}&ids[]=0x${BTC}&parsed=true&encoding=hex`);
      expect(at.status).toBe(200);
      expect(await at.text()).toBe(bodies.find((b) => b.publishTime === t)!.body);
    }
    // A second with no update of its own answers the next one published; through the real client too.
    const before = await client.getPriceUpdatesAtTimestamp(seconds[0]! - 30, [SOL], { parsed: true, encoding: 'hex' });
    expect((before.parsed as Parsed[])[0]!.price.publish_time).toBe(seconds[0]);
    const b64 = await client.getPriceUpdatesAtTimestamp(seconds[1]!, [SOL], { encoding: 'base64', parsed: false });
    expect(b64.binary.encoding).toBe('base64');
    expect(Buffer.from(b64.binary.data[0]!, 'base64').subarray(0, 4).toString()).toBe('QDSM');
    expect(b64.parsed ?? undefined).toBeUndefined();

    // Nothing at or after: 404 with a clear text. A feed without one is left out of the answer.
    const last = seconds.at(-1)!;
    await expect(client.getPriceUpdatesAtTimestamp(last + 1, [SOL, BTC])).rejects.toThrow(
      `status: 404, body: No price update at or after publish time ${last + 1} for the requested ids`,
    );
    sim.control.stall('pyth', ['BTC-PERP']);
    await sleep(1_000 - (Date.now() % 1_000) + 5);
    sim.step();
    const solOnly = await client.getPriceUpdatesAtTimestamp(last + 1, [SOL, BTC], { parsed: true });
    expect((solOnly.parsed as Parsed[]).map((p) => p.id)).toEqual([SOL]);

    // Unknown ids as on /latest; a time that is not an integer: 400.
    const unknown = 'ab'.repeat(32);
    await expect(client.getPriceUpdatesAtTimestamp(last, [SOL, unknown])).rejects.toThrow(`status: 404, body: Price ids not found: ${unknown}`);
    const ignoring = await client.getPriceUpdatesAtTimestamp(last, [SOL, unknown], { parsed: true, ignoreInvalidPriceIds: true });
    expect((ignoring.parsed as Parsed[]).map((p) => p.id)).toEqual([SOL]);
    for (const bad of ['abc', '1.5', '1e9', '']) {
      const res = await fetch(`${sim.url}/v2/updates/price/${bad}?ids[]=${SOL}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/^Invalid URL: Cannot parse/);
    }
    expect((await fetch(`${sim.url}/v2/updates/price/${last}`)).status).toBe(400); // no ids
    expect((await fetch(`${sim.url}/v2/updates/price/${last}/more?ids[]=${SOL}`)).status).toBe(404);
  });

  it('remembers publishLogSize updates per feed for /v2/updates/price/{publish_time}, the oldest going first', async () => {
    const sim = await startSim({ autoPublish: false, publishLogSize: 16 });
    const slots: number[] = [(sim.prices(['SOL-PERP'])[0]!.pyth as Parsed).metadata.slot];
    for (let i = 0; i < 19; i++) {
      sim.step();
      slots.push((sim.prices(['SOL-PERP'])[0]!.pyth as Parsed).metadata.slot);
    }
    const oldest = await fetch(`${sim.url}/v2/updates/price/0?ids[]=${SOL}`);
    expect(((await oldest.json()) as { parsed: Parsed[] }).parsed[0]!.metadata.slot).toBe(slots[4]);
    // The same window, in publish order, for the soak's loss check.
    expect(sim.published('SOL-PERP').map((u) => u.slot)).toEqual(slots.slice(4));
  });

  it('applies the auth, kill and method rules to /v2/updates/price/{publish_time}', async () => {
    const sim = await startSim({ pythApiKey: 'hermes-test-key' });
    const t = Math.floor(Date.now() / 1000) - 5;
    const path = `${sim.url}/v2/updates/price/${t}?ids[]=${SOL}`;
    expect((await fetch(path)).status).toBe(401);
    // Auth is checked before the path parameter.
    expect((await fetch(`${sim.url}/v2/updates/price/abc?ids[]=${SOL}`)).status).toBe(401);
    const keyed = createHermesClient({ url: sim.url, apiKey: 'hermes-test-key' });
    expect((await keyed.getPriceUpdatesAtTimestamp(t, [SOL], { parsed: true })).parsed).toHaveLength(1);
    expect((await fetch(path, { method: 'POST', headers: { authorization: 'Bearer hermes-test-key' } })).status).toBe(405);
    sim.control.pause('pyth');
    expect((await fetch(path, { headers: { authorization: 'Bearer hermes-test-key' } })).status).toBe(503);
    sim.control.kill('pyth');
    await expect(keyed.getPriceUpdatesAtTimestamp(t, [SOL])).rejects.toThrow();
    sim.control.restore('pyth');
    expect((await keyed.getPriceUpdatesAtTimestamp(t, [SOL], { parsed: true })).parsed).toHaveLength(1);
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
