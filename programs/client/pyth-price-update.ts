// Pyth receiver `PriceUpdateV2` accounts, encoded and decoded by hand from the layout in the IDL
// that npm @pythnetwork/pyth-solana-receiver publishes (Borsh):
//   discriminator [u8; 8] = sha256("account:PriceUpdateV2")[..8]
//   write_authority pubkey
//   verification_level enum { Partial { num_signatures: u8 } = 0, Full = 1 }
//   price_message { feed_id [u8; 32], price i64, conf u64, exponent i32, publish_time i64,
//                   prev_publish_time i64, ema_price i64, ema_conf u64 }
//   posted_slot u64
// The receiver allocates 134 bytes (room for Partial), so a Full update ends with one spare byte.
// Used by tests and the localnet to write such accounts; the program reads them in oracle/pyth.rs.
import { createHash } from 'node:crypto';
import { PublicKey } from '@solana/web3.js';
import { feedIdBytes } from './quantdesk-perp.ts';

export const PRICE_UPDATE_V2_DISCRIMINATOR = createHash('sha256').update('account:PriceUpdateV2').digest().subarray(0, 8);
/** The size the receiver program allocates for a PriceUpdateV2 account. */
export const PRICE_UPDATE_V2_SIZE = 134;

export type VerificationLevel = { kind: 'full' } | { kind: 'partial'; numSignatures: number };

export interface PriceUpdateV2 {
  writeAuthority: PublicKey;
  verification: VerificationLevel;
  /** Hex, no 0x. */
  feedId: string;
  price: bigint;
  conf: bigint;
  exponent: number;
  publishTime: bigint;
  prevPublishTime: bigint;
  emaPrice: bigint;
  emaConf: bigint;
  postedSlot: bigint;
}

export function encodePriceUpdateV2(u: Omit<PriceUpdateV2, 'feedId'> & { feedId: string | Uint8Array }): Buffer {
  const out = Buffer.alloc(PRICE_UPDATE_V2_SIZE);
  let o = 0;
  PRICE_UPDATE_V2_DISCRIMINATOR.copy(out, o);
  o += 8;
  u.writeAuthority.toBuffer().copy(out, o);
  o += 32;
  if (u.verification.kind === 'full') {
    out.writeUInt8(1, o++);
  } else {
    out.writeUInt8(0, o++);
    out.writeUInt8(u.verification.numSignatures, o++);
  }
  Buffer.from(feedIdBytes(u.feedId)).copy(out, o);
  o += 32;
  out.writeBigInt64LE(u.price, o);
  out.writeBigUInt64LE(u.conf, o + 8);
  out.writeInt32LE(u.exponent, o + 16);
  out.writeBigInt64LE(u.publishTime, o + 20);
  out.writeBigInt64LE(u.prevPublishTime, o + 28);
  out.writeBigInt64LE(u.emaPrice, o + 36);
  out.writeBigUInt64LE(u.emaConf, o + 44);
  out.writeBigUInt64LE(u.postedSlot, o + 52);
  return out;
}

export function decodePriceUpdateV2(data: Uint8Array): PriceUpdateV2 {
  const b = Buffer.from(data);
  if (b.length < 133 || !b.subarray(0, 8).equals(PRICE_UPDATE_V2_DISCRIMINATOR)) throw new Error('not a PriceUpdateV2 account');
  let o = 40;
  const tag = b.readUInt8(o++);
  let verification: VerificationLevel;
  if (tag === 1) verification = { kind: 'full' };
  else if (tag === 0) verification = { kind: 'partial', numSignatures: b.readUInt8(o++) };
  else throw new Error(`unknown verification level ${tag}`);
  return {
    writeAuthority: new PublicKey(b.subarray(8, 40)),
    verification,
    feedId: b.subarray(o, o + 32).toString('hex'),
    price: b.readBigInt64LE(o + 32),
    conf: b.readBigUInt64LE(o + 40),
    exponent: b.readInt32LE(o + 48),
    publishTime: b.readBigInt64LE(o + 52),
    prevPublishTime: b.readBigInt64LE(o + 60),
    emaPrice: b.readBigInt64LE(o + 68),
    emaConf: b.readBigUInt64LE(o + 76),
    postedSlot: b.readBigUInt64LE(o + 84),
  };
}
