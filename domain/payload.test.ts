import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCoinGeckoPrices, parseHermesMessage, utf8Length } from './payload.ts';
import { shippedMarkets as markets } from './test-fixtures.ts';

const sol = markets.bySymbol('SOL-PERP')!;

const entry = (id: string, price: unknown = '15000000000', metadata: unknown = { slot: 1, proof_available_time: 1_800_000_001, prev_publish_time: 1_799_999_999 }) => ({
  id,
  price: { price, conf: '1500000', expo: -8, publish_time: 1_800_000_000 },
  ema_price: { price: '14990000000', conf: '1400000', expo: -8, publish_time: 1_800_000_000 },
  metadata,
});
const update = (id: string, price: unknown = '15000000000') =>
  JSON.stringify({ binary: { encoding: 'hex', data: ['00'] }, parsed: [entry(id, price)] });

describe('parseHermesMessage', () => {
  it('turns each parsed update into an observation, ids normalised', () => {
    const r = parseHermesMessage(update(`0x${sol.pythFeedId.toUpperCase()}`));
    expect(r).toEqual({
      ok: true,
      observations: [
        { source: 'pyth', feedId: sol.pythFeedId, price: '15000000000', conf: '1500000', expo: -8, publishTime: 1_800_000_000, emaPrice: '14990000000', emaConf: '1400000', slot: 1 },
      ],
    });
  });

  it('carries the slot when Hermes sends one, and keeps the update when it sends none or odd metadata', () => {
    const { metadata: _, ...noMetadata } = entry(sol.pythFeedId);
    const feeds = [noMetadata, entry(sol.pythFeedId, undefined, { slot: null }), entry(sol.pythFeedId, undefined, 'odd'), entry(sol.pythFeedId, undefined, { slot: 'x' })];
    const r = parseHermesMessage(JSON.stringify({ parsed: feeds }));
    expect(r.ok && r.observations.map((o) => o.slot)).toEqual([undefined, undefined, undefined, 'x']);
    expect(r.ok && r.observations.map((o) => 'slot' in o)).toEqual([false, false, false, true]);
  });

  it('passes odd values through to validation instead of dropping the message', () => {
    const r = parseHermesMessage(update(sol.pythFeedId, 'NaN'));
    expect(r.ok && r.observations[0]?.price).toBe('NaN');
  });

  it('rejects what is not JSON, not a price update, or too large', () => {
    expect(parseHermesMessage('{"parsed": [')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseHermesMessage('{"binary": {}}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseHermesMessage(JSON.stringify({ parsed: [{ id: 'x' }] }))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseHermesMessage(update(sol.pythFeedId), 100)).toMatchObject({ ok: false, reason: 'oversized' });
  });

  it('bounds the size in UTF-8 bytes, not in characters', () => {
    const padded = (pad: string) => JSON.stringify({ parsed: [], pad });
    const ascii = padded('e'.repeat(60));
    expect(parseHermesMessage(ascii, utf8Length(ascii))).toMatchObject({ ok: true });
    const accented = padded('é'.repeat(60)); // 2 bytes each: as many characters, 60 bytes more
    expect(accented.length).toBe(ascii.length);
    expect(parseHermesMessage(accented, utf8Length(ascii))).toMatchObject({ ok: false, reason: 'oversized', detail: expect.stringContaining(`${utf8Length(ascii) + 60} bytes`) });
  });
});

describe('utf8Length', () => {
  it('is the length TextEncoder gives, lone surrogates included', () => {
    const encoder = new TextEncoder();
    expect(utf8Length('a\u00e9\u20ac\u{1f600}\ud800')).toBe(1 + 2 + 3 + 4 + 3);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)) }), (a, b) => {
        expect(utf8Length(a + b)).toBe(encoder.encode(a + b).length);
      }),
    );
  });
});

describe('parseCoinGeckoPrices', () => {
  it('maps CoinGecko ids to markets and reports the missing ones', () => {
    const body = JSON.stringify({ solana: { usd: 151.23, last_updated_at: 1_800_000_000 }, dogecoin: { usd: 0.1 } });
    const r = parseCoinGeckoPrices(body, markets, ['solana', 'bitcoin']);
    expect(r).toEqual({
      ok: true,
      observations: [{ source: 'coingecko', feedId: sol.pythFeedId, price: 151.23, publishTime: 1_800_000_000 }],
      missing: ['bitcoin'],
    });
  });

  it('rejects bodies of the wrong shape', () => {
    expect(parseCoinGeckoPrices('[1,2]', markets, ['solana'])).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseCoinGeckoPrices('{"solana": 5}', markets, ['solana'])).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
