import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Keypair } from '@solana/web3.js';
import {
  PERP_ERRORS,
  PRICE_ERROR_REASONS,
  customErrorCode,
  depositInstruction,
  marketParamsFromRegistry,
  perpErrorCode,
  perpErrorName,
  positionAddress,
  updateOraclePriceInstruction,
} from './quantdesk-perp.ts';
import { decodePriceUpdateV2, encodePriceUpdateV2 } from './pyth-price-update.ts';
import { marketRegistrySchema } from '../../domain/markets.ts';

describe('quantdesk-perp client', () => {
  it('maps error codes and names both ways, from any failure shape', () => {
    expect(perpErrorName(6023)).toBe('PriceStale');
    expect(perpErrorCode('PositionNotOpen')).toBe(6039);
    expect(customErrorCode({ InstructionError: [0, { Custom: 6040 }] })).toBe(6040);
    expect(customErrorCode({ transactionError: { err: { InstructionError: [1, { Custom: 6025 }] } } })).toBe(6025);
    expect(customErrorCode(new Error('x'), ['Program x failed: custom program error: 0x1777'])).toBe(6007);
    expect(customErrorCode({ InstructionError: [0, 'InvalidArgument'] })).toBeUndefined();
    for (const name of Object.keys(PRICE_ERROR_REASONS)) expect([...PERP_ERRORS.values()].some((e) => e.name === name), name).toBe(true);
  });

  it('turns the registry\'s bounds into create_market parameters', () => {
    const registry = marketRegistrySchema.parse(JSON.parse(readFileSync(new URL('../../config/markets.json', import.meta.url), 'utf8')));
    const sol = marketParamsFromRegistry(registry.markets[0]!);
    expect(sol).toEqual({
      expoMin: -18,
      expoMax: 0,
      maxFutureSkewSec: 5,
      maxAgeDisplaySec: 60,
      maxAgePushSec: 30,
      maxAgeMarginSec: 20,
      maxAgeLiquidationSec: 10,
      maxConfPushBps: 100,
      maxConfMarginBps: 75,
      maxConfLiquidationBps: 50,
      initialMarginBps: 1000,
      maintenanceMarginBps: 500,
      liquidationFeeBps: 100,
      sanityBandBps: 1000,
      emaBandBps: 2000,
      liquidationBufferBps: 200,
      insuranceFeeShareBps: 2500,
      minPositionNotional: 10_000_000n,
      permissionlessLiquidation: true,
      permissionlessAfterSlots: 150n,
    });
  });

  it('orders accounts as the IDL does and appends one writable market per pushed price', () => {
    const owner = Keypair.generate().publicKey;
    const market = Keypair.generate().publicKey;
    const ix = depositInstruction({ owner, market, ownerTokenAccount: Keypair.generate().publicKey, amount: 5n });
    expect(ix.keys.map((k) => [k.isSigner, k.isWritable])).toEqual([
      [true, true],
      [false, false],
      [false, false],
      [false, true],
      [false, true],
      [false, true],
      [false, false],
      [false, false],
    ]);
    expect(ix.keys[3]!.pubkey.equals(positionAddress(market, owner))).toBe(true);
    const markets = [Keypair.generate().publicKey, Keypair.generate().publicKey];
    const push = updateOraclePriceInstruction({ oracleAuthority: owner, updates: markets.map((m) => ({ market: m, price: { price: 1n, conf: 0n, expo: -8, publishTime: 2n } })) });
    expect(push.keys.slice(2).map((k) => [k.pubkey.toBase58(), k.isWritable])).toEqual(markets.map((m) => [m.toBase58(), true]));
    // discriminator, u32 count, then 28 bytes per update
    expect(push.data.length).toBe(8 + 4 + 2 * 28);
  });

  it('encodes PriceUpdateV2 accounts that decode back, Full and Partial', () => {
    const base = {
      writeAuthority: Keypair.generate().publicKey,
      feedId: 'ab'.repeat(32),
      price: -5n,
      conf: 7n,
      exponent: -8,
      publishTime: 1_800_000_000n,
      prevPublishTime: 1_799_999_999n,
      emaPrice: 6n,
      emaConf: 8n,
      postedSlot: 9n,
    };
    for (const verification of [{ kind: 'full' } as const, { kind: 'partial', numSignatures: 3 } as const]) {
      const data = encodePriceUpdateV2({ ...base, verification });
      expect(data.length).toBe(134);
      expect(decodePriceUpdateV2(data)).toEqual({ ...base, verification });
    }
  });
});
