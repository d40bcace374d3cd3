/// <reference lib="dom" />
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { format } from '../domain/decimal.ts';
import { unrealizedPnl } from '../domain/margin.ts';
import { decodePosition, marketAddress, positionAddress } from '../programs/client/quantdesk-perp.ts';
import type { Portfolio } from '../server/portfolio.ts';
import { connectClient } from '../temporal/connection.ts';
import { ROOT, testConfig, waitFor } from './support.ts';
import type { LiquidationManifest } from './liquidation-system.ts';
import { launchChromium, startWebSystem, type WebSystem } from './web-system.ts';

/**
 * The dashboard in Debian's Chromium against the whole system (simulator, localnet, gateway, ingest
 * sync and keeper workers, the built dashboard): live prices on /, the stale badge when both sources
 * die, the full trade flow with a burner wallet, a liquidation seen by its trader and on /ops, no
 * console errors, a screenshot of every page.
 */
const SHOTS = join(ROOT, '.data', 'screenshots');
/** The dashboard's display of an integer at `scale` (web/src/lib/format.ts): grouped, fixed decimals. */
function fixed(v: bigint, scale: number, decimals: number): string {
  const [int, frac] = format({ mantissa: v, scale }, decimals).split('.');
  return `${int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac ? `.${frac}` : ''}`;
}
const usd = (v: bigint) => fixed(v, 6, 2);
let sys: WebSystem;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  sys = await startWebSystem({ keeper: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${page.url()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  // A console error names no resource: say which answered an error.
  page.on('response', (r) => r.status() >= 500 && consoleErrors.push(`${page.url()}: ${r.request().method()} ${r.url()} answered ${r.status()}`));
  // Prices must be flowing before the browser looks.
  await waitFor('served prices', async () => ((await (await fetch(`${sys.gatewayUrl}/api/prices`)).json()) as { prices: { price?: unknown }[] }).prices.every((p) => p.price), 90_000, 500);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
}, 120_000);

describe('dashboard in a browser', () => {
  it('shows a price the simulator published on / within 1 s, ticking without reload', async () => {
    await page.goto(sys.webUrl);
    const sol = sys.registry.markets.find((m) => m.symbol === 'SOL-PERP')!;
    // Every rendered SOL price, with the wall-clock time it appeared.
    await page.evaluate(() => {
      const cell = document.querySelector('tr[data-symbol="SOL-PERP"] [data-testid="price"]')!;
      const seen: { mantissa: string; publishTime: number; at: number }[] = [];
      (window as unknown as { seen: typeof seen }).seen = seen;
      new MutationObserver(() => seen.push({ mantissa: cell.getAttribute('data-mantissa')!, publishTime: Number(cell.getAttribute('data-publish-time')), at: performance.timeOrigin + performance.now() })).observe(cell, { attributes: true, childList: true, subtree: true, characterData: true });
    });
    await page.waitForTimeout(5_000);
    const seen = await page.evaluate(() => (window as unknown as { seen: { mantissa: string; publishTime: number; at: number }[] }).seen);
    expect(seen.length).toBeGreaterThan(5);
    const latencies = seen.map((s) => s.at - sys.sim.publishedAt(sol.pythFeedId, s.publishTime, s.mantissa)!).filter(Number.isFinite);
    expect(latencies.length).toBeGreaterThan(5);
    latencies.sort((a, b) => a - b);
    const p90 = latencies[Math.floor(latencies.length * 0.9)]!;
    console.log(`simulator publish → rendered on /: ${latencies.length} prices, p50 ${Math.round(latencies[latencies.length >> 1]!)} ms, p90 ${Math.round(p90)} ms, max ${Math.round(latencies.at(-1)!)} ms`);
    // p90, not the maximum: on a shared 2-core machine a single update can wait behind a busy worker.
    expect(p90).toBeLessThan(1_000);
    await expect.poll(() => page.locator('tr[data-symbol="SOL-PERP"] .spark polyline').count(), { timeout: 15_000 }).toBe(1);
    await shot('markets');
  }, 60_000);

  it('marks prices stale when both sources die, and clears it when they are back', async () => {
    await page.goto(sys.webUrl);
    await page.locator('tr[data-symbol="SOL-PERP"] .badge-ok').waitFor();
    sys.sim.control.kill('pyth');
    sys.sim.control.kill('coingecko');
    try {
      await page.locator('tr[data-symbol="SOL-PERP"] [data-testid="stale-badge"]').waitFor({ timeout: 60_000 });
      await page.getByTestId('stale-banner').waitFor();
      await shot('markets-stale');
    } finally {
      sys.sim.control.restore('pyth');
      sys.sim.control.restore('coingecko');
    }
    await page.locator('tr[data-symbol="SOL-PERP"] [data-testid="stale-badge"]').waitFor({ state: 'detached', timeout: 60_000 });
    await expect.poll(() => page.getByTestId('stale-banner').count(), { timeout: 30_000 }).toBe(0);
  }, 150_000);

  it('trades with a burner wallet: fund, deposit, open long, same numbers as the API and the chain, close', async () => {
    const connection = new Connection(sys.localnet!.rpcUrl, 'confirmed');
    const programId = new PublicKey(sys.localnet!.manifest.quantdesk!.programId);
    await page.goto(`${sys.webUrl}/markets/SOL-PERP`);
    await page.getByTestId('create-burner').click();
    const wallet = (await page.getByTestId('wallet-address').getAttribute('title'))!;
    const owner = new PublicKey(wallet);
    const positionKey = positionAddress(marketAddress('SOL-PERP', programId), owner, programId);

    await page.getByTestId('fund').click();
    await expect.poll(() => page.getByTestId('wallet-usdc').textContent(), { timeout: 60_000 }).toBe('10,000.00');

    const status = page.getByTestId('tx-status');
    await page.getByTestId('tab-collateral').click();
    await page.getByTestId('amount').fill('1000');
    await page.getByTestId('review').click();
    await page.getByTestId('confirm').click();
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/Confirmed in slot/);
    await expect.poll(() => page.getByTestId('collateral').textContent(), { timeout: 10_000 }).toBe('1,000.00');

    await page.getByRole('button', { name: 'Position' }).click();
    await page.getByTestId('side-long').click();
    await page.getByTestId('size').fill('2');
    await expect.poll(() => page.getByTestId('preview-notional').textContent()).not.toBe('—');
    await shot('market-trade-preview');
    await page.getByTestId('review').click();
    await page.getByTestId('confirm').click();
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/Confirmed in slot/);
    await page.getByTestId('open-position').waitFor();
    await shot('market-position-open');

    const onChain = decodePosition((await connection.getAccountInfo(positionKey))!.data);
    expect(onChain.size).toBe(2_000_000_000n);
    expect(onChain.collateral).toBe(1_000_000_000n);
    const api = (await (await fetch(`${sys.gatewayUrl}/api/portfolio/${wallet}`)).json()) as Portfolio;
    const row = api.positions.find((p) => p.symbol === 'SOL-PERP')!;
    expect({ size: row.size, entry: row.entryPrice, collateral: row.collateral }).toEqual({ size: onChain.size.toString(), entry: onChain.entryPrice.toString(), collateral: onChain.collateral.toString() });

    await page.goto(`${sys.webUrl}/portfolio`);
    const ui = page.locator('tr[data-symbol="SOL-PERP"]');
    await ui.waitFor();
    expect(await ui.getByTestId('pos-size').textContent()).toBe(`${fixed(onChain.size, 9, 4)} SOL`);
    expect(await ui.getByTestId('pos-entry').textContent()).toBe(fixed(onChain.entryPrice, 9, 4));
    expect(await ui.getByTestId('pos-collateral').textContent()).toBe(usd(onChain.collateral));
    await shot('portfolio');
    await page.goto(`${sys.webUrl}/portfolio/${wallet}`);
    await page.locator('tr[data-symbol="SOL-PERP"]').waitFor();
    await shot('portfolio-readonly');

    await page.goto(`${sys.webUrl}/markets/SOL-PERP`);
    await page.getByTestId('open-position').waitFor();
    await page.getByTestId('review').click();
    await page.getByTestId('preview-pnl').waitFor();
    await page.getByTestId('confirm').click();
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/Confirmed in slot/);

    // The close's own log line: (3, mark, pnl, to_owner, bad_debt), as the program writes it.
    const [latest] = await connection.getSignaturesForAddress(positionKey, { limit: 1 });
    const tx = await connection.getTransaction(latest!.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    const line = tx!.meta!.logMessages!.find((l) => /^Program log: 0x3, /.test(l))!;
    const [, mark, pnlBits, toOwner] = line.replace('Program log: ', '').split(', ').map((h) => BigInt(h));
    const pnl = BigInt.asIntN(64, pnlBits!);
    expect(pnl).toBe(unrealizedPnl({ size: onChain.size, entryPrice: onChain.entryPrice, collateral: onChain.collateral }, mark!));
    const after = decodePosition((await connection.getAccountInfo(positionKey))!.data);
    expect(after.size).toBe(0n);
    expect(after.collateral).toBe(onChain.collateral + pnl);
    expect(after.collateral).toBe(toOwner);
    await expect.poll(() => page.getByTestId('collateral').textContent(), { timeout: 10_000 }).toBe(usd(after.collateral));
  }, 240_000);

  it('a price jump warns, then tells of the liquidation, on the trader\'s open portfolio page; /ops lists the saga with its Temporal UI link', async () => {
    const manifest = JSON.parse(readFileSync(join(sys.localnet!.dataDir, 'manifest.json'), 'utf8')) as LiquidationManifest;
    // trader-1's near position: a short in ETH-PERP, liquidated (partially) by a ~6 % rise.
    const target = manifest.quantdesk.positions.find((p) => p.trader === 'trader-1' && p.nearLiquidation)!;
    expect(target).toMatchObject({ symbol: 'ETH-PERP', side: 'short' });
    const owner = manifest.traders.find((t) => t.name === 'trader-1')!.publicKey;
    await page.goto(`${sys.webUrl}/portfolio/${owner}`);
    await page.getByTestId('pos-liq').first().waitFor();
    await page.waitForTimeout(2_000); // the page has joined the wallet's room
    sys.sim.control.bias('pyth', 600, ['ETH-PERP']);
    sys.sim.control.bias('coingecko', 600, ['ETH-PERP']);
    try {
      const alerts = page.getByRole('alert');
      // Newest first: the liquidation above the warning that came before it.
      await expect.poll(async () => (await alerts.allTextContents()).join('\n'), { timeout: 60_000 }).toMatch(/ETH-PERP position liquidated \((partially-)?liquidated\)[\s\S]*Margin warning on ETH-PERP/);
      await shot('portfolio-liquidated');
    } finally {
      sys.sim.control.bias('pyth', 0, ['ETH-PERP']);
      sys.sim.control.bias('coingecko', 0, ['ETH-PERP']);
    }
    await page.goto(`${sys.webUrl}/ops`);
    const row = page.getByTestId('sagas').locator('tr', { has: page.locator(`a[href="/portfolio/${owner}"]`) }).first();
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toMatch(/liquidated/);
    const href = (await row.getByTestId('saga-link').getAttribute('href'))!;
    const m = new RegExp(`/namespaces/${sys.namespace}/workflows/(liquidate-${target.position}-\\d+)$`).exec(href);
    expect(m, href).not.toBeNull();
    // The link names a real workflow: the saga, completed.
    const client = await connectClient({ ...testConfig.temporal, namespace: sys.namespace });
    try {
      const saga = await client.workflow.getHandle(decodeURIComponent(m![1]!)).describe();
      expect(saga.type).toBe('liquidationSaga');
      expect(saga.status.name).toBe('COMPLETED');
    } finally {
      await client.connection.close();
    }
  }, 120_000);

  it('renders /ops and every page without console errors', async () => {
    // The chain's view the pages poll: every market's account, its parameters JSON-safe.
    const chain = (await (await fetch(`${sys.gatewayUrl}/api/chain/markets`)).json()) as { markets: { symbol: string; params?: { minPositionNotional: unknown; initialMarginBps: unknown } }[] };
    expect(chain.markets.length).toBe(sys.registry.markets.length);
    for (const m of chain.markets) expect(m.params).toMatchObject({ minPositionNotional: expect.stringMatching(/^\d+$/), initialMarginBps: expect.any(Number) });
    // The dashboard's pages carry security headers; the gateway grants CORS to the dashboard's origin only.
    const opsPage = await fetch(`${sys.webUrl}/ops`);
    expect(opsPage.headers.get('x-frame-options')).toBe('DENY');
    expect(opsPage.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    const corsOf = async (origin: string) => (await fetch(`${sys.gatewayUrl}/api/prices`, { headers: { origin } })).headers.get('access-control-allow-origin');
    expect(await corsOf(sys.webUrl)).toBe(sys.webUrl);
    expect(await corsOf('https://evil.example')).toBeNull();
    await page.goto(`${sys.webUrl}/ops`);
    await page.getByTestId('ops-overall').waitFor();
    await page.getByTestId('rejections').waitFor();
    // The latency table counts the live prices that went through each stage, in every process: the
    // ingest and sync workers report theirs on the bus every few seconds.
    const latencyRows = page.getByTestId('latency').locator('tbody tr');
    const counts = async () => Promise.all((await latencyRows.all()).map(async (row) => Number(await row.locator('td').first().textContent())));
    await waitFor('every stage timed', async () => {
      const c = await counts();
      if (c.length === 8 && c.every((n) => n > 0)) return true;
      await page.reload();
      await page.getByTestId('latency').waitFor();
      return false;
    }, 30_000, 1_000);
    await shot('ops');
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, path] of [['phone-markets', '/'], ['phone-market', '/markets/BTC-PERP']] as const) {
      await page.goto(`${sys.webUrl}${path}`);
      await page.waitForTimeout(1_500);
      await shot(name);
    }
    expect(consoleErrors, `the dashboard server said:\n${sys.processes.web?.output().slice(-3_000)}`).toEqual([]);
  }, 60_000);
  // Last: after funding, trading, a liquidation and every page, with every process at debug level.
  it('writes no configured secret (API keys, keypairs) to any log line of any process', () => {
    const leaks = Object.entries(sys.processes).flatMap(([name, p]) => (p?.leaked() ?? []).map((s) => `${name}: ${s.slice(0, 6)}…`));
    expect(leaks).toEqual([]);
    // The check had lines to look at.
    expect(sys.processes.ingest!.output()).toMatch(/"level":30/);
  });
});
