import { z } from 'zod';
import type { MarketIndex } from './markets.ts';
import type { Observation } from './validation.ts';

/**
 * Source payloads → observations, pure. Envelope problems (not JSON, wrong shape, too large) reject
 * the whole payload; each observation inside is then validated on its own (domain/validation.ts),
 * so one bad feed in a message never costs the others.
 */

export const PAYLOAD_REJECTIONS = ['malformed', 'oversized'] as const;
export type PayloadRejection = (typeof PAYLOAD_REJECTIONS)[number];

export type PayloadResult =
  | { ok: true; observations: Observation[] }
  | { ok: false; reason: PayloadRejection; detail: string };

/** Hermes sends one message per slot with every subscribed feed: ~200 bytes per feed, so 1 MiB is ample. */
export const MAX_PAYLOAD_BYTES = 1 << 20;

const pythPrice = z.object({ price: z.unknown(), conf: z.unknown(), expo: z.unknown(), publish_time: z.unknown() }).passthrough();
const hermesUpdate = z.object({
  parsed: z
    .array(z.object({ id: z.string().max(80), price: pythPrice, ema_price: pythPrice.partial().optional() }).passthrough())
    .max(10_000),
});

function parseJson(data: string, maxBytes: number): { ok: true; value: unknown } | { ok: false; reason: PayloadRejection; detail: string } {
  // String length bounds the UTF-8 size from below; checking it first avoids measuring huge strings.
  if (data.length > maxBytes || Buffer.byteLength(data) > maxBytes) {
    return { ok: false, reason: 'oversized', detail: `payload of ${Buffer.byteLength(data)} bytes exceeds ${maxBytes}` };
  }
  try {
    return { ok: true, value: JSON.parse(data) };
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: `not JSON: ${(e as Error).message.slice(0, 120)}` };
  }
}

const issues = (e: z.ZodError) => e.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/** One Hermes SSE message (or /v2/updates/price/latest body) with `parsed` updates. */
export function parseHermesMessage(data: string, maxBytes = MAX_PAYLOAD_BYTES): PayloadResult {
  const json = parseJson(data, maxBytes);
  if (!json.ok) return json;
  const envelope = hermesUpdate.safeParse(json.value);
  if (!envelope.success) return { ok: false, reason: 'malformed', detail: `not a Hermes price update: ${issues(envelope.error)}` };
  return {
    ok: true,
    observations: envelope.data.parsed.map((u) => ({
      source: 'pyth' as const,
      feedId: u.id.toLowerCase().replace(/^0x/, ''),
      price: u.price.price,
      conf: u.price.conf,
      expo: u.price.expo,
      publishTime: u.price.publish_time,
      ...(u.ema_price?.price !== undefined && { emaPrice: u.ema_price.price, emaConf: u.ema_price.conf }),
    })),
  };
}

const coingeckoBody = z.record(
  z.string(),
  z.object({ usd: z.unknown(), last_updated_at: z.unknown() }).partial().passthrough(),
);

/**
 * A CoinGecko `/simple/price?vs_currencies=usd&include_last_updated_at=true` body. Ids the registry
 * does not know are ignored (we asked for ours); a requested id that is missing is reported.
 */
export function parseCoinGeckoPrices(
  data: string,
  markets: MarketIndex,
  requested: readonly string[],
  maxBytes = MAX_PAYLOAD_BYTES,
): PayloadResult & { missing?: string[] } {
  const json = parseJson(data, maxBytes);
  if (!json.ok) return json;
  const body = coingeckoBody.safeParse(json.value);
  if (!body.success) return { ok: false, reason: 'malformed', detail: `not a CoinGecko simple/price body: ${issues(body.error)}` };
  const byId = new Map(markets.all.map((m) => [m.coingeckoId, m]));
  const observations: Observation[] = [];
  const missing: string[] = [];
  for (const id of requested) {
    const entry = body.data[id];
    const market = byId.get(id);
    if (!entry || !market) {
      missing.push(id);
      continue;
    }
    observations.push({ source: 'coingecko', feedId: market.pythFeedId, price: entry.usd, publishTime: entry.last_updated_at });
  }
  return { ok: true, observations, missing };
}
