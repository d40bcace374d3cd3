// `npm run bench -- web`: the dashboard in Debian's Chromium against the whole system.
//   1. gzipped JavaScript shipped for / (budget 250 KB);
//   2. navigation → first live price rendered (a Socket.IO price after hydration), p50/p99 over 20 loads (goal ≤ 1 s);
//   3. 200 markets ticking at 2.5 Hz on /: long tasks > 50 ms (PerformanceObserver) over 20 s (goal none).
import { gzipSync } from 'node:zlib';
import { percentile, registryOf } from './support.ts';
import { waitFor } from '../tests/support.ts';
import { launchChromium, startWebSystem, type WebSystem } from '../tests/web-system.ts';
import { goal } from './goals.ts';

/** Prices must be flowing (the ingest worker's first start takes seconds) before a page is timed. */
async function pricesServed(sys: WebSystem): Promise<void> {
  await waitFor('served prices', async () => ((await (await fetch(`${sys.gatewayUrl}/api/prices`)).json()) as { prices: { price?: unknown }[] }).prices.every((p) => p.price), 120_000, 500);
}

/**
 * Installed before any page script: records the first live price rendered (a price cell whose
 * publish time differs from the server-rendered one; the whole document is watched, as hydration may
 * replace the cells) and long tasks. Plain JavaScript in a string: tsx's compiled functions call a
 * naming helper the page does not have.
 */
const PROBE = `
  window.longTasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  const cells = () => Array.from(document.querySelectorAll('tr[data-symbol] [data-testid="price"]'));
  const symbolOf = (c) => c.closest('tr').getAttribute('data-symbol');
  document.addEventListener('DOMContentLoaded', () => {
    const ssr = new Map(cells().map((c) => [symbolOf(c), c.getAttribute('data-publish-time')]));
    const mo = new MutationObserver(() => {
      if (cells().some((c) => { const t = c.getAttribute('data-publish-time'); return t && t !== ssr.get(symbolOf(c)); })) {
        window.firstLive ??= performance.now();
        mo.disconnect();
      }
    });
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-publish-time'], childList: true, subtree: true });
  });
`;

export async function runWebBench(): Promise<void> {
  const started = Date.now();
  let sys = await startWebSystem({ chain: false });
  await pricesServed(sys);
  const browser = await launchChromium();
  try {
    // 1. Bundle size.
    const page = await browser.newPage();
    const scripts = new Map<string, number>();
    page.on('response', async (r) => {
      if (r.request().resourceType() !== 'script') return;
      const body = await r.body().catch(() => undefined);
      if (body) scripts.set(r.url(), gzipSync(body, { level: 9 }).length);
    });
    await page.goto(sys.webUrl, { waitUntil: 'networkidle' });
    await page.waitForTimeout(1_000);
    const gz = [...scripts.values()].reduce((a, b) => a + b, 0);
    goal({ bench: 'web', figure: 'JavaScript for /, gzipped', value: Math.round(gz / 102.4) / 10, unit: 'KB', goal: '≤ 250 KB', met: gz <= 250 * 1024 });
    process.stdout.write(`web: JavaScript for / — ${scripts.size} files, ${(gz / 1024).toFixed(1)} KB gzipped (budget 250 KB: ${gz <= 250 * 1024 ? 'met' : 'NOT met'})\n`);
    await page.close();

    // 2. Navigation → first live price.
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const context = await browser.newContext();
      const p = await context.newPage();
      await p.addInitScript({ content: PROBE });
      await p.goto(sys.webUrl, { waitUntil: 'commit' });
      await p.waitForFunction(() => (window as unknown as { firstLive?: number }).firstLive !== undefined, undefined, { timeout: 15_000 });
      samples.push(await p.evaluate(() => (window as unknown as { firstLive: number }).firstLive));
      await context.close();
    }
    samples.sort((a, b) => a - b);
    goal({ bench: 'web', figure: 'navigation → first live price p99', value: Math.round(percentile(samples, 99)), unit: 'ms', goal: '≤ 1,000 ms', met: percentile(samples, 99) <= 1_000 });
    process.stdout.write(`web: navigation → first live price rendered over 20 loads: p50 ${Math.round(percentile(samples, 50))} ms, p99 ${Math.round(percentile(samples, 99))} ms (goal ≤ 1,000 ms: ${percentile(samples, 99) <= 1_000 ? 'met' : 'NOT met'})\n`);
    await sys.stop();

    // 3. 200 markets ticking at 2.5 Hz (the simulator's default rate).
    sys = await startWebSystem({ chain: false, registry: registryOf(200) });
    await pricesServed(sys);
    const context = await browser.newContext();
    const p = await context.newPage();
    await p.addInitScript({ content: PROBE });
    await p.goto(sys.webUrl, { waitUntil: 'networkidle' });
    await p.waitForTimeout(3_000);
    const before = await p.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks.length);
    const rendered = await p.evaluate(async () => {
      let n = 0;
      const mo = new MutationObserver((records) => (n += records.length));
      mo.observe(document.querySelector('tbody')!, { subtree: true, characterData: true, childList: true });
      await new Promise((r) => setTimeout(r, 20_000));
      mo.disconnect();
      return n;
    });
    const tasks = await p.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    const during = tasks.slice(before);
    goal({ bench: 'web', figure: 'long tasks > 50 ms, 200 markets at 2.5 Hz for 20 s', value: during.length, unit: '', goal: 'none', met: during.length === 0 });
    process.stdout.write(
      `web: 200 markets at 2.5 Hz for 20 s: ${rendered} DOM updates, long tasks > 50 ms: ${during.length}${during.length ? ` (longest ${Math.round(Math.max(...during))} ms)` : ''} after load, ${before} during load (goal none: ${during.length === 0 ? 'met' : 'NOT met'})\n`,
    );
    await context.close();
  } finally {
    await browser.close();
    await sys.stop();
    process.stdout.write(`(total ${Math.round((Date.now() - started) / 1000)} s)\n`);
  }
}
