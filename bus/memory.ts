import type { PriceBatch } from '../contracts/bus.ts';
import type { StageReport } from '../contracts/latency.ts';
import type { StatusReport } from '../contracts/status.ts';
import type { BusState, PriceBusPublisher, PriceBusSubscriber } from './roles.ts';
import { toBusPrice } from './wire.ts';

/**
 * The bus in one process, for unit tests: the same contract as `bus/redis.ts` (per-symbol sequence
 * numbers, latest status per scope, prices dropped while down), delivered synchronously.
 * `setState('down')` is a Redis outage; `drop(n)` loses the next n price messages (a gap).
 */
export function createMemoryBus(now: () => number = Date.now) {
  const seq = new Map<string, number>();
  const statuses = new Map<string, StatusReport>();
  const stageReports = new Map<string, StageReport>();
  const subscribers = new Set<{ prices: ((b: PriceBatch) => void)[]; status: ((r: StatusReport) => void)[]; state: ((s: BusState) => void)[]; push: ((s: string) => void)[] }>();
  let state: BusState = 'up';
  let dropNext = 0;
  const published: PriceBatch[] = [];

  const publisher: PriceBusPublisher = {
    get state() {
      return state;
    },
    publishPrices(prices) {
      if (prices.length === 0 || state === 'down') return;
      const batch: PriceBatch = {
        v: 1,
        at: now(),
        prices: prices.map((p) => {
          const n = (seq.get(p.symbol) ?? 0) + 1;
          seq.set(p.symbol, n);
          return { ...toBusPrice(p), seq: n };
        }),
      };
      published.push(batch);
      if (dropNext > 0) {
        dropNext -= 1;
        return;
      }
      for (const s of subscribers) for (const h of s.prices) h(structuredClone(batch));
    },
    publishStatus(report) {
      statuses.set(report.scope, report);
      if (state === 'down') return;
      for (const s of subscribers) for (const h of s.status) h(structuredClone(report));
    },
    requestPush(symbol) {
      if (state === 'down') return;
      for (const s of subscribers) for (const h of s.push) h(symbol);
    },
    reportStages(report) {
      if (state !== 'down') stageReports.set(report.scope, structuredClone(report));
    },
    async close() {},
  };

  function subscriber(): PriceBusSubscriber {
    const handlers = { prices: [] as ((b: PriceBatch) => void)[], status: [] as ((r: StatusReport) => void)[], state: [] as ((s: BusState) => void)[], push: [] as ((s: string) => void)[] };
    subscribers.add(handlers);
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
        if (state === 'down') throw new Error('bus down');
        return [...statuses.values()].map((r) => structuredClone(r));
      },
      async stageReports(forgetAfterMs) {
        if (state === 'down') throw new Error('bus down');
        for (const [scope, r] of stageReports) if (now() - r.at > forgetAfterMs) stageReports.delete(scope);
        return [...stageReports.values()].map((r) => structuredClone(r));
      },
      async close() {
        subscribers.delete(handlers);
      },
    };
  }

  return {
    publisher,
    subscriber,
    published,
    setState(s: BusState) {
      if (s === state) return;
      state = s;
      for (const sub of subscribers) for (const h of sub.state) h(s);
    },
    drop(n: number) {
      dropNext += n;
    },
  };
}
export type MemoryBus = ReturnType<typeof createMemoryBus>;
