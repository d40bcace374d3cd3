import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { repeatingLog } from '../runtime/logger.ts';
import { busNames, priceBatchSchema, statusReportSchema, type PriceBatch } from '../contracts/bus.ts';
import type { StatusReport } from '../contracts/status.ts';
import { stageReportSchema } from '../contracts/latency.ts';
import type { BusState, GradedPrice, PriceBusPublisher, PriceBusSubscriber } from './roles.ts';
import { toBusPrice } from './wire.ts';

/**
 * The bus on Redis pub/sub (Debian's redis-server embedded; a managed Redis or a cluster by
 * QD_REDIS_URL). Pub/sub delivers at most once and keeps nothing: the store is the durable record,
 * and each consumer resyncs from it when it (re)connects or sees a sequence number jump.
 */

/**
 * Numbers a batch and publishes it in one round trip, atomically: per price `HINCRBY` on the
 * sequence hash, then one `PUBLISH` of the whole batch. Arguments: the channel, the batch's JSON up
 * to its price list, then per price its symbol and its JSON without the closing brace (the script
 * appends `,"seq":N}`), so Redis never parses or re-encodes a number.
 */
const PUBLISH_PRICES = `
local parts = {}
for i = 3, #ARGV, 2 do
  local seq = redis.call('HINCRBY', KEYS[1], ARGV[i], 1)
  parts[#parts + 1] = ARGV[i + 1] .. ',"seq":' .. seq .. '}'
end
redis.call('PUBLISH', ARGV[1], ARGV[2] .. table.concat(parts, ',') .. ']}')
return #parts
`;

/** Keeps the latest report of its scope, then publishes it, atomically. */
const PUBLISH_STATUS = `
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return redis.call('PUBLISH', ARGV[1], ARGV[3])
`;

type BusRedis = Redis & {
  qdPublishPrices(key: string, ...args: string[]): Promise<number>;
  qdPublishStatus(key: string, channel: string, scope: string, json: string): Promise<number>;
};

export interface RedisBusOptions {
  url: string;
  /** Channel and key prefix (QD_BUS_PREFIX). */
  prefix?: string;
  log: Logger;
  /** Called for every price dropped because the bus was down (a metric). */
  onDropped?: (count: number) => void;
}

/** Reconnects forever, at most every 2 s: the bus must come back by itself after an outage. */
const baseOptions: RedisOptions = {
  retryStrategy: (times) => Math.min(2_000, 100 * times),
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  lazyConnect: false,
};

function connect(url: string, options: RedisOptions): Redis {
  return new Redis(url, { ...baseOptions, ...options });
}

/** The ingest worker's side. */
export function createRedisPublisher(o: RedisBusOptions): PriceBusPublisher {
  // No offline queue: a command while disconnected fails at once (the price is dropped, counted).
  const BUS = busNames(o.prefix);
  const redis = connect(o.url, { enableOfflineQueue: false }) as BusRedis;
  redis.defineCommand('qdPublishPrices', { numberOfKeys: 1, lua: PUBLISH_PRICES });
  redis.defineCommand('qdPublishStatus', { numberOfKeys: 1, lua: PUBLISH_STATUS });
  let state: BusState = 'down';
  const reports = new Map<string, StatusReport>();
  const log = o.log.child({ module: 'bus-publisher' });

  const sendStatus = (r: StatusReport) =>
    redis.qdPublishStatus(BUS.statusKey, BUS.status, r.scope, JSON.stringify(r)).catch((e: Error) => log.warn({ err: e.message, scope: r.scope }, 'bus_status_publish_failed'));

  redis.on('ready', () => {
    if (state !== 'up') log.info({ url: redact(o.url) }, 'bus_up');
    state = 'up';
    // Whatever was reported while the bus was away (or before a Redis restart emptied it) goes again.
    for (const r of reports.values()) void sendStatus(r);
  });
  redis.on('close', () => {
    if (state === 'up') log.warn('bus_down');
    state = 'down';
  });
  redis.on('error', () => undefined); // reported through `close`; ioredis reconnects by itself

  return {
    get state() {
      return state;
    },
    publishPrices(prices) {
      if (prices.length === 0) return;
      if (state !== 'up') {
        o.onDropped?.(prices.length);
        return;
      }
      const args: string[] = [BUS.prices, `{"v":1,"at":${Date.now()},"prices":[`];
      for (const p of prices) {
        const json = JSON.stringify(toBusPrice(p));
        args.push(p.symbol, json.slice(0, -1));
      }
      redis.qdPublishPrices(BUS.seqKey, ...args).catch((e: Error) => {
        o.onDropped?.(prices.length);
        log.debug({ err: e.message }, 'bus_price_publish_failed');
      });
    },
    publishStatus(report) {
      reports.set(report.scope, report);
      if (state === 'up') void sendStatus(report);
    },
    requestPush(symbol) {
      if (state === 'up') redis.publish(BUS.pushRequests, JSON.stringify({ symbol })).catch(() => undefined);
    },
    reportStages(report) {
      if (state === 'up') redis.hset(BUS.latencyKey, report.scope, JSON.stringify(report)).catch((e: Error) => log.debug({ err: e.message }, 'bus_stage_report_failed'));
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** The bus channels a subscriber can follow. */
export type BusChannel = 'prices' | 'status' | 'pushRequests';

/**
 * A consumer's side: a subscription connection and a command connection for snapshots. `channels`
 * limits what it subscribes to (all by default): a process that needs only status reports should not
 * receive and parse every price batch.
 */
export function createRedisSubscriber(o: RedisBusOptions & { channels?: readonly BusChannel[] }): PriceBusSubscriber {
  const BUS = busNames(o.prefix);
  const channels = (o.channels ?? (['prices', 'status', 'pushRequests'] as const)).map((c) => BUS[c]);
  const sub = connect(o.url, {});
  const cmd = connect(o.url, { enableOfflineQueue: false });
  const log = o.log.child({ module: 'bus-subscriber' });
  const handlers = { prices: [] as ((b: PriceBatch) => void)[], status: [] as ((r: StatusReport) => void)[], state: [] as ((s: BusState) => void)[], push: [] as ((s: string) => void)[] };
  let state: BusState = 'down';
  const setState = (s: BusState) => {
    if (s === state) return;
    state = s;
    log[s === 'up' ? 'info' : 'warn']({ url: redact(o.url) }, s === 'up' ? 'bus_up' : 'bus_down');
    for (const h of handlers.state) h(s);
  };

  sub.on('ready', () => {
    sub.subscribe(...channels).then(
      () => setState('up'),
      (e: Error) => log.warn({ err: e.message }, 'bus_subscribe_failed'),
    );
  });
  sub.on('close', () => setState('down'));
  sub.on('error', () => undefined);
  cmd.on('error', () => undefined);
  const logRepeated = repeatingLog(log);
  sub.on('message', (channel: string, message: string) => {
    const json = parseJsonOrUndefined(message);
    if (channel === BUS.prices) {
      const batch = priceBatchSchema.safeParse(json);
      if (batch.success) for (const h of handlers.prices) h(batch.data as PriceBatch);
      else logRepeated('warn', channel, { channel, issues: batch.error.issues.slice(0, 2).map((i) => `${i.path.join('.')}: ${i.message}`) }, 'bus_message_malformed');
    } else if (channel === BUS.pushRequests) {
      const symbol = (json as { symbol?: unknown } | undefined)?.symbol;
      if (typeof symbol === 'string' && /^[A-Z0-9]{1,10}-PERP$/.test(symbol)) for (const h of handlers.push) h(symbol);
    } else if (channel === BUS.status) {
      const report = statusReportSchema.safeParse(json);
      if (report.success) for (const h of handlers.status) h(report.data);
      else logRepeated('warn', channel, { channel, issues: report.error.issues.slice(0, 2).map((i) => `${i.path.join('.')}: ${i.message}`) }, 'bus_message_malformed');
    }
  });

  return {
    get state() {
      return state;
    },
    onPrices: (h) => void handlers.prices.push(h),
    onStatus: (h) => void handlers.status.push(h),
    onState: (h) => void handlers.state.push(h),
    onPushRequest(h) {
      handlers.push.push(h);
      return () => handlers.push.splice(handlers.push.indexOf(h) >>> 0, 1);
    },
    async statusSnapshot() {
      const all = await cmd.hgetall(BUS.statusKey);
      return Object.values(all).flatMap((json) => {
        const r = statusReportSchema.safeParse(parseJsonOrUndefined(json));
        return r.success ? [r.data] : [];
      });
    },
    async stageReports(forgetAfterMs) {
      const all = await cmd.hgetall(BUS.latencyKey);
      const now = Date.now();
      const gone: string[] = [];
      const reports = Object.entries(all).flatMap(([scope, json]) => {
        const r = stageReportSchema.safeParse(parseJsonOrUndefined(json));
        if (!r.success || now - r.data.at > forgetAfterMs) {
          gone.push(scope);
          return [];
        }
        return [r.data];
      });
      if (gone.length > 0) await cmd.hdel(BUS.latencyKey, ...gone).catch(() => undefined);
      return reports;
    },
    async close() {
      await Promise.all([sub.quit().catch(() => sub.disconnect()), cmd.quit().catch(() => cmd.disconnect())]);
    },
  };
}

/** Two plain connections for `@socket.io/redis-adapter` (it needs a publisher and a subscriber). */
export function createAdapterClients(url: string): { pub: Redis; sub: Redis } {
  const pub = connect(url, {});
  const sub = connect(url, {});
  pub.on('error', () => undefined);
  sub.on('error', () => undefined);
  return { pub, sub };
}

export const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//<redacted>@');

/** JSON text as a value, or `undefined` when it is not JSON (which every bus schema then refuses). */
function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
