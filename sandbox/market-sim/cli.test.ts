import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliError, parseCliArgs } from './cli-args.ts';
import { SOL } from './test-support.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

describe('parseCliArgs', () => {
  it('maps flags to options and startup faults', () => {
    const o = parseCliArgs([
      '--port', '0',
      '--seed', 'bench',
      '--extra-feeds', '200',
      '--rate', '5',
      '--feed-rate', 'SOL-PERP=10',
      '--coingecko-interval-ms', '1500',
      '--pyth-api-key', 'k1',
      '--coingecko-api-key', 'k2',
      '--strict-publish-time',
      '--sse-retry-ms', '250',
      '--pause', 'coingecko@solana,bitcoin',
      '--stall', 'pyth',
      '--delay', 'pyth=120@SOL-PERP',
      '--inject', 'pyth=nan-price*3@BTC-PERP',
      '--inject', 'coingecko=oversized',
      '--kill', 'coingecko',
    ]);
    expect(o).toMatchObject({
      port: 0,
      seed: 'bench',
      extraFeeds: 200,
      updatesPerSecond: 5,
      feedRates: { 'SOL-PERP': 10 },
      coingeckoIntervalMs: 1500,
      pythApiKey: 'k1',
      coingeckoApiKey: 'k2',
      strictPublishTime: true,
      sseRetryMs: 250,
      help: false,
    });
    expect(o.initialControls).toEqual([
      { action: 'pause', body: { source: 'coingecko', feeds: ['solana', 'bitcoin'] } },
      { action: 'stall', body: { source: 'pyth' } },
      { action: 'kill', body: { source: 'coingecko' } },
      { action: 'delay', body: { source: 'pyth', ms: 120, feeds: ['SOL-PERP'] } },
      { action: 'inject', body: { source: 'pyth', kind: 'nan-price', count: 3, feeds: ['BTC-PERP'] } },
      { action: 'inject', body: { source: 'coingecko', kind: 'oversized' } },
    ]);
  });

  it('rejects malformed flags with a message', () => {
    expect(() => parseCliArgs(['--port', 'abc'])).toThrow(CliError);
    expect(() => parseCliArgs(['--pause', 'binance'])).toThrow('expected pyth or coingecko');
    expect(() => parseCliArgs(['--delay', 'pyth'])).toThrow('<source>=<ms>');
    expect(() => parseCliArgs(['--inject', 'pyth'])).toThrow('<kind>');
    expect(() => parseCliArgs(['--feed-rate', 'SOL-PERP'])).toThrow('--feed-rate');
    expect(() => parseCliArgs(['--bogus'])).toThrow(CliError);
  });
});

describe('main.ts', () => {
  it('starts from the command line, logs sim.started with its URL as JSON, and stops on SIGTERM', async () => {
    const child = spawn(TSX, [MAIN, '--port', '0', '--seed', '3', '--pause', 'coingecko'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const started = await new Promise<{ msg: string; url: string; feeds: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no sim.started line')), 20_000);
        createInterface({ input: child.stdout }).on('line', (line) => {
          const event = JSON.parse(line) as { msg: string; url: string; feeds: number };
          if (event.msg === 'sim.started') {
            clearTimeout(timer);
            resolve(event);
          }
        });
      });
      expect(started.feeds).toBe(5);
      const latest = await fetch(`${started.url}/v2/updates/price/latest?ids[]=${SOL}`);
      expect(latest.status).toBe(200);
      const cg = await fetch(`${started.url}/api/v3/simple/price?ids=solana&vs_currencies=usd`);
      expect(cg.status).toBe(503);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('exits with status 2 and the reason on a bad fault flag', async () => {
    const child = spawn(TSX, [MAIN, '--inject', 'pyth=nonsense'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('invalid options');
    expect(stderr).toContain('kind');
  });
});
