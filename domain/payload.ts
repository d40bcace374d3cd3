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
    .array(
      // `metadata` stays unknown: a feed's odd metadata must not cost the message its other feeds.
      z.object({ id: z.string().max(80), price: pythPrice, ema_price: pythPrice.partial().optional(), metadata: z.unknown().optional() }).passthrough(),
    )
    .max(10_000),
});

/**
 * The UTF-8 size of a string without encoding it (browser-safe, no allocation). A lone surrogate
 * counts 3 bytes, as the U+FFFD it is encoded to.
 */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

function parseJson(data: string, maxBytes: number): { ok: true; value: unknown } | { ok: false; reason: PayloadRejection; detail: string } {
  // Every UTF-16 unit takes at least one UTF-8 byte: a string longer than the bound is too large
  // without measuring it.
  if (data.length > maxBytes) {
    return { ok: false, reason: 'oversized', detail: `payload of at least ${data.length} bytes exceeds ${maxBytes}` };
  }
  const bytes = utf8Length(data);
  if (bytes > maxBytes) return { ok: false, reason: 'oversized', detail: `payload of ${bytes} bytes exceeds ${maxBytes}` };
  try {
    return { ok: true, value: JSON.parse(data) };
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: `not JSON: ${(e as Error).message.slice(0, 120)}` };
  }
}

const issues = (e: z.ZodError) => e.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/** Hermes' `metadata.slot`, passed on as it came (validation checks it); absent when Hermes sent none. */
function slotOf(metadata: unknown): { slot?: unknown } {
  if (typeof metadata !== 'object' || metadata === null) return {};
  const slot = (metadata as { slot?: unknown }).slot;
  return slot === undefined || slot === null ? {} : { slot };
}

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
      ...slotOf(u.metadata),
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
