import { PublicKey } from '@solana/web3.js';
import type { PriceMessage } from '../contracts/socket.ts';
import { BASE_DECIMALS, PRICE_DECIMALS, QUOTE_DECIMALS } from '../domain/decimal.ts';
import {
  equity,
  initialMargin,
  liquidationPrice,
  maintenanceMargin,
  marginHealth,
  marginRatioBps,
  notional,
  pnlBand,
  toMarginPrice,
  unrealizedPnl,
  type MarginHealth,
} from '../domain/margin.ts';
import type { MarginParams, MarketIndex } from '../domain/markets.ts';
import type { PositionAccount } from '../programs/client/quantdesk-perp.ts';
import type { ChainReader, TokenBalance } from './chain-state.ts';
import type { GatewayApp } from './dashboard.ts';

/**
 * `getUserBalances(wallet)`: SOL and token balances, collateral, and each position valued at the
 * latest served price — entry, mark, unrealised PnL and its ±confidence band, equity, margin ratio,
 * liquidation price — with totals. Exact end to end: every amount is an integer string at a scale
 * the answer names (`scales`), formatted only by whoever displays it.
 */

/** Scales of the integer strings in a portfolio: value = integer × 10^-scale. */
export const PORTFOLIO_SCALES = { quote: QUOTE_DECIMALS, base: BASE_DECIMALS, price: PRICE_DECIMALS, sol: 9 } as const;

export interface MarkView {
  /** 10^-9 USD per base unit, as the program's margin math takes it. */
  price: string;
  conf: string;
  publishTime: number;
  ageSec: number;
  stale: boolean;
  source: PriceMessage['source'];
  usableFor: PriceMessage['usableFor'];
}

export interface PositionView {
  symbol: string;
  address: string;
  side: 'long' | 'short' | 'flat';
  /** Signed base units (10^-9). */
  size: string;
  entryPrice: string;
  collateral: string;
  openSlot: string;
  /** The latest served price; absent when the gateway has none for the market yet. */
  mark?: MarkView;
  notional?: string;
  unrealizedPnl?: string;
  pnlBand?: { low: string; high: string };
  equity?: string;
  marginRatioBps?: string;
  initialMargin?: string;
  maintenanceMargin?: string;
  liquidationPrice?: string;
  health?: MarginHealth;
  margin: MarginParams;
}

export interface Portfolio {
  wallet: string;
  /** Epoch ms of the valuation. */
  at: number;
  scales: typeof PORTFOLIO_SCALES;
  /** Lamports. */
  sol: string;
  /** The program's collateral mint, when its config account exists on this cluster. */
  quoteMint?: string;
  /** Quote tokens in the wallet (not deposited), quote units. */
  walletQuote: string;
  tokens: (TokenBalance & { quote: boolean })[];
  positions: PositionView[];
  totals: { collateral: string; notional: string; unrealizedPnl: string; pnlLow: string; pnlHigh: string; equity: string; unpriced: string[] };
}

export interface ValuationInput {
  wallet: string;
  at: number;
  lamports: bigint;
  tokens: TokenBalance[];
  quoteMint?: string;
  positions: Map<string, PositionAccount & { address: string }>;
  marks: Map<string, PriceMessage>;
  margins: Map<string, MarginParams>;
}

export function markOf(p: PriceMessage): { price: bigint; conf: bigint; view: MarkView } {
  const price = toMarginPrice(BigInt(p.price), p.expo);
  // The band must not be narrower than the source says: round the confidence up.
  const conf = toMarginPrice(BigInt(p.conf), p.expo, 'ceil');
  return { price, conf, view: { price: price.toString(), conf: conf.toString(), publishTime: p.publishTime, ageSec: p.ageSec, stale: p.stale, source: p.source, usableFor: p.usableFor } };
}

/** Pure: the valuation of what was read from the chain at the given marks. */
export function valuePortfolio(i: ValuationInput): Portfolio {
  const totals = { collateral: 0n, notional: 0n, unrealizedPnl: 0n, pnlLow: 0n, pnlHigh: 0n, equity: 0n };
  const unpriced: string[] = [];
  const positions: PositionView[] = [];
  for (const [symbol, a] of i.positions) {
    const margin = i.margins.get(symbol);
    if (!margin) continue;
    const side = a.size > 0n ? 'long' : a.size < 0n ? 'short' : 'flat';
    const view: PositionView = {
      symbol,
      address: a.address,
      side,
      size: a.size.toString(),
      entryPrice: a.entryPrice.toString(),
      collateral: a.collateral.toString(),
      openSlot: a.openSlot.toString(),
      margin,
    };
    totals.collateral += a.collateral;
    const live = i.marks.get(symbol);
    if (a.size === 0n) {
      totals.equity += a.collateral;
      totals.pnlLow += 0n;
    } else if (!live) {
      unpriced.push(symbol);
      totals.equity += a.collateral;
    } else {
      const { price: mark, conf, view: markView } = markOf(live);
      const p = { size: a.size, entryPrice: a.entryPrice, collateral: a.collateral };
      const pnl = unrealizedPnl(p, mark);
      const band = pnlBand(p, mark, conf);
      const eq = equity(p, mark);
      const n = notional(a.size, mark);
      const liq = liquidationPrice(p, margin);
      Object.assign(view, {
        mark: markView,
        notional: n.toString(),
        unrealizedPnl: pnl.toString(),
        pnlBand: { low: band.low.toString(), high: band.high.toString() },
        equity: eq.toString(),
        marginRatioBps: marginRatioBps(p, mark)?.toString(),
        initialMargin: initialMargin(p, mark, margin).toString(),
        maintenanceMargin: maintenanceMargin(p, mark, margin).toString(),
        ...(liq !== undefined && { liquidationPrice: liq.toString() }),
        health: marginHealth(p, mark, margin),
      });
      totals.notional += n;
      totals.unrealizedPnl += pnl;
      totals.pnlLow += band.low;
      totals.pnlHigh += band.high;
      totals.equity += eq;
    }
    positions.push(view);
  }
  const walletQuote = i.quoteMint ? i.tokens.filter((t) => t.mint === i.quoteMint).reduce((s, t) => s + BigInt(t.amount), 0n) : 0n;
  return {
    wallet: i.wallet,
    at: i.at,
    scales: PORTFOLIO_SCALES,
    sol: i.lamports.toString(),
    ...(i.quoteMint && { quoteMint: i.quoteMint }),
    walletQuote: walletQuote.toString(),
    tokens: i.tokens.map((t) => ({ ...t, quote: t.mint === i.quoteMint })),
    positions,
    totals: {
      collateral: totals.collateral.toString(),
      notional: totals.notional.toString(),
      unrealizedPnl: totals.unrealizedPnl.toString(),
      pnlLow: totals.pnlLow.toString(),
      pnlHigh: totals.pnlHigh.toString(),
      equity: totals.equity.toString(),
      unpriced,
    },
  };
}

export interface PortfolioDeps {
  chain: ChainReader;
  markets: MarketIndex;
  /** The gateway's latest served price of a market. */
  priceOf(symbol: string): PriceMessage | undefined;
  now: () => number;
}

/** Reads the wallet's accounts from the chain and values them at the served prices. */
export async function getUserBalances(wallet: PublicKey, d: PortfolioDeps): Promise<Portfolio> {
  const symbols = d.markets.all.map((m) => m.symbol);
  const [config, balances, positions] = await Promise.all([d.chain.config(), d.chain.wallet(wallet), d.chain.positions(wallet, symbols)]);
  const marks = new Map<string, PriceMessage>();
  for (const s of symbols) {
    const p = d.priceOf(s);
    if (p) marks.set(s, p);
  }
  return valuePortfolio({
    wallet: wallet.toBase58(),
    at: d.now(),
    lamports: balances.lamports,
    tokens: balances.tokens,
    ...(config && { quoteMint: config.mint.toBase58() }),
    positions,
    marks,
    margins: new Map(d.markets.all.map((m) => [m.symbol, m.margin])),
  });
}

const WALLET = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

export function registerPortfolioRoutes(app: GatewayApp, d: PortfolioDeps): void {
  app.get<{ Params: { wallet: string } }>('/api/portfolio/:wallet', async (req, reply) => {
    let wallet: PublicKey;
    try {
      if (!WALLET.test(req.params.wallet)) throw new Error();
      wallet = new PublicKey(req.params.wallet);
    } catch {
      return reply.status(400).send({ error: 'a wallet is a base58 public key' });
    }
    try {
      return await getUserBalances(wallet, d);
    } catch (e) {
      return reply.status(502).send({ error: `Solana RPC: ${(e as Error).message}` });
    }
  });
}
