import bs58 from 'bs58';
import { ComputeBudgetProgram, PublicKey, Transaction, type Commitment, type Connection, type Keypair, type TransactionInstruction } from '@solana/web3.js';
import type { MarketIndex } from '../../domain/markets.ts';
import { decodePriceUpdateV2 } from '../../programs/client/pyth-price-update.ts';
import {
  ACCOUNT_SIZE,
  accountDiscriminator,
  customErrorCode,
  decodeMarket,
  decodePosition,
  liquidateInstruction,
  marketAddress,
  parsePerpEvents,
  perpErrorName,
  type LiquidationEvent,
} from '../../programs/client/quantdesk-perp.ts';
import { landTransaction } from '../chain/landing.ts';
import type { LiquidateOutcome, LiquidationChain } from './activities.ts';
import type { TrackedPosition } from './scanner.ts';

/**
 * The chain as a keeper uses it, on @solana/web3.js: positions from `getProgramAccounts` and
 * `programSubscribe`, the price freshness the program will see (the pushed price or the market's
 * pinned Pyth account, whichever is newer), and `liquidate` — simulated first (a refusal costs
 * nothing and names the program's error), sent with a compute-unit limit from the simulation and
 * the configured priority fee, confirmed, and signed again when its blockhash expired.
 */
export interface KeeperChainOptions {
  connection: Connection;
  programId: PublicKey;
  keeper: Keypair;
  /** Where the keeper's fee is paid (its token account for the collateral mint). */
  payoutAccount: PublicKey;
  markets: MarketIndex;
  commitment: Commitment;
  priorityFeeMicroLamports: number;
}

/** Headroom over the simulated compute units: the landed run may take a slightly different path. */
const CU_HEADROOM = 1.2;
const MAX_SIGNINGS = 3;
const ORACLE_TTL_MS = 30_000;

export function createKeeperChain(o: KeeperChainOptions): LiquidationChain {
  const bySymbolAddress = new Map(o.markets.all.map((m) => [marketAddress(m.symbol, o.programId).toBase58(), m.symbol]));
  const positionFilters = [{ dataSize: ACCOUNT_SIZE.Position }, { memcmp: { offset: 0, bytes: bs58.encode(accountDiscriminator('Position')) } }];

  const tracked = (address: string, data: Uint8Array): TrackedPosition | undefined => {
    const p = decodePosition(data);
    const symbol = bySymbolAddress.get(p.market.toBase58());
    if (!symbol) return undefined;
    return { address, owner: p.owner.toBase58(), symbol, size: p.size, entryPrice: p.entryPrice, collateral: p.collateral, openSlot: p.openSlot, lastLiquidationSlot: p.lastLiquidationSlot };
  };

  /** A market's pinned Pyth account, read at most every ORACLE_TTL_MS (the admin changes it rarely). */
  const oracles = new Map<string, { at: number; oracle: PublicKey | null }>();
  async function oracleOf(symbol: string): Promise<PublicKey | null> {
    const had = oracles.get(symbol);
    if (had && Date.now() - had.at < ORACLE_TTL_MS) return had.oracle;
    const info = await o.connection.getAccountInfo(marketAddress(symbol, o.programId), o.commitment);
    if (!info) throw new Error(`market ${symbol} has no account on this cluster`);
    const oracle = decodeMarket(info.data).oracle;
    oracles.set(symbol, { at: Date.now(), oracle });
    return oracle;
  }

  async function sign(instructions: TransactionInstruction[], units: number, latest?: { blockhash: string; lastValidBlockHeight: number }) {
    const { blockhash, lastValidBlockHeight } = latest ?? (await o.connection.getLatestBlockhash(o.commitment));
    const tx = new Transaction({ feePayer: o.keeper.publicKey, blockhash, lastValidBlockHeight });
    tx.add(ComputeBudgetProgram.setComputeUnitLimit({ units }));
    if (o.priorityFeeMicroLamports > 0) tx.add(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: o.priorityFeeMicroLamports }));
    tx.add(...instructions);
    tx.sign(o.keeper);
    return { tx, blockhash: { blockhash, lastValidBlockHeight }, signed: { signature: bs58.encode(tx.signature!), raw: tx.serialize(), lastValidBlockHeight } };
  }

  const timings = new Map<string, { simulatedMs: number; landedMs: number }>();
  const refused = (logs: readonly string[], err: unknown, detail: string): LiquidateOutcome => {
    const code = customErrorCode({ err }, logs);
    return { status: 'refused', name: (code !== undefined && perpErrorName(code)) || 'TransactionFailed', detail };
  };

  return {
    keeper: o.keeper.publicKey.toBase58(),

    async loadPositions() {
      const accounts = await o.connection.getProgramAccounts(o.programId, { commitment: o.commitment, filters: positionFilters });
      return accounts.flatMap((a) => tracked(a.pubkey.toBase58(), a.account.data) ?? []).filter((p) => p.size !== 0n);
    },

    async watchPositions(onChange) {
      const id = o.connection.onProgramAccountChange(
        o.programId,
        (info) => {
          const p = tracked(info.accountId.toBase58(), info.accountInfo.data);
          if (p) onChange(p);
        },
        { commitment: o.commitment, filters: positionFilters },
      );
      return () => o.connection.removeProgramAccountChangeListener(id);
    },

    async usablePublishTime(symbol) {
      const oracle = await oracleOf(symbol);
      // One round trip: the market (its pushed price) and its pinned Pyth account together.
      const [marketInfo, pythInfo] = await o.connection.getMultipleAccountsInfo([marketAddress(symbol, o.programId), ...(oracle ? [oracle] : [])], o.commitment);
      if (!marketInfo) throw new Error(`market ${symbol} has no account on this cluster`);
      const pushed = decodeMarket(marketInfo.data).publishTime;
      const pyth = pythInfo ? decodePriceUpdateV2(pythInfo.data).publishTime : 0n;
      const newest = pushed > pyth ? pushed : pyth;
      return newest > 0n ? Number(newest) : undefined;
    },

    async landedSince(p) {
      const info = await o.connection.getAccountInfo(new PublicKey(p.position), o.commitment);
      if (!info) return undefined;
      const now = decodePosition(info.data);
      if (now.openSlot.toString() !== p.openSlot && now.size !== 0n) return undefined; // a new trade
      if (now.lastLiquidationSlot <= BigInt(p.lastLiquidationSlot)) return undefined;
      // The transaction of that slot: its LiquidationEvent names the keeper and the amounts.
      const signatures = await o.connection.getSignaturesForAddress(new PublicKey(p.position), { limit: 20 }, 'confirmed');
      for (const s of signatures) {
        if (s.err || s.slot !== Number(now.lastLiquidationSlot)) continue;
        const tx = await o.connection.getTransaction(s.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
        const event = parsePerpEvents(tx?.meta?.logMessages ?? []).find((e): e is { name: 'LiquidationEvent'; data: LiquidationEvent } => e.name === 'LiquidationEvent' && e.data.position.toBase58() === p.position);
        if (!event) continue;
        const e = event.data;
        return { status: 'confirmed', signature: s.signature, slot: s.slot, keeper: e.keeper.toBase58(), sizeLiquidated: e.sizeLiquidated, remainingSize: e.remainingSize, price: e.price, keeperFee: e.keeperFee, insuranceFee: e.insuranceFee, badDebt: e.badDebt };
      }
      return undefined;
    },

    async liquidate(p) {
      const t0 = Date.now();
      const oracle = await oracleOf(p.symbol);
      const ix = liquidateInstruction({
        keeper: o.keeper.publicKey,
        market: marketAddress(p.symbol, o.programId),
        owner: new PublicKey(p.owner),
        keeperTokenAccount: o.payoutAccount,
        ...(oracle && { priceUpdate: oracle }),
        programId: o.programId,
      });
      // Simulate: a refusal (healthy again, outcompeted) is known without paying for it.
      const probe = await sign([ix], 1_400_000);
      const sim = await o.connection.simulateTransaction(probe.tx);
      if (sim.value.err) return refused(sim.value.logs ?? [], sim.value.err, (sim.value.logs ?? []).slice(-3).join(' | ').slice(0, 300));
      const units = Math.ceil((sim.value.unitsConsumed ?? 20_000) * CU_HEADROOM) + 1_000;
      const simulatedMs = Date.now() - t0;
      for (let signing = 1; ; signing++) {
        // The first signing reuses the simulation's blockhash; its preflight was the simulation.
        const { signed } = await sign([ix], units, signing === 1 ? probe.blockhash : undefined);
        const landed = await landTransaction(o.connection, signed, { commitment: o.commitment, skipPreflight: signing === 1 });
        timings.set(signed.signature, { simulatedMs, landedMs: Date.now() - t0 - simulatedMs });
        if (landed.status === 'confirmed') {
          const event = parsePerpEvents(landed.logs).find((e): e is { name: 'LiquidationEvent'; data: LiquidationEvent } => e.name === 'LiquidationEvent');
          if (!event) return { status: 'refused', name: 'NoLiquidationEvent', detail: `confirmed ${signed.signature} without a liquidation (a first sighting by an unregistered liquidator defers it)` };
          const e = event.data;
          const t = timings.get(signed.signature);
          timings.delete(signed.signature);
          return { status: 'confirmed', ...(t && { timings: t }), signature: signed.signature, slot: landed.slot, sizeLiquidated: e.sizeLiquidated, remainingSize: e.remainingSize, price: e.price, keeperFee: e.keeperFee, insuranceFee: e.insuranceFee, badDebt: e.badDebt };
        }
        if (landed.status === 'rejected') return { status: 'refused', name: landed.name ?? 'TransactionFailed', detail: landed.detail };
        if (landed.status === 'unreachable') throw new Error(`liquidate ${p.position}: ${landed.detail}`);
        if (signing >= MAX_SIGNINGS) throw new Error(`liquidate ${p.position}: blockhash expired ${signing} times`);
      }
    },
  };
}
