import { buildCandles, servedSeries } from '../domain/candles.ts';
import { MAX_HISTORY_WINDOW_SEC, MAX_UPDATES_WINDOW_SEC, type HistoryRow, type InflightDoc, type LastAccepted, type LiquidationDoc, type Liquidations, type WalletAlertDoc, type WalletAlertLog, type LatestPriceDoc, type LatestPrices, type PriceHistory, type PushDoc, type PushLog, type RejectionDoc, type Rejections, type StoreHealth } from './roles.ts';
import { toLatestDoc } from './price-docs.ts';

/**
 * The store's roles in memory, for unit tests of the parts that depend on them (the gateway, the
 * sync, the writer): the same contracts as `store/mongo/`, with no database. `down` makes every call
 * fail (or hang, with `hang`) like a database that went away.
 */
export function createMemoryStore() {
  const served = new Map<string, LatestPriceDoc>();
  const marks = new Map<string, LastAccepted>();
  const ticks = new Map<string, HistoryRow & { feedId: string }>();
  const rejectionDocs: RejectionDoc[] = [];
  const pushDocs: PushDoc[] = [];
  const inflight = new Map<string, InflightDoc>();
  const state = { down: false, hang: false, calls: 0 };

  async function io(): Promise<void> {
    state.calls += 1;
    if (state.hang) await new Promise(() => undefined);
    if (state.down) throw new Error('database unavailable (memory store is down)');
  }

  const latest: LatestPrices = {
    async latest(feedIds) {
      await io();
      const wanted = feedIds && new Set(feedIds);
      return [...served.values()].filter((d) => !wanted || wanted.has(d.feedId)).map((d) => ({ ...d }));
    },
    async lastAccepted(feedIds) {
      await io();
      const wanted = new Set(feedIds);
      return new Map([...marks].filter(([k]) => wanted.has(k.split(':')[0]!)));
    },
    async writeLatest(accepted, servedPrices) {
      await io();
      for (const p of accepted) marks.set(`${p.feedId}:${p.source}`, { publishTime: p.publishTime, ...(p.slot !== undefined && { slot: p.slot }) });
      for (const p of servedPrices) served.set(p.feedId, { ...toLatestDoc(p), stale: false });
    },
    async markStale(feedIds, stale, at) {
      await io();
      for (const f of feedIds) {
        const d = served.get(f);
        if (!d) continue;
        d.stale = stale;
        if (stale) d.staleSince = at;
        else delete d.staleSince;
      }
    },
  };

  const dayOf = (t: number) => Math.floor(t / 86_400);
  const rowsOf = (feedId: string, from: number, to: number) =>
    [...ticks.values()]
      .filter((t) => t.feedId === feedId && t.publishTime >= from && t.publishTime <= to)
      .sort((a, b) => a.publishTime - b.publishTime || a.source.localeCompare(b.source) || (a.slot ?? 0) - (b.slot ?? 0));
  const history: PriceHistory = {
    async append(prices) {
      await io();
      let added = 0;
      for (const p of prices) {
        const key = `${p.feedId}:${p.source}:${p.publishTime}:${p.slot ?? ''}`;
        if (ticks.has(key)) continue;
        ticks.set(key, { feedId: p.feedId, source: p.source, price: p.price.toString(), conf: p.conf.toString(), expo: p.expo, publishTime: p.publishTime, ...(p.slot !== undefined && { slot: p.slot }) });
        added += 1;
      }
      return added;
    },
    async seal() {
      await io();
    },
    async candles(feedId, from, to, intervalSec) {
      if (to - from > MAX_HISTORY_WINDOW_SEC) throw new RangeError(`history windows are at most ${MAX_HISTORY_WINDOW_SEC} s`);
      await io();
      const points = servedSeries(rowsOf(feedId, from, to).map((r) => ({ source: r.source, publishTime: r.publishTime, price: BigInt(r.price), conf: BigInt(r.conf), expo: r.expo })));
      return buildCandles(points, intervalSec);
    },
    async updates(feedId, from, to) {
      if (to - from > MAX_UPDATES_WINDOW_SEC) throw new RangeError(`update windows are at most ${MAX_UPDATES_WINDOW_SEC} s`);
      await io();
      return rowsOf(feedId, from, to).map(({ feedId: _f, ...row }) => row);
    },
    async prune(before) {
      await io();
      const days = new Set<string>();
      for (const [k, t] of ticks) {
        if ((dayOf(t.publishTime) + 1) * 86_400 <= before) {
          days.add(String(dayOf(t.publishTime)));
          ticks.delete(k);
        }
      }
      return { days: [...days] };
    },
  };

  const rejections: Rejections = {
    async write(list) {
      await io();
      rejectionDocs.push(...list);
    },
    async recent(since, filter = {}, limit = 1_000) {
      await io();
      return rejectionDocs
        .filter((r) => r.receivedAt >= since && (!filter.source || r.source === filter.source) && (!filter.reason || r.reason === filter.reason))
        .reverse()
        .slice(0, limit);
    },
    async prune(before) {
      await io();
      const keep = rejectionDocs.filter((r) => r.receivedAt >= before);
      rejectionDocs.splice(0, rejectionDocs.length, ...keep);
      return { days: [] };
    },
  };

  const pushes: PushLog = {
    async record(docs) {
      await io();
      const recordedAt = new Date();
      pushDocs.push(...docs.map((d) => ({ ...d, recordedAt })));
    },
    async recent(symbol, limit) {
      await io();
      return pushDocs.filter((d) => d.symbol === symbol).slice(-limit).reverse();
    },
    async markInflight(doc) {
      await io();
      inflight.set(doc._id, structuredClone(doc));
    },
    async clearInflight(batchId) {
      await io();
      inflight.delete(batchId);
    },
    async pendingInflight() {
      await io();
      return [...inflight.values()].map((d) => structuredClone(d));
    },
    async prune(before) {
      await io();
      const keep = pushDocs.filter((d) => d.recordedAt >= before);
      pushDocs.splice(0, pushDocs.length, ...keep);
      return { days: [] };
    },
  };

  const liquidationDocs = new Map<string, LiquidationDoc>();
  const liquidations: Liquidations = {
    async claim(d) {
      await io();
      const had = liquidationDocs.get(d._id);
      if (had?.state === 'done') return false;
      const { claimant, ...rest } = d;
      liquidationDocs.set(d._id, { ...rest, ...had, state: 'claimed', claimedBy: claimant, attempts: had?.attempts ?? [], updatedAt: new Date() });
      return true;
    },
    async release(id, attempt) {
      await io();
      const d = liquidationDocs.get(id);
      if (d) Object.assign(d, { state: 'released', updatedAt: new Date(), attempts: [...d.attempts, { ...attempt, at: new Date() }] });
    },
    async complete(id, result) {
      await io();
      const d = liquidationDocs.get(id);
      if (d) Object.assign(d, { state: 'done', result, updatedAt: new Date() });
    },
    async sending(id, keeper) {
      await io();
      const d = liquidationDocs.get(id);
      if (d && !d.senders?.includes(keeper)) d.senders = [...(d.senders ?? []), keeper];
    },
    async note(id, result) {
      await io();
      const d = liquidationDocs.get(id);
      if (d) Object.assign(d, { result, updatedAt: new Date() });
    },
    async get(id) {
      await io();
      const d = liquidationDocs.get(id);
      return d && structuredClone(d);
    },
    async byWallet(wallet, limit) {
      await io();
      return [...liquidationDocs.values()].filter((d) => d.owner === wallet).sort((a, b) => b.detectedAt.getTime() - a.detectedAt.getTime()).slice(0, limit);
    },
    async recent(limit) {
      await io();
      return [...liquidationDocs.values()].sort((a, b) => b.detectedAt.getTime() - a.detectedAt.getTime()).slice(0, limit);
    },
  };
  const alertDocs: WalletAlertDoc[] = [];
  const alerts: WalletAlertLog = {
    async record(a) {
      await io();
      alertDocs.push(a);
    },
    async byWallet(wallet, limit) {
      await io();
      return alertDocs.filter((a) => a.wallet === wallet).reverse().slice(0, limit);
    },
  };

  const health: StoreHealth = {
    async ping(timeoutMs) {
      if (state.hang) return { ok: false, error: `no answer within ${timeoutMs} ms` };
      return state.down ? { ok: false, error: 'database unavailable' } : { ok: true, ms: 0 };
    },
  };

  return { latest, history, rejections, pushes, liquidations, alerts, health, state };
}
export type MemoryStore = ReturnType<typeof createMemoryStore>;
