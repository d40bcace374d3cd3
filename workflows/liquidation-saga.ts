import { ActivityFailure, ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { LiquidationActivities } from '../activities/liquidation/activities.ts';
import type { LiquidationResult, LiquidationSagaInput } from '../contracts/temporal.ts';
import { SA } from '../temporal/search-attributes.ts';
import { PROFILES } from './timeouts.ts';

/**
 * One liquidation of one trade (workflow id `liquidate-<position>-<open slot>`, so however many
 * scanners and keepers race, it runs once at a time). Steps: claim → make sure the on-chain price is
 * fresh enough for the program's liquidation bounds → send `liquidate` → record and alert the
 * trader. Each step that succeeded registers its undo; a failure runs them in reverse (the claim is
 * released and the failed attempt recorded), and the outcome names what happened.
 */
const quick = proxyActivities<LiquidationActivities>(PROFILES.quickIo);
const chain = proxyActivities<LiquidationActivities>(PROFILES.chainSend);

/** Program refusals that are outcomes, not failures. */
const OUTCOME_OF_REFUSAL: Record<string, LiquidationResult['outcome']> = {
  PositionHealthy: 'healthy-again',
  PositionNotOpen: 'outcompeted',
  LiquidatedByAnother: 'outcompeted',
};

/** A step's non-retryable failure is a refusal named by its type (the program's error name); anything else ran out of retries. */
function refusalOf(e: unknown): string | undefined {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  return cause instanceof ApplicationFailure && cause.nonRetryable ? (cause.type ?? undefined) : undefined;
}

export async function liquidationSaga(input: LiquidationSagaInput): Promise<LiquidationResult> {
  const id = workflowInfo().workflowId;
  upsertSearchAttributes({ [SA.TraderWallet.name]: [input.owner], [SA.Markets.name]: [input.symbol] });
  const undo: { name: string; run: (reason: string) => Promise<void> }[] = [];
  try {
    if (!(await quick.claimLiquidation({ id, input }))) return { outcome: 'outcompeted', detail: 'this round of the trade is already liquidated' };
    undo.unshift({ name: 'release claim', run: (reason) => quick.releaseLiquidation({ id, reason }) });
    await quick.ensureFreshPrice({ symbol: input.symbol });
    const result = await chain.sendLiquidation({ input });
    await quick.completeLiquidation({ id, input, result });
    await quick.alertTrader({ input, result });
    return result;
  } catch (e) {
    const refusal = refusalOf(e);
    const outcome: LiquidationResult['outcome'] = (refusal !== undefined ? OUTCOME_OF_REFUSAL[refusal] : undefined) ?? `failed:${refusal ?? 'unreachable'}`;
    const cause = e instanceof ActivityFailure && e.cause ? e.cause : e;
    const reason = refusal ?? (cause as Error).message;
    for (const step of undo) await step.run(reason);
    const result: LiquidationResult = { outcome, detail: reason.slice(0, 300) };
    await quick.recordOutcome({ id, result });
    return result;
  }
}
