import type { BusPrice } from '../contracts/bus.ts';
import { ACTIONS } from '../domain/markets.ts';
import type { GradedPrice } from './roles.ts';

/** A graded price as the bus carries it, without the sequence number the bus itself assigns. */
export function toBusPrice(p: GradedPrice): Omit<BusPrice, 'seq'> {
  return {
    symbol: p.symbol,
    feedId: p.feedId,
    source: p.source,
    price: p.price.toString(),
    conf: p.conf.toString(),
    expo: p.expo,
    publishTime: p.publishTime,
    ...(p.slot !== undefined && { slot: p.slot }),
    ...(p.emaPrice !== undefined && { emaPrice: p.emaPrice.toString(), emaConf: (p.emaConf ?? 0n).toString() }),
    receivedAt: p.receivedAt,
    grades: Object.fromEntries(ACTIONS.map((a) => [a, p.grades[a].ok ? 'ok' : p.grades[a].reason])) as BusPrice['grades'],
  };
}
