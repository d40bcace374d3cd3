import type { LivePrice } from '../../bus/follower.ts';
import type { MarginWarning } from '../../contracts/socket.ts';
import type { LiquidationSagaInput } from '../../contracts/temporal.ts';
import { format, PRICE_DECIMALS } from '../../domain/decimal.ts';
import { liquidationPrice, marginHealth, marginRatioBps, toMarginPrice, type MarginHealth } from '../../domain/margin.ts';
import type { MarketIndex } from '../../domain/markets.ts';

/**
 * The liquidation scanner's decisions, without I/O: every open position in memory (kept by the
 * chain side from `getProgramAccounts` and account subscriptions), re-valued with domain/margin.ts
 * on each price of its market. A position below maintenance at a liquidation-grade price becomes a
 * saga to start; one that came within the warning distance of maintenance warns its trader — once
 * per crossing, not at every tick.
 */

/** An open position as the program holds it. */
export interface TrackedPosition {
  /** Position account, base58. */
  address: string;
  owner: string;
  symbol: string;
  /** Base units (10⁻⁹), signed; 0 when flat. */
  size: bigint;
  /** 10⁻⁹ USD. */
  entryPrice: bigint;
  /** Quote units (10⁻⁶ USD). */
  collateral: bigint;
  openSlot: bigint;
  /** Slot of the last (partial) liquidation of this trade; 0 when never. */
  lastLiquidationSlot: bigint;
}

export interface ScanDecisions {
  sagas: LiquidationSagaInput[];
  warnings: MarginWarning[];
}

export class PositionScanner {
  private readonly positions = new Map<string, TrackedPosition>();
  /** Health last seen per position trade (address:openSlot), to warn once per crossing. */
  private readonly health = new Map<string, MarginHealth>();

  constructor(
    private readonly markets: MarketIndex,
    /** How close to maintenance a warning goes out, basis points of margin ratio. */
    private readonly warnBufferBps: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.positions.size;
  }

  /** A position as the chain holds it now (flat ones are forgotten). */
  upsert(p: TrackedPosition): void {
    if (p.size === 0n) {
      this.remove(p.address);
      return;
    }
    const had = this.positions.get(p.address);
    if (had && had.openSlot !== p.openSlot) this.health.delete(`${had.address}:${had.openSlot}`);
    this.positions.set(p.address, p);
  }

  remove(address: string): void {
    const had = this.positions.get(address);
    if (had) this.health.delete(`${address}:${had.openSlot}`);
    this.positions.delete(address);
  }

  /** Replaces everything (a full resync from the chain). */
  reset(all: readonly TrackedPosition[]): void {
    const keep = new Set(all.map((p) => p.address));
    for (const a of [...this.positions.keys()]) if (!keep.has(a)) this.remove(a);
    for (const p of all) this.upsert(p);
  }

  /**
   * Re-values the positions of the prices' markets. A saga needs a price graded usable for
   * liquidation; a warning one usable for margin (a price too uncertain to liquidate with may still warn).
   */
  evaluate(prices: readonly LivePrice[]): ScanDecisions {
    const out: ScanDecisions = { sagas: [], warnings: [] };
    const bySymbol = new Map(prices.map((p) => [p.symbol, p]));
    for (const p of this.positions.values()) {
      const price = bySymbol.get(p.symbol);
      const market = this.markets.bySymbol(p.symbol);
      if (!price || !market || price.grades.margin !== 'ok') continue;
      const mark = toMarginPrice(BigInt(price.price), price.expo);
      if (mark <= 0n) continue;
      const key = `${p.address}:${p.openSlot}`;
      const health = marginHealth(p, mark, market.margin, this.warnBufferBps);
      const before = this.health.get(key);
      this.health.set(key, health);
      const ratio = Number(marginRatioBps(p, mark) ?? 0n);
      if (health === 'liquidatable' && price.grades.liquidation === 'ok') {
        out.sagas.push({
          position: p.address,
          owner: p.owner,
          symbol: p.symbol,
          openSlot: p.openSlot.toString(),
          lastLiquidationSlot: p.lastLiquidationSlot.toString(),
          size: p.size.toString(),
          marginRatioBps: ratio,
          markPrice: mark.toString(),
          detectedAt: this.now(),
        });
      }
      if ((health === 'warning' || health === 'liquidatable') && (before === undefined || before === 'healthy')) {
        const liq = liquidationPrice(p, market.margin);
        out.warnings.push({
          wallet: p.owner,
          position: p.address,
          symbol: p.symbol,
          marginRatioBps: ratio,
          maintenanceBps: market.margin.maintenanceBps,
          liquidationPrice: liq === undefined ? '0' : format({ mantissa: liq, scale: PRICE_DECIMALS }, 4),
          at: this.now(),
        });
      }
    }
    return out;
  }

  all(): TrackedPosition[] {
    return [...this.positions.values()];
  }
}
