import { describe, expect, it } from 'vitest';
import { sleep, startSim } from './test-support.ts';

type SimplePrice = Record<string, { usd?: number | null; last_updated_at?: number }>;

async function simplePrice(base: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api/v3/simple/price?${query}`, { headers });
  return { status: res.status, body: (await res.json()) as unknown };
}

const FULL = 'vs_currencies=usd&include_last_updated_at=true&precision=full';

describe('CoinGecko /api/v3/simple/price', () => {
  it('returns { coin: { usd, last_updated_at } } from the same walk as Pyth, plus small noise', async () => {
    const sim = await startSim();
    const { status, body } = await simplePrice(sim.url, `ids=solana,bitcoin,not-a-coin&${FULL}`);
    expect(status).toBe(200);
    const prices = body as SimplePrice;
    expect(Object.keys(prices).sort()).toEqual(['bitcoin', 'solana']);
    const nowSec = Math.floor(Date.now() / 1000);
    for (const [coin, p] of Object.entries(prices)) {
      expect(Object.keys(p).sort()).toEqual(['last_updated_at', 'usd']);
      expect(Math.abs(p.last_updated_at! - nowSec)).toBeLessThanOrEqual(2);
      const feed = sim.prices([coin])[0]!;
      // Exactly the sample the simulator holds, within a few bps of the underlying market.
      expect(p.usd).toBe(feed.coingecko!.usd);
      expect(Math.abs(p.usd! / feed.value - 1)).toBeLessThan(0.003);
    }
    expect(prices.solana!.usd).toBeGreaterThan(120);
    expect(prices.bitcoin!.usd).toBeGreaterThan(80_000);
  });

  it('rounds unless precision=full, and leaves out last_updated_at unless asked', async () => {
    const sim = await startSim();
    const two = (await simplePrice(sim.url, 'ids=solana&vs_currencies=usd&precision=2')).body as SimplePrice;
    expect(Object.keys(two.solana!)).toEqual(['usd']);
    expect(two.solana!.usd).toBe(Number(sim.prices(['solana'])[0]!.coingecko!.usd.toFixed(2)));
    const bonk = (await simplePrice(sim.url, 'ids=bonk&vs_currencies=usd')).body as SimplePrice;
    expect(bonk.bonk!.usd).toBeGreaterThan(0.00001);
    expect(bonk.bonk!.usd).toBeLessThan(0.00003);
    const eur = (await simplePrice(sim.url, 'ids=solana&vs_currencies=eur')).body;
    expect(eur).toEqual({ solana: {} });
  });

  it('rejects missing parameters with CoinGecko-style errors', async () => {
    const sim = await startSim();
    expect(await simplePrice(sim.url, 'ids=solana')).toEqual({
      status: 400,
      body: { error: 'Missing parameter vs_currencies' },
    });
    expect((await simplePrice(sim.url, 'vs_currencies=usd')).status).toBe(400);
    expect((await simplePrice(sim.url, 'ids=solana&vs_currencies=usd&precision=99')).status).toBe(400);
  });

  it('refreshes every coingeckoIntervalMs with a new last_updated_at', async () => {
    const sim = await startSim({ coingeckoIntervalMs: 200 });
    const first = (await simplePrice(sim.url, `ids=solana&${FULL}`)).body as SimplePrice;
    let latest = first;
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline && latest.solana!.last_updated_at === first.solana!.last_updated_at) {
      await sleep(100);
      latest = (await simplePrice(sim.url, `ids=solana&${FULL}`)).body as SimplePrice;
    }
    expect(latest.solana!.last_updated_at).toBeGreaterThan(first.solana!.last_updated_at!);
    expect(latest.solana!.usd).not.toBe(first.solana!.usd);
  });

  it('requires the API key when configured, as header or query parameter', async () => {
    const sim = await startSim({ coingeckoApiKey: 'cg-test-key' });
    const q = `ids=solana&${FULL}`;
    expect(await simplePrice(sim.url, q)).toEqual({
      status: 401,
      body: { status: { error_code: 10002, error_message: 'API Key Missing' } },
    });
    expect((await simplePrice(sim.url, q, { 'x-cg-pro-api-key': 'wrong' })).status).toBe(401);
    expect((await simplePrice(sim.url, q, { 'x-cg-pro-api-key': 'cg-test-key' })).status).toBe(200);
    expect((await simplePrice(sim.url, q, { 'x-cg-demo-api-key': 'cg-test-key' })).status).toBe(200);
    expect((await simplePrice(sim.url, `${q}&x_cg_demo_api_key=cg-test-key`)).status).toBe(200);
  });
});
