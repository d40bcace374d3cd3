import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { simplePriceBody, simplePriceQuerySchema, type CoinEntry, type CoingeckoQuote } from './coingecko-wire.ts';
import { biasUsd, type FaultBoard } from './faults.ts';
import type { FeedCatalogue, SimFeed } from './feeds.ts';
import type { RequestGate } from './request-gate.ts';

export interface CoingeckoApiDeps {
  readonly catalogue: FeedCatalogue;
  readonly board: FaultBoard;
  readonly gate: RequestGate;
  /** The latest CoinGecko sample of a feed. */
  readonly latest: (feedId: string) => CoingeckoQuote | undefined;
  readonly apiKey: string | undefined;
  readonly logger: Logger;
}

export interface CoingeckoApi {
  /** Serves `/api/v3/simple/price`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(body);
}

/** CoinGecko's error body for key problems (error codes from its "Errors" documentation). */
function keyError(code: number, message: string): string {
  return JSON.stringify({ status: { error_code: code, error_message: message } });
}

/** CoinGecko's `/api/v3/simple/price`, the fallback source. */
export function createCoingeckoApi(deps: CoingeckoApiDeps): CoingeckoApi {
  const { catalogue, board, gate, logger } = deps;

  /** The key may come as a header (pro or demo) or as the matching query parameter. */
  function presentedKey(req: IncomingMessage, url: URL): string | undefined {
    const header = req.headers['x-cg-pro-api-key'] ?? req.headers['x-cg-demo-api-key'];
    if (typeof header === 'string') return header;
    return url.searchParams.get('x_cg_pro_api_key') ?? url.searchParams.get('x_cg_demo_api_key') ?? undefined;
  }

  return {
    handle(req, res, url) {
      if (url.pathname !== '/api/v3/simple/price') return false;
      if (board.isKilled('coingecko')) {
        req.socket.destroy();
        return true;
      }
      if (req.method !== 'GET') {
        sendJson(res, 405, JSON.stringify({ error: 'Method Not Allowed' }));
        return true;
      }
      if (deps.apiKey !== undefined) {
        const key = presentedKey(req, url);
        if (key !== deps.apiKey) {
          logger.warn({ path: url.pathname, keyPresent: key !== undefined }, 'request.unauthorised');
          sendJson(
            res,
            401,
            key === undefined ? keyError(10002, 'API Key Missing') : keyError(10010, 'Invalid API Key'),
          );
          return true;
        }
      }
      const q = simplePriceQuerySchema.safeParse(Object.fromEntries(url.searchParams));
      if (!q.success) {
        sendJson(res, 400, JSON.stringify({ error: q.error.issues[0]?.message ?? 'invalid query' }));
        return true;
      }
      const feeds = q.data.ids
        .map((id) => catalogue.byCoingeckoId(id))
        .filter((f): f is SimFeed => f !== undefined);
      gate.admit('coingecko', new Set(feeds.map((f) => f.id)), req, res, () => {
        const entries = new Map<string, CoinEntry>();
        for (const f of feeds) {
          const sample = deps.latest(f.id);
          if (sample === undefined) continue;
          // A bias shifts the price as served; the sample (and its last_updated_at) stays as taken.
          const quote = { ...sample, usd: biasUsd(sample.usd, board.biasBps('coingecko', f.id)) };
          // A polled source: each response counts as one update for "the next N updates".
          entries.set(f.coingeckoId, { quote, corruption: board.takeCorruption('coingecko', f.id) });
        }
        sendJson(res, 200, simplePriceBody(q.data, entries, Math.floor(Date.now() / 1000)));
      }, { parkWhenStalled: true });
      return true;
    },
  };
}
