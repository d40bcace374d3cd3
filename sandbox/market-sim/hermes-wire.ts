import {
  ABSURD_EXPO_HIGH,
  ABSURD_EXPO_LOW,
  OVERSIZE_BYTES,
  TIME_SHIFT_SEC,
  type Corruption,
} from './faults.ts';
import type { PythQuote } from './price-walk.ts';
import { hashHex } from './random.ts';

/** One update as the simulated Hermes published it, ready to be written to any number of clients. */
export interface PublishedUpdate {
  readonly feedId: string;
  readonly slot: number;
  /** Unix seconds, as emitted (a stale/future injection shifts it). */
  readonly publishTime: number;
  readonly prevPublishTime: number;
  /** Price mantissa as emitted (a decimal integer string, or "NaN" when so corrupted). */
  readonly price: string;
  readonly expo: number;
  readonly publishedAtMs: number;
  readonly corruption: Corruption | undefined;
  /** The `parsed[]` entry, serialised once. */
  readonly parsedJson: string;
  /** This feed's part of the `binary` blob. */
  readonly binary: Buffer;
}

export interface UpdateInput {
  readonly feedId: string;
  readonly quote: PythQuote;
  readonly slot: number;
  readonly publishTime: number;
  readonly prevPublishTime: number;
  readonly nowSec: number;
  readonly publishedAtMs: number;
  readonly corruption: Corruption | undefined;
}

/** The id an `unknown-id` injection puts on a feed's entry: stable, and in no registry. */
export function unknownIdFor(feedId: string): string {
  return hashHex(`quantdesk-market-sim/unknown/${feedId}`);
}

const BINARY_MAGIC = Buffer.from('QDSM', 'ascii');
const BINARY_VERSION = 1;
/** 32-byte id, i64 price, u64 conf, i32 expo, i64 publish time, i64 previous publish time, i64 EMA price, u64 EMA conf. */
const BINARY_ENTRY_BYTES = 32 + 8 + 8 + 4 + 8 + 8 + 8 + 8;

/**
 * The simulator's `binary` payload: magic "QDSM", version, a u16 count, then one big-endian entry per
 * feed. It carries the same values as `parsed` but is NOT a Wormhole-signed accumulator update, so it
 * cannot be verified on-chain (a deliberate difference from real Hermes).
 */
function encodeEntry(u: {
  id: string;
  price: bigint;
  conf: bigint;
  expo: number;
  publishTime: number;
  prevPublishTime: number;
  emaPrice: bigint;
  emaConf: bigint;
}): Buffer {
  const b = Buffer.alloc(BINARY_ENTRY_BYTES);
  b.write(u.id, 0, 'hex');
  b.writeBigInt64BE(BigInt.asIntN(64, u.price), 32);
  b.writeBigUInt64BE(BigInt.asUintN(64, u.conf), 40);
  b.writeInt32BE(u.expo, 48);
  b.writeBigInt64BE(BigInt(u.publishTime), 52);
  b.writeBigInt64BE(BigInt(u.prevPublishTime), 60);
  b.writeBigInt64BE(BigInt.asIntN(64, u.emaPrice), 68);
  b.writeBigUInt64BE(BigInt.asUintN(64, u.emaConf), 76);
  return b;
}

/** Builds an update, applying the per-entry part of a corruption (whole-message kinds apply later). */
export function buildUpdate(input: UpdateInput): PublishedUpdate {
  const { quote, corruption } = input;
  let id = input.feedId;
  let price: bigint | 'NaN' = quote.price;
  let expo = quote.expo;
  let publishTime = input.publishTime;
  switch (corruption) {
    case 'nan-price':
      price = 'NaN';
      break;
    case 'negative-price':
      price = -quote.price;
      break;
    case 'zero-price':
      price = 0n;
      break;
    case 'expo-high':
      expo = ABSURD_EXPO_HIGH;
      break;
    case 'expo-low':
      expo = ABSURD_EXPO_LOW;
      break;
    case 'stale-time':
      publishTime = input.nowSec - TIME_SHIFT_SEC;
      break;
    case 'future-time':
      publishTime = input.nowSec + TIME_SHIFT_SEC;
      break;
    case 'unknown-id':
      id = unknownIdFor(input.feedId);
      break;
    default:
      break;
  }
  const priceText = price.toString();
  const parsed = {
    id,
    price: { price: priceText, conf: quote.conf.toString(), expo, publish_time: publishTime },
    ema_price: {
      price: quote.emaPrice.toString(),
      conf: quote.emaConf.toString(),
      expo,
      publish_time: publishTime,
    },
    metadata: {
      slot: input.slot,
      proof_available_time: input.nowSec,
      prev_publish_time: input.prevPublishTime,
    },
  };
  return {
    feedId: input.feedId,
    slot: input.slot,
    publishTime,
    prevPublishTime: input.prevPublishTime,
    price: priceText,
    expo,
    publishedAtMs: input.publishedAtMs,
    corruption,
    parsedJson: JSON.stringify(parsed),
    binary: encodeEntry({
      id,
      price: price === 'NaN' ? 0n : price,
      conf: quote.conf,
      expo,
      publishTime,
      prevPublishTime: input.prevPublishTime,
      emaPrice: quote.emaPrice,
      emaConf: quote.emaConf,
    }),
  };
}

export type Encoding = 'hex' | 'base64';

/**
 * The JSON body of one Hermes `PriceUpdate` (an SSE event's data, or the `/latest` response) for these
 * updates. A `malformed-json` update truncates the message; an `oversized` one pads the binary blob.
 */
export function priceUpdateMessage(
  updates: readonly PublishedUpdate[],
  options: { encoding: Encoding; parsed: boolean },
): string {
  const header = Buffer.alloc(BINARY_MAGIC.length + 3);
  BINARY_MAGIC.copy(header, 0);
  header.writeUInt8(BINARY_VERSION, 4);
  header.writeUInt16BE(updates.length, 5);
  const parts = [header, ...updates.map((u) => u.binary)];
  if (updates.some((u) => u.corruption === 'oversized')) parts.push(Buffer.alloc(OVERSIZE_BYTES));
  const binary = JSON.stringify({
    encoding: options.encoding,
    data: [Buffer.concat(parts).toString(options.encoding)],
  });
  const parsed = options.parsed ? `,"parsed":[${updates.map((u) => u.parsedJson).join(',')}]` : '';
  const message = `{"binary":${binary}${parsed}}`;
  if (updates.some((u) => u.corruption === 'malformed-json')) {
    return message.slice(0, Math.ceil(message.length / 2));
  }
  return message;
}
