import { z } from 'zod';
import type { Liquidations, WalletAlertLog } from '../store/roles.ts';
import type { ChainReader } from './chain-state.ts';
import type { GatewayApp } from './dashboard.ts';

/**
 * Liquidations for traders and operators: a wallet's liquidations and alerts (its history on the
 * dashboard), the latest sagas with a link to each workflow in the Temporal UI (the ops page), and
 * the on-chain keeper registry with each keeper's stake and stats.
 */
export interface LiquidationRoutesDeps {
  chain: ChainReader;
  liquidations: Liquidations;
  alerts: WalletAlertLog;
  /** Where operators open a workflow: the Temporal Web UI and the namespace. */
  temporalUi: { url: string; namespace: string };
}

const wallet = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'a wallet is a base58 public key');
const listQuery = z.object({ wallet: wallet.optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }).strict();
const alertsQuery = z.object({ wallet, limit: z.coerce.number().int().min(1).max(200).default(50) }).strict();
const problems = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');

export function registerLiquidationRoutes(app: GatewayApp, d: LiquidationRoutesDeps): void {
  const workflowUrl = (id: string) => `${d.temporalUi.url.replace(/\/$/, '')}/namespaces/${encodeURIComponent(d.temporalUi.namespace)}/workflows/${encodeURIComponent(id)}`;

  app.get<{ Querystring: Record<string, string> }>('/api/liquidations', async (req, reply) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return reply.status(400).send({ error: problems(q.error) });
    const docs = q.data.wallet ? await d.liquidations.byWallet(q.data.wallet, q.data.limit) : await d.liquidations.recent(q.data.limit);
    return {
      liquidations: docs.map((l) => ({
        id: l._id,
        position: l.position,
        owner: l.owner,
        symbol: l.symbol,
        state: l.state,
        claimedBy: l.claimedBy,
        attempts: l.attempts.map((a) => ({ ...a, at: a.at.toISOString() })),
        ...(l.result && { result: l.result }),
        detectedAt: l.detectedAt.toISOString(),
        updatedAt: l.updatedAt.toISOString(),
        workflowUrl: workflowUrl(l._id),
      })),
    };
  });

  app.get<{ Querystring: Record<string, string> }>('/api/alerts', async (req, reply) => {
    const q = alertsQuery.safeParse(req.query);
    if (!q.success) return reply.status(400).send({ error: problems(q.error) });
    const docs = await d.alerts.byWallet(q.data.wallet, q.data.limit);
    return { alerts: docs.map((a) => ({ kind: a.kind, alert: a.alert, at: a.at.toISOString() })) };
  });

  app.get('/api/keepers', async () => {
    const keepers = await d.chain.keepers();
    return {
      keepers: keepers
        .map((k) => ({
          address: k.address,
          authority: k.authority.toBase58(),
          status: k.status,
          stake: k.stake.toString(),
          liquidations: k.liquidations.toString(),
          volumeLiquidated: k.volumeLiquidated.toString(),
          rewardsEarned: k.rewardsEarned.toString(),
          lastActiveSlot: k.lastActiveSlot.toString(),
          registeredSlot: k.registeredSlot.toString(),
        }))
        .sort((a, b) => Number(BigInt(b.liquidations) - BigInt(a.liquidations))),
    };
  });
}
