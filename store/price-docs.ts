import { orderAgainst } from '../domain/validation.ts';
import type { AcceptedPrice, LatestPriceDoc } from './roles.ts';

/** How an accepted price is written and read back: mantissas as decimal strings, times as numbers. */
export const toLatestDoc = (p: AcceptedPrice): Omit<LatestPriceDoc, 'stale'> => ({
  feedId: p.feedId,
  symbol: p.symbol,
  source: p.source,
  price: p.price.toString(),
  conf: p.conf.toString(),
  expo: p.expo,
  publishTime: p.publishTime,
  ...(p.slot !== undefined && { slot: p.slot }),
  ...(p.emaPrice !== undefined && { emaPrice: p.emaPrice.toString(), emaConf: (p.emaConf ?? 0n).toString() }),
  receivedAt: new Date(p.receivedAt),
});

export const fromLatestDoc = (d: Omit<LatestPriceDoc, 'stale' | 'staleSince'>): AcceptedPrice => ({
  feedId: d.feedId,
  symbol: d.symbol,
  source: d.source,
  price: BigInt(d.price),
  conf: BigInt(d.conf),
  expo: d.expo,
  publishTime: d.publishTime,
  ...(d.slot !== undefined && { slot: d.slot }),
  ...(d.emaPrice !== undefined && { emaPrice: BigInt(d.emaPrice), emaConf: BigInt(d.emaConf ?? '0') }),
  hasConfidence: d.source === 'pyth',
  receivedAt: new Date(d.receivedAt).getTime(),
});

/** Whether `a` is a newer update than `b` of the same feed: a later publish time, or the same one at a later slot. */
export const isNewer = (a: { publishTime: number; slot?: number }, b: { publishTime: number; slot?: number } | undefined): boolean =>
  !b || orderAgainst(a, b) === 'newer';
