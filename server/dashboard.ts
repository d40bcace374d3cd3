import type { Connection } from '@solana/web3.js';
import type { FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { Logger } from 'pino';
import type { PriceMessage } from '../contracts/socket.ts';
import type { MarketIndex } from '../domain/markets.ts';
import type { PushLog, Rejections } from '../store/roles.ts';
import type { ChainReader } from './chain-state.ts';
import { registerFaucetRoutes } from './faucet.ts';
import { registerLiquidationRoutes, type LiquidationRoutesDeps } from './liquidations.ts';
import { registerOpsRoutes } from './ops.ts';
import { registerPortfolioRoutes } from './portfolio.ts';

/**
 * The routes the dashboard (`web/`) reads besides prices: the cluster it trades on, the registry,
 * the on-chain market state with its lag behind the served price, portfolios, operators' views and,
 * on the embedded localnet only, the test faucet. Read-only routes allow any origin (the browser
 * reads them directly, as it does the Socket.IO events); the faucet is POST and loopback-only.
 */
/** The gateway's Fastify instance (its logger is pino's). */
export type GatewayApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>;

export interface DashboardDeps {
  chain: ChainReader;
  rejections: Rejections;
  pushes: PushLog;
  /** What the browser needs to build and send transactions itself (no key ever reaches the gateway). */
  cluster: { rpcUrl: string; wsUrl?: string; commitment: string; embedded: boolean };
  /** Present only on the embedded localnet. */
  faucet?: { connection: Connection; keysDir: string };
  liquidations: LiquidationRoutesDeps['liquidations'];
  alerts: LiquidationRoutesDeps['alerts'];
  temporalUi: LiquidationRoutesDeps['temporalUi'];
}

export interface DashboardContext {
  markets: MarketIndex;
  priceOf(symbol: string): PriceMessage | undefined;
  log: Logger;
  now: () => number;
}

export function registerDashboardRoutes(app: GatewayApp, d: DashboardDeps, ctx: DashboardContext): void {
  const { markets, now } = ctx;
  app.get('/api/config', async () => ({
    solana: {
      rpcUrl: d.cluster.rpcUrl,
      ...(d.cluster.wsUrl && { wsUrl: d.cluster.wsUrl }),
      commitment: d.cluster.commitment,
      programId: d.chain.programId.toBase58(),
      embedded: d.cluster.embedded,
      faucet: d.faucet !== undefined,
    },
  }));

  app.get('/api/markets', async () => ({
    markets: markets.all.map((m) => ({
      symbol: m.symbol,
      base: m.base,
      feedGroup: m.feedGroup,
      pythFeedId: m.pythFeedId,
      margin: m.margin,
      maxAgeSec: m.validation.maxAgeSec,
      maxConfBps: m.validation.maxConfBps,
      push: m.push,
    })),
  }));

  /**
   * Each market's account as the program holds it: the pushed price it trades at, and how far it
   * lags the served price (publish times, seconds). Read from the RPC (cached for a second).
   */
  app.get('/api/chain/markets', async (_req, reply) => {
    const symbols = markets.all.map((m) => m.symbol);
    const nowSec = Math.floor(now() / 1000);
    try {
      const accounts = await d.chain.markets(symbols);
      return {
        at: now(),
        markets: symbols.map((symbol) => {
          const a = accounts.get(symbol);
          const served = ctx.priceOf(symbol);
          if (!a) return { symbol, account: null };
          const pushed = a.price !== 0n;
          return {
            symbol,
            account: a.address,
            // JSON has no bigint: amounts (minimum notional, slot counts) go as decimal strings.
            params: Object.fromEntries(Object.entries(a.params).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v])),
            onChain: pushed ? { price: a.price.toString(), conf: a.conf.toString(), expo: a.expo, publishTime: Number(a.publishTime), slot: Number(a.priceSlot), ageSec: Math.max(0, nowSec - Number(a.publishTime)) } : null,
            ...(served && pushed && { lagSec: Math.max(0, served.publishTime - Number(a.publishTime)) }),
          };
        }),
      };
    } catch (e) {
      return reply.status(502).send({ error: `Solana RPC: ${(e as Error).message}` });
    }
  });

  registerPortfolioRoutes(app, { chain: d.chain, markets, priceOf: ctx.priceOf, now });
  registerOpsRoutes(app, { markets, rejections: d.rejections, pushes: d.pushes, now });
  registerLiquidationRoutes(app, { chain: d.chain, liquidations: d.liquidations, alerts: d.alerts, temporalUi: d.temporalUi });
  if (d.faucet) registerFaucetRoutes(app, { ...d.faucet, chain: d.chain, log: ctx.log.child({ module: 'faucet' }) });
}
