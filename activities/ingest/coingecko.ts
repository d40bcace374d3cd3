/** CoinGecko's simple/price endpoint: the raw body, parsed and bounded by the domain, not here. */
export interface CoinGeckoSource {
  simplePrice(ids: readonly string[], signal?: AbortSignal): Promise<string>;
}

export class SourceHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SourceHttpError';
  }
}

export function createCoinGeckoSource(opts: { url: string; apiKey?: string; keyHeader: string; timeoutMs?: number }): CoinGeckoSource {
  const base = opts.url.replace(/\/$/, '');
  return {
    async simplePrice(ids, signal) {
      const url = `${base}/api/v3/simple/price?ids=${ids.map(encodeURIComponent).join(',')}&vs_currencies=usd&include_last_updated_at=true&precision=full`;
      const res = await fetch(url, {
        headers: { accept: 'application/json', ...(opts.apiKey && { [opts.keyHeader]: opts.apiKey }) },
        signal: AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? 5_000), ...(signal ? [signal] : [])]),
      });
      const body = await res.text();
      if (!res.ok) throw new SourceHttpError(res.status, `CoinGecko answered ${res.status}: ${body.slice(0, 200)}`);
      return body;
    },
  };
}
