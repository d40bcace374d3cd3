import type { PriceMessage, StatusMessage } from '$contracts/socket.ts';

/** Shapes of the gateway's REST answers the dashboard reads (server/app.ts, server/dashboard.ts). */
export interface ClusterConfig {
  rpcUrl: string;
  wsUrl?: string;
  commitment: 'processed' | 'confirmed' | 'finalized';
  programId: string;
  embedded: boolean;
  faucet: boolean;
}

export interface MarketInfo {
  symbol: string;
  base: string;
  feedGroup: string;
  pythFeedId: string;
  margin: { initialBps: number; maintenanceBps: number; liquidationFeeBps: number };
  maxAgeSec: { display: number; push: number; margin: number; liquidation: number };
  maxConfBps: { display: number; push: number; margin: number; liquidation: number };
  push: { deviationBps: number; heartbeatSec: number; confChangeBps: number };
}

export interface PricesAnswer {
  prices: { symbol: string; price?: PriceMessage; status: StatusMessage }[];
}

export interface ChainMarket {
  symbol: string;
  account: string | null;
  params?: { maxAgeMarginSec: number; maxConfMarginBps: number; initialMarginBps: number; maintenanceMarginBps: number; liquidationFeeBps: number };
  onChain?: { price: string; conf: string; expo: number; publishTime: number; slot: number; ageSec: number } | null;
  lagSec?: number;
}

export interface ChainAnswer {
  at: number;
  markets: ChainMarket[];
}

export interface Candle {
  time: number;
  open: string;
  high: string;
  low: string;
  close: string;
  conf: string;
  confMax: string;
  count: number;
}

export interface HistoryAnswer {
  symbol: string;
  from: number;
  to: number;
  interval: number;
  expo: number;
  candles: Candle[];
}

export interface PushRow {
  outcome: string;
  triggers: string[];
  price: string;
  conf: string;
  expo: number;
  publishTime: number;
  signature?: string;
  slot?: number;
  feeLamports?: number;
  computeUnits?: number;
  latencyMs?: number;
  error?: string;
  decidedAt: string;
}

/** Browser-side GET against the gateway (the read routes allow any origin). */
export async function getJson<T>(gatewayUrl: string, path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`${gatewayUrl}${path}`, signal ? { signal } : {});
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `gateway answered ${res.status}`);
  return body;
}

/** The history API's rule: an interval under a minute divides 60 s; a longer one is whole minutes. */
export function validInterval(sec: number): boolean {
  return Number.isInteger(sec) && sec >= 1 && (sec < 60 ? 60 % sec === 0 : sec % 60 === 0);
}

/** A liquidation saga as `GET /api/liquidations` lists it. */
export interface SagaRow {
  id: string;
  position: string;
  owner: string;
  symbol: string;
  state: 'claimed' | 'released' | 'done';
  claimedBy?: string;
  attempts: { at: string; keeper?: string; reason: string }[];
  result?: { outcome: string; keeper?: string; signature?: string; sizeLiquidated?: string; price?: string; keeperFee?: string; insuranceFee?: string; badDebt?: string; latencyMs?: number; detail?: string };
  detectedAt: string;
  updatedAt: string;
  /** The saga's workflow in the Temporal Web UI. */
  workflowUrl: string;
}

/** A keeper of the on-chain registry, as `GET /api/keepers` lists it (amounts in quote units, 10⁻⁶ USD). */
export interface KeeperRow {
  address: string;
  authority: string;
  status: 'inactive' | 'active' | 'deregistering';
  stake: string;
  liquidations: string;
  volumeLiquidated: string;
  rewardsEarned: string;
  lastActiveSlot: string;
  registeredSlot: string;
}
