// Compute units per quantdesk_perp instruction, measured in LiteSVM (the packed program, the real
// SPL Token program for CPIs):
//
//   tsx bench/program-cu.ts [--markets 16] [--json]
//
// update_oracle_price is measured for 1 market and for N markets in one transaction (N: the most a
// legacy transaction fits, or --markets); priced instructions with the pushed price and through a
// pinned PriceUpdateV2 account; liquidate partial (fee to keeper and insurance fund), full (loss
// beyond collateral covered by the fund) and a first sighting by a liquidator that is not a
// registered keeper; the keeper instructions. Each figure is the whole transaction's
// consumption, CPIs included.
import { parseArgs } from 'node:util';
import { PublicKey } from '@solana/web3.js';
import {
  closePositionInstruction,
  depositInstruction,
  deregisterKeeperInstruction,
  liquidateInstruction,
  openPositionInstruction,
  registerKeeperInstruction,
  withdrawInstruction,
  withdrawKeeperStakeInstruction,
} from '../programs/client/quantdesk-perp.ts';
import { BASE, MAJOR_PARAMS, PerpHarness, USDC, price, type TxResult } from '../programs/quantdesk_perp/tests/harness.ts';

const { values } = parseArgs({ options: { markets: { type: 'string' }, json: { type: 'boolean', default: false } } });

const rows: { instruction: string; computeUnits: number; note: string }[] = [];
function record(instruction: string, r: TxResult, note = ''): void {
  if (!r.ok) throw new Error(`${instruction} failed (${r.error ?? r.failure}):\n${r.logs.join('\n')}`);
  rows.push({ instruction, computeUnits: Number(r.computeUnits), note });
}

/** A fresh feed id per synthetic market. */
const feed = (i: number) => (i + 1).toString(16).padStart(64, '0');

const h = await PerpHarness.create();
const sol = h.createMarket();

record('update_oracle_price', h.push(sol, price({}, h.now)), '1 market');

// As many markets as one legacy transaction (1232 bytes) carries, unless asked for a number.
const want = values.markets ? Number(values.markets) : undefined;
const markets: PublicKey[] = [];
for (let i = 0; i < (want ?? 32); i++) markets.push(h.createMarket(`M${i}-PERP`, feed(i), MAJOR_PARAMS));
h.advance(1);
let batch: TxResult | undefined;
for (let n = markets.length; n >= 2 && !batch; n--) {
  try {
    batch = h.send([h.pushIx(markets.slice(0, n).map((market) => ({ market, price: price({}, h.now) })))], [h.oracle]);
    record('update_oracle_price', batch, `${n} markets in one transaction (${Math.round(Number(batch.computeUnits) / n)} per market)`);
  } catch (e) {
    if (want !== undefined || !/too large|encoding overruns/i.test(String(e))) throw e;
    batch = undefined;
  }
}

const alice = h.trader(10_000n);
const deposit = (amount: bigint) =>
  h.send([depositInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount, programId: h.programId })], [alice.keypair]);
record('deposit', deposit(1_000n * USDC), 'first: creates the position');
record('deposit', deposit(500n * USDC), 'into an existing position');
record('withdraw', h.send([withdrawInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount: 100n * USDC, programId: h.programId })], [alice.keypair]), 'flat');

const open = (priceUpdate?: PublicKey) =>
  h.send([openPositionInstruction({ owner: alice.keypair.publicKey, market: sol, size: 10n * BASE, priceUpdate, programId: h.programId })], [alice.keypair]);
const close = (priceUpdate?: PublicKey) =>
  h.send([closePositionInstruction({ owner: alice.keypair.publicKey, market: sol, priceUpdate, programId: h.programId })], [alice.keypair]);
record('open_position', open(), 'pushed price');
record('close_position', close(), 'pushed price');
// From here the market pins a PriceUpdateV2 account, which every priced instruction passes.
h.pinOracle(sol);
record('open_position', open(h.writePythUpdate({ price: 15_000_000_000n, publishTime: h.now })), 'pinned Pyth PriceUpdateV2');
record(
  'withdraw',
  h.send([withdrawInstruction({ owner: alice.keypair.publicKey, market: sol, ownerTokenAccount: alice.tokenAccount, amount: 100n * USDC, priceUpdate: h.oracleOf(), programId: h.programId })], [alice.keypair]),
  'position open: margin check (pinned Pyth)',
);
record('close_position', close(h.writePythUpdate({ price: 15_000_000_000n, publishTime: h.now })), 'pinned Pyth PriceUpdateV2');

// Positions that fall below maintenance margin: long 10 SOL at $150 with $150, liquidated by a
// registered keeper with the pinned account passed (the pushed price is newer, so it is used).
const keeper = h.keeper();
h.fundInsurance(1_000n * USDC);
const liquidate = (owner: PublicKey) =>
  h.send(
    [liquidateInstruction({ keeper: keeper.keypair.publicKey, market: sol, owner, keeperTokenAccount: keeper.tokenAccount, priceUpdate: h.oracleOf(), programId: h.programId })],
    [keeper.keypair],
  );
const underwater = (collateral: bigint) => {
  const t = h.trader(1_000n);
  h.advance(2);
  h.mustPush(sol, price({ price: 15_000_000_000n, conf: 0n, ageSec: 0 }, h.now));
  if (!h.openWith(t, sol, collateral, 10n * BASE, h.oracleOf()).ok) throw new Error('could not open the position to liquidate');
  return t;
};
const partial = underwater(150n * USDC);
const full = underwater(150n * USDC);
h.advance(2);
h.mustPush(sol, price({ price: 14_210_000_000n, conf: 0n, ageSec: 0 }, h.now));
record('liquidate', liquidate(partial.keypair.publicKey), 'partial: keeper fee and insurance share paid (2 transfers)');
h.advance(2);
h.mustPush(sol, price({ price: 12_000_000_000n, conf: 0n, ageSec: 0 }, h.now));
record('liquidate', liquidate(full.keypair.publicKey), 'full, loss beyond collateral covered by the insurance fund (1 transfer)');
const stranger = h.trader(0n);
const late = underwater(150n * USDC);
h.advance(2);
h.mustPush(sol, price({ price: 14_210_000_000n, conf: 0n, ageSec: 0 }, h.now));
record(
  'liquidate',
  h.send(
    [liquidateInstruction({ keeper: stranger.keypair.publicKey, market: sol, owner: late.keypair.publicKey, keeperTokenAccount: stranger.tokenAccount, priceUpdate: h.oracleOf(), programId: h.programId })],
    [stranger.keypair],
  ),
  'not a registered keeper: first sighting recorded (deferred)',
);

const k2 = h.trader(1_000n);
record('register_keeper', h.send([registerKeeperInstruction({ authority: k2.keypair.publicKey, authorityTokenAccount: k2.tokenAccount, stake: 500n * USDC, programId: h.programId })], [k2.keypair]), 'first: creates the keeper account');
record('deregister_keeper', h.send([deregisterKeeperInstruction({ authority: k2.keypair.publicKey, programId: h.programId })], [k2.keypair]));
h.setTime(h.now + 60n, h.slot + 1_000n);
record('withdraw_keeper_stake', h.send([withdrawKeeperStakeInstruction({ authority: k2.keypair.publicKey, authorityTokenAccount: k2.tokenAccount, programId: h.programId })], [k2.keypair]));

if (values.json) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  const width = Math.max(...rows.map((r) => r.instruction.length));
  process.stdout.write(`quantdesk_perp compute units (LiteSVM)\n`);
  for (const r of rows) process.stdout.write(`  ${r.instruction.padEnd(width)}  ${String(r.computeUnits).padStart(7)} CU  ${r.note}\n`);
}
