// A worker-like process for price-writer.test.ts: accepts prices into a writer whose database is
// down, says how many, and waits to be killed (its journal is then all that is left of them).
import { createLogger } from '../../runtime/logger.ts';
import { createMetricsRegistry } from '../../runtime/metrics.ts';
import { createMemoryStore } from '../../store/memory.ts';
import { testMarkets } from '../../tests/support.ts';
import { ingestMetrics } from './metrics.ts';
import { PriceWriter } from './price-writer.ts';

const [journalDir, countArg] = process.argv.slice(2);
const markets = testMarkets();
const SOL = markets.bySymbol('SOL-PERP')!;
const store = createMemoryStore();
store.state.down = true;
const writer = new PriceWriter(store, markets, createLogger('writer-child', 'silent'), ingestMetrics(createMetricsRegistry('child')), { journalDir: journalDir! });
const n = Number(countArg);
for (let i = 0; i < n; i++) {
  writer.addPrice({ symbol: SOL.symbol, feedId: SOL.pythFeedId, source: 'pyth', price: BigInt(1_000 + i), conf: 1n, expo: -8, publishTime: 1_800_000_000 + i, slot: i, hasConfidence: true, receivedAt: Date.now() }, true);
}
writer.persist();
process.stdout.write(`accepted ${n}\n`);
setInterval(() => undefined, 1_000);
