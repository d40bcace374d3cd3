// Fuzzing every instruction through LiteSVM: each valid instruction of a live market (deposits,
// positions, a liquidatable trader, a keeper) is mutated — an account swapped for another, one
// account passed twice, a signature or a writable flag taken away, accounts cut off, the data cut,
// extended or given a random discriminator — and must then be refused with a named error, without
// a panic, leaving every account byte for byte as it was. Besides the random mutations, every
// signature, every writable flag and every account of each instruction is violated once, in turn.
import fc from 'fast-check';
import { Keypair, PublicKey, SystemProgram, SYSVAR_CLOCK_PUBKEY, TransactionInstruction, type AccountMeta } from '@solana/web3.js';
import { TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  closePositionInstruction,
  configAddress,
  createMarketInstruction,
  depositInstruction,
  deregisterKeeperInstruction,
  insuranceFundAddress,
  keeperAddress,
  liquidateInstruction,
  openPositionInstruction,
  positionAddress,
  registerKeeperInstruction,
  setMarketOracleInstruction,
  vaultAddress,
  withdrawInstruction,
} from '../../client/quantdesk-perp.ts';
import { BASE, BTC_FEED, BUILD_TIMEOUT_MS, MAJOR_PARAMS, PerpHarness, USDC, loadProgram, price, type TxResult } from './harness.ts';

interface Base {
  name: string;
  ix: TransactionInstruction;
  signers: Keypair[];
}

/**
 * A market at $142.10 after a fall from $150: alice's 10 SOL long on $150 is liquidatable, bob's
 * 1 SOL long on $500 is healthy, dave has collateral and no position, a keeper is registered and
 * carol has tokens to register as one.
 */
async function world() {
  const h = await PerpHarness.create();
  const sol = h.createMarket('SOL-PERP', undefined, MAJOR_PARAMS);
  h.mustPush(sol, price({ price: 15_000_000_000n, conf: 0n }, h.now));
  const alice = h.trader(1_000n);
  const bob = h.trader(1_000n);
  const carol = h.trader(1_000n);
  const dave = h.trader(1_000n);
  expect(h.openWith(alice, sol, 150n * USDC, 10n * BASE).ok).toBe(true);
  expect(h.openWith(bob, sol, 500n * USDC, BASE).ok).toBe(true);
  expect(h.deposit(dave, sol, 200n * USDC).ok).toBe(true);
  h.fundInsurance(1_000n * USDC);
  const keeper = h.keeper();
  h.advance(2);
  h.mustPush(sol, price({ price: 14_210_000_000n, conf: 0n, ageSec: 0 }, h.now));
  h.advance(1);
  const programId = h.programId;
  const bases: Base[] = [
    { name: 'deposit', ix: depositInstruction({ owner: bob.keypair.publicKey, market: sol, ownerTokenAccount: bob.tokenAccount, amount: USDC, programId }), signers: [bob.keypair] },
    { name: 'withdraw', ix: withdrawInstruction({ owner: bob.keypair.publicKey, market: sol, ownerTokenAccount: bob.tokenAccount, amount: USDC, programId }), signers: [bob.keypair] },
    { name: 'open_position', ix: openPositionInstruction({ owner: dave.keypair.publicKey, market: sol, size: BASE, programId }), signers: [dave.keypair] },
    { name: 'close_position', ix: closePositionInstruction({ owner: bob.keypair.publicKey, market: sol, programId }), signers: [bob.keypair] },
    {
      name: 'liquidate',
      ix: liquidateInstruction({ keeper: keeper.keypair.publicKey, market: sol, owner: alice.keypair.publicKey, keeperTokenAccount: keeper.tokenAccount, programId }),
      signers: [keeper.keypair],
    },
    { name: 'update_oracle_price', ix: h.pushIx([{ market: sol, price: price({ price: 14_200_000_000n, conf: 0n, ageSec: 0 }, h.now) }]), signers: [h.oracle] },
    { name: 'deregister_keeper', ix: deregisterKeeperInstruction({ authority: keeper.keypair.publicKey, programId }), signers: [keeper.keypair] },
    { name: 'set_market_oracle', ix: setMarketOracleInstruction({ admin: h.admin.publicKey, market: sol, oracle: Keypair.generate().publicKey, programId }), signers: [h.admin] },
    { name: 'create_market', ix: createMarketInstruction({ admin: h.admin.publicKey, symbol: 'BTC-PERP', feedId: BTC_FEED, params: MAJOR_PARAMS, programId }), signers: [h.admin] },
    { name: 'register_keeper', ix: registerKeeperInstruction({ authority: carol.keypair.publicKey, authorityTokenAccount: carol.tokenAccount, stake: 100n * USDC, programId }), signers: [carol.keypair] },
  ];
  // Every account a mutation may put in: the instructions' own, the programs, a stranger.
  const pool = new Map<string, PublicKey>();
  const add = (k: PublicKey) => pool.set(k.toBase58(), k);
  for (const b of bases) for (const k of b.ix.keys) add(k.pubkey);
  for (const t of [alice, bob, carol, dave, keeper]) {
    add(t.keypair.publicKey);
    add(t.tokenAccount);
    add(positionAddress(sol, t.keypair.publicKey, programId));
    add(keeperAddress(t.keypair.publicKey, programId));
  }
  for (const k of [configAddress(programId), vaultAddress(programId), insuranceFundAddress(programId), h.mint.publicKey, TOKEN_PROGRAM_ID, SystemProgram.programId, SYSVAR_CLOCK_PUBKEY, programId, h.payer.publicKey, Keypair.generate().publicKey]) add(k);
  return { h, bases, pool: [...pool.values()], market: sol, victimPosition: positionAddress(sol, alice.keypair.publicKey, programId) };
}

type World = Awaited<ReturnType<typeof world>>;

/** Every pool account as it is now: owner, lamports and data. */
function snapshot(w: World): Map<string, string> {
  const m = new Map<string, string>();
  for (const k of w.pool) {
    const a = w.h.account(k);
    // The fee payer pays for a failed transaction too: only its lamports may move.
    const lamports = k.equals(w.h.payer.publicKey) ? '-' : String(a?.lamports);
    m.set(k.toBase58(), a ? `${a.owner.toBase58()}:${lamports}:${Buffer.from(a.data).toString('hex')}` : 'absent');
  }
  return m;
}

type Mutation =
  | { kind: 'replace'; at: number; by: number }
  | { kind: 'duplicate'; at: number; from: number }
  | { kind: 'unsign'; at: number }
  | { kind: 'readonly'; at: number }
  | { kind: 'truncate-accounts'; keep: number }
  | { kind: 'truncate-data'; keep: number }
  | { kind: 'extend-data'; extra: Uint8Array }
  | { kind: 'discriminator'; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), by: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), from: fc.nat() }),
  fc.record({ kind: fc.constant('unsign' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('readonly' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate-accounts' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('truncate-data' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('extend-data' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('discriminator' as const), bytes: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
);

/** The mutated instruction, or undefined when the mutation does not apply (nothing would change). */
function mutate(base: Base, m: Mutation, pool: PublicKey[]): { ix: TransactionInstruction; signers: Keypair[] } | undefined {
  const keys: AccountMeta[] = base.ix.keys.map((k) => ({ ...k }));
  let data = Buffer.from(base.ix.data);
  const n = keys.length;
  switch (m.kind) {
    case 'replace': {
      const at = m.at % n;
      const by = pool[m.by % pool.length]!;
      if (by.equals(keys[at]!.pubkey)) return undefined;
      keys[at] = { ...keys[at]!, pubkey: by };
      break;
    }
    case 'duplicate': {
      const at = m.at % n;
      const from = m.from % n;
      if (keys[from]!.pubkey.equals(keys[at]!.pubkey)) return undefined;
      keys[at] = { ...keys[at]!, pubkey: keys[from]!.pubkey };
      break;
    }
    case 'unsign': {
      const signers = keys.map((k, i) => [k, i] as const).filter(([k]) => k.isSigner);
      if (signers.length === 0) return undefined;
      keys[signers[m.at % signers.length]![1]]!.isSigner = false;
      break;
    }
    case 'readonly': {
      const writable = keys.map((k, i) => [k, i] as const).filter(([k]) => k.isWritable);
      if (writable.length === 0) return undefined;
      keys[writable[m.at % writable.length]![1]]!.isWritable = false;
      break;
    }
    case 'truncate-accounts':
      keys.length = m.keep % n;
      break;
    case 'truncate-data':
      data = data.subarray(0, m.keep % data.length);
      break;
    case 'extend-data':
      data = Buffer.concat([data, m.extra]);
      break;
    case 'discriminator':
      if (Buffer.from(m.bytes).equals(data.subarray(0, 8))) return undefined;
      data = Buffer.concat([Buffer.from(m.bytes), data.subarray(8)]);
      break;
  }
  // A key passed twice takes the strongest flags of its places (as the runtime merges them): an
  // unsigned place of a key that signs elsewhere still signs. Such a mutation changes nothing.
  const signedKeys = keys.filter((k) => k.isSigner).map((k) => k.pubkey.toBase58());
  if (m.kind === 'unsign' && keys.some((k) => !k.isSigner && signedKeys.includes(k.pubkey.toBase58()))) return undefined;
  if (m.kind === 'readonly') {
    const readonly = keys.find((k, i) => !k.isWritable && base.ix.keys[i]!.isWritable)!;
    if (keys.some((k) => k.isWritable && k.pubkey.equals(readonly.pubkey))) return undefined;
  }
  // Only keys we hold can sign: a replacement that is not one of them loses its signature.
  const signers = base.signers.filter((s) => signedKeys.includes(s.publicKey.toBase58()));
  for (const k of keys) if (k.isSigner && !signers.some((s) => s.publicKey.equals(k.pubkey))) k.isSigner = false;
  return { ix: new TransactionInstruction({ programId: base.ix.programId, keys, data }), signers };
}

/**
 * The outcome every mutation must have: refused by name, without a panic, nothing changed. The one
 * designed exception (the market allows permissionless liquidation): a liquidator that is not a
 * registered keeper — a keeper account swapped for another — succeeds once, only recording in
 * alice's position the slot it was first seen liquidatable (and in the market the price it used).
 * Returns the refusal's name, or 'Deferred'; `state.before` follows the accounts.
 */
function expectRefused(w: World, base: Base, r: TxResult, what: string, state: { before: Map<string, string> }): string {
  if (r.ok && base.name === 'liquidate' && r.logs.includes('Program log: liquidation deferred to registered keepers')) {
    const after = snapshot(w);
    const changed = [...state.before].filter(([k, v]) => after.get(k) !== v).map(([k]) => k);
    expect(changed.sort(), what).toEqual([w.victimPosition.toBase58(), w.market.toBase58()].sort());
    state.before = after;
    return 'Deferred';
  }
  expect(r.ok, `${what} succeeded:\n${r.logs.join('\n')}`).toBe(false);
  expect(r.logs.join('\n'), what).not.toMatch(/panicked|ProgramFailedToComplete|exceeded CUs/);
  // Named: the program's own error, or the runtime's refusal (a missing signature, a write to a read-only account).
  const name = r.error ?? r.failure?.match(/err: (?:InstructionError\(\d+, )?([A-Z][A-Za-z]+)/)?.[1];
  expect(name, `${what}: ${r.failure}`).toBeTruthy();
  const after = snapshot(w);
  for (const [k, v] of state.before) expect(after.get(k), `${what} changed ${k}`).toBe(v);
  return name!;
}

describe('instruction fuzzing (LiteSVM)', () => {
  beforeAll(() => loadProgram(), BUILD_TIMEOUT_MS);

  it('every base instruction succeeds unmutated (so that each refusal below is the mutation\'s doing)', async () => {
    const names = (await world()).bases.map((b) => b.name);
    for (const name of names) {
      const w = await world();
      const b = w.bases.find((x) => x.name === name)!;
      const r = w.h.send([b.ix], b.signers, { feePayer: w.h.payer });
      expect(r.ok, `${name}: ${r.error ?? r.failure}\n${r.logs.join('\n')}`).toBe(true);
    }
  }, 120_000);

  it('refuses each instruction with any one signature taken away, any one writable flag taken away, or any one account swapped for a stranger\'s', async () => {
    const w = await world();
    const state = { before: snapshot(w) };
    const stranger = w.pool.length - 1;
    expect(w.h.account(w.pool[stranger]!)).toBeUndefined();
    let checked = 0;
    for (const base of w.bases) {
      const keys = base.ix.keys;
      const cases: Extract<Mutation, { at: number }>[] = [
        ...keys.flatMap((k, i) => (k.isSigner ? [{ kind: 'unsign' as const, at: keys.slice(0, i).filter((x) => x.isSigner).length }] : [])),
        ...keys.flatMap((k, i) => (k.isWritable ? [{ kind: 'readonly' as const, at: keys.slice(0, i).filter((x) => x.isWritable).length }] : [])),
        ...keys.map((_k, i) => ({ kind: 'replace' as const, at: i, by: stranger })),
      ];
      for (const m of cases) {
        const mutated = mutate(base, m, w.pool);
        if (!mutated) continue;
        const r = w.h.send([mutated.ix], mutated.signers, { feePayer: w.h.payer });
        expectRefused(w, base, r, `${base.name}: ${m.kind} of account ${m.kind === 'replace' ? m.at : `#${m.at} of its kind`}`, state);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(60);
  }, 120_000);

  it('refuses every mutated instruction by name, without a panic or any account change', async () => {
    const w = await world();
    const state = { before: snapshot(w) };
    const refusals = new Map<string, number>();
    let tried = 0;
    fc.assert(
      fc.property(fc.nat(), mutation, (which, m) => {
        const base = w.bases[which % w.bases.length]!;
        const mutated = mutate(base, m, w.pool);
        fc.pre(mutated !== undefined);
        tried += 1;
        const r = w.h.send([mutated!.ix], mutated!.signers, { feePayer: w.h.payer });
        const what = `${base.name} with ${JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}`;
        const name = expectRefused(w, base, r, what, state);
        refusals.set(name, (refusals.get(name) ?? 0) + 1);
      }),
      // One chain for all runs: no shrinking, which would replay on a chain a failure may have changed.
      { seed: 20_261_202, numRuns: 1_000, endOnFailure: true },
    );
    expect(tried).toBeGreaterThan(800);
    // The refusals are varied: the program's checks, not one catch-all, answered.
    expect(refusals.size).toBeGreaterThan(5);
  }, 180_000);
});
