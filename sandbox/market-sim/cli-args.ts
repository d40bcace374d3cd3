import { parseArgs } from 'node:util';
import { z } from 'zod';
import { SOURCES, type ControlAction } from './faults.ts';
import type { MarketSimOptions } from './market-sim.ts';

export const USAGE = `Usage: tsx sandbox/market-sim/main.ts [options]

  --port <n>                    listen port (default 4010; 0 picks a free one)
  --host <addr>                 listen address (default 127.0.0.1)
  --seed <s>                    random-walk seed (default 1)
  --markets <file>              feed registry (default config/markets.json)
  --extra-feeds <n>             add n synthetic feeds (benchmarks)
  --rate <per-second>           Pyth updates per second per feed (default 2.5)
  --feed-rate <feed>=<rate>     per-feed rate, repeatable (feed: id, symbol, base or CoinGecko id)
  --coingecko-interval-ms <ms>  CoinGecko refresh period (default 3000)
  --pyth-api-key <key>          require Authorization: Bearer <key> on Hermes routes
  --coingecko-api-key <key>     require x-cg-pro-api-key / x-cg-demo-api-key
  --strict-publish-time         publish a feed only when its publish time moves on (≤ 1/s)
  --sse-retry-ms <ms>           SSE retry: field sent at stream start
  --log-level <level>           pino level (default info)
  --replay <file>               replay a recorded Hermes stream (npm run record), over and over
  --replay-speed <x>            replay at x times the recorded pace (default 1)

Faults at startup (same as the /control API; <feeds> is a comma-separated list):
  --pause <source>[@<feeds>]            --stall <source>[@<feeds>]
  --delay <source>=<ms>[@<feeds>]       --kill <source>
  --bias <source>=<bps>[@<feeds>]       shift prices by a signed number of basis points (-5000..5000)
  --inject <source>=<kind>[*<count>][@<feeds>]
  <source> is pyth or coingecko; <kind> is one of nan-price, negative-price, zero-price, expo-high,
  expo-low, stale-time, future-time, unknown-id, malformed-json, oversized.
`;

export class CliError extends Error {
  readonly code = 'BAD_CLI_ARGUMENT';
}

const int = (flag: string) =>
  z.coerce.number({ error: `${flag} must be a number` }).int(`${flag} must be an integer`);
const num = (flag: string) => z.coerce.number({ error: `${flag} must be a number` });

/** `<source>[=<arg>][@<feeds>]` → its parts. */
function splitFault(flag: string, text: string) {
  const m = /^([a-z]+)(?:=([^@]+))?(?:@(.+))?$/.exec(text);
  const source = m?.[1];
  if (m === null || source === undefined || !(SOURCES as readonly string[]).includes(source)) {
    throw new CliError(`--${flag} ${text}: expected ${SOURCES.join(' or ')} first`);
  }
  const feeds = m[3]?.split(',').filter(Boolean);
  return { source, arg: m[2], ...(feeds !== undefined && { feeds }) };
}

function faultControls(
  values: Partial<Record<'pause' | 'stall' | 'kill' | 'delay' | 'bias' | 'inject', string[]>>,
) {
  const controls: { action: ControlAction; body: unknown }[] = [];
  for (const action of ['pause', 'stall', 'kill'] as const) {
    for (const text of values[action] ?? []) {
      const { source, arg, feeds } = splitFault(action, text);
      if (arg !== undefined) throw new CliError(`--${action} ${text}: takes no =value`);
      controls.push({ action, body: { source, ...(feeds !== undefined && { feeds }) } });
    }
  }
  for (const text of values.delay ?? []) {
    const { source, arg, feeds } = splitFault('delay', text);
    const ms = int('--delay ms').min(0).safeParse(arg);
    if (!ms.success) throw new CliError(`--delay ${text}: expected <source>=<ms>`);
    controls.push({ action: 'delay', body: { source, ms: ms.data, ...(feeds !== undefined && { feeds }) } });
  }
  for (const text of values.bias ?? []) {
    const { source, arg, feeds } = splitFault('bias', text);
    if (arg === undefined || !/^[+-]?\d+$/.test(arg)) throw new CliError(`--bias ${text}: expected <source>=<bps>`);
    controls.push({ action: 'bias', body: { source, bps: Number(arg), ...(feeds !== undefined && { feeds }) } });
  }
  for (const text of values.inject ?? []) {
    const { source, arg, feeds } = splitFault('inject', text);
    const m = /^([a-z-]+)(?:\*(\d+))?$/.exec(arg ?? '');
    if (m === null) throw new CliError(`--inject ${text}: expected <source>=<kind>[*<count>]`);
    controls.push({
      action: 'inject',
      body: {
        source,
        kind: m[1],
        ...(m[2] !== undefined && { count: Number(m[2]) }),
        ...(feeds !== undefined && { feeds }),
      },
    });
  }
  return controls;
}

function parseOr<T>(schema: z.ZodType<T>, value: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new CliError(r.error.issues[0]?.message ?? `bad value ${value}`);
  return r.data;
}

/** Command-line flags → simulator options (the controls are validated again when applied). */
export function parseCliArgs(argv: readonly string[]): MarketSimOptions & { help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        seed: { type: 'string' },
        markets: { type: 'string' },
        'extra-feeds': { type: 'string' },
        rate: { type: 'string' },
        'feed-rate': { type: 'string', multiple: true },
        'coingecko-interval-ms': { type: 'string' },
        'pyth-api-key': { type: 'string' },
        'coingecko-api-key': { type: 'string' },
        'strict-publish-time': { type: 'boolean' },
        'sse-retry-ms': { type: 'string' },
        'log-level': { type: 'string' },
        replay: { type: 'string' },
        'replay-speed': { type: 'string' },
        pause: { type: 'string', multiple: true },
        stall: { type: 'string', multiple: true },
        delay: { type: 'string', multiple: true },
        bias: { type: 'string', multiple: true },
        inject: { type: 'string', multiple: true },
        kill: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const v = parsed.values;
  const feedRates: Record<string, number> = {};
  for (const text of v['feed-rate'] ?? []) {
    const [feed, rate] = text.split('=');
    if (feed === undefined || feed === '' || rate === undefined) {
      throw new CliError(`--feed-rate ${text}: expected <feed>=<updates per second>`);
    }
    feedRates[feed] = parseOr(num('--feed-rate'), rate);
  }
  return {
    help: v.help ?? false,
    ...(v.port !== undefined && { port: parseOr(int('--port'), v.port) }),
    ...(v.host !== undefined && { host: v.host }),
    ...(v.seed !== undefined && { seed: v.seed }),
    ...(v.markets !== undefined && { marketsFile: v.markets }),
    ...(v['extra-feeds'] !== undefined && { extraFeeds: parseOr(int('--extra-feeds'), v['extra-feeds']) }),
    ...(v.rate !== undefined && { updatesPerSecond: parseOr(num('--rate'), v.rate) }),
    feedRates,
    ...(v['coingecko-interval-ms'] !== undefined && {
      coingeckoIntervalMs: parseOr(int('--coingecko-interval-ms'), v['coingecko-interval-ms']),
    }),
    ...(v['pyth-api-key'] !== undefined && { pythApiKey: v['pyth-api-key'] }),
    ...(v['coingecko-api-key'] !== undefined && { coingeckoApiKey: v['coingecko-api-key'] }),
    strictPublishTime: v['strict-publish-time'] ?? false,
    ...(v['sse-retry-ms'] !== undefined && { sseRetryMs: parseOr(int('--sse-retry-ms'), v['sse-retry-ms']) }),
    ...(v['log-level'] !== undefined && {
      logLevel: v['log-level'] as NonNullable<MarketSimOptions['logLevel']>,
    }),
    ...(v.replay !== undefined && { replay: { file: v.replay, ...(v['replay-speed'] !== undefined && { speed: parseOr(num('--replay-speed'), v['replay-speed']) }) } }),
    initialControls: faultControls(v),
  };
}
