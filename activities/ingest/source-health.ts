import type { SourceProblem, StatusReport } from '../../contracts/status.ts';
import type { Market } from '../../domain/markets.ts';
import type { Source } from '../../domain/price.ts';

/**
 * Per market and per source, why a source cannot deliver a feed group's prices right now: a wrong
 * API key (`unauthorized`), a feed the upstream does not carry (`unknown_feed`), a feed that went
 * quiet while the others still tick (`silent`), or the source failing as a whole (`http_<status>`,
 * `unreachable`). Health and the dashboard show these per market; a change is reported once.
 */
export class SourceHealth {
  private readonly problems = new Map<string, SourceProblem>();
  private announced = '';
  /** Bumped when a problem appears, goes or changes its reason: `changed` has nothing to do otherwise. */
  private version = 0;
  private announcedVersion = -1;

  constructor(
    private readonly feedGroup: string,
    private readonly markets: readonly Market[],
    private readonly now: () => number,
  ) {}

  private static key(symbol: string, source: Source): string {
    return `${symbol}:${source}`;
  }

  /** Sets (or, with `undefined`, clears) the problem of these markets with a source. */
  set(source: Source, symbols: readonly string[], problem: { reason: string; detail: string } | undefined): void {
    for (const symbol of symbols) {
      const key = SourceHealth.key(symbol, source);
      const had = this.problems.get(key);
      if (had?.reason !== problem?.reason) this.version += 1;
      if (!problem) this.problems.delete(key);
      else if (had?.reason !== problem.reason || had.detail !== problem.detail) this.problems.set(key, { source, ...problem, since: had?.reason === problem.reason ? had.since : this.now() });
    }
  }

  /** Clears every problem of a source (it delivers again for all markets). */
  clear(source: Source): void {
    this.set(source, this.markets.map((m) => m.symbol), undefined);
  }

  problemOf(symbol: string, source: Source): SourceProblem | undefined {
    return this.problems.get(SourceHealth.key(symbol, source));
  }

  /** The report to publish when the problems changed since the last one announced, else undefined. */
  changed(): StatusReport | undefined {
    // Called several times a second for groups of thousands of markets: cheap when nothing changed.
    if (this.version === this.announcedVersion) return undefined;
    this.announcedVersion = this.version;
    const byMarket: Record<string, SourceProblem[]> = {};
    for (const m of this.markets) {
      const list = (['pyth', 'coingecko'] as const).map((s) => this.problems.get(SourceHealth.key(m.symbol, s))).filter((p): p is SourceProblem => p !== undefined);
      byMarket[m.symbol] = list;
    }
    const fingerprint = JSON.stringify(Object.entries(byMarket).map(([k, v]) => [k, v.map((p) => `${p.source}:${p.reason}`)]));
    if (fingerprint === this.announced) return undefined;
    this.announced = fingerprint;
    return { kind: 'sources', scope: `sources:${this.feedGroup}`, symbols: this.markets.map((m) => m.symbol), problems: byMarket };
  }
}

/** What an HTTP status of a source means for its markets. */
export function problemOfStatus(status: number | undefined, detail: string): { reason: string; detail: string } {
  if (status === 401 || status === 403) return { reason: 'unauthorized', detail: `HTTP ${status}: check the API key (${detail.slice(0, 120)})` };
  if (status === 429) return { reason: 'rate_limited', detail: `HTTP 429: ${detail.slice(0, 120)}` };
  if (status === 404) return { reason: 'unknown_feed', detail: detail.slice(0, 200) };
  if (status !== undefined) return { reason: `http_${status}`, detail: detail.slice(0, 200) };
  return { reason: 'unreachable', detail: detail.slice(0, 200) };
}
