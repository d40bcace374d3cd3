import {
  CancellationScope,
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { IngestActivities } from '../activities/ingest/activities.ts';
import type { IngestMode } from '../contracts/status.ts';
import {
  SOURCE_UNAVAILABLE,
  pauseSignal,
  progressSignal,
  resumeSignal,
  statusQuery,
  type IngestionInput,
  type IngestionState,
} from '../contracts/temporal.ts';
import { SA } from '../temporal/search-attributes.ts';
import { PROFILES } from './timeouts.ts';

/**
 * Supervises a feed group's prices: Pyth's stream while it delivers; CoinGecko polling when it
 * fails or goes silent, probing Pyth with backoff and switching back when it recovers; `stale` when
 * both fail (the last good prices are then served marked stale). Mode, last updates and failure
 * counts are a query and search attributes; `pause`/`resume` stop and restart ingestion.
 */

const longRunning = proxyActivities<IngestActivities>({
  ...PROFILES.sourceStream,
  retry: { ...PROFILES.sourceStream.retry, nonRetryableErrorTypes: [SOURCE_UNAVAILABLE] },
});
const quick = proxyActivities<IngestActivities>(PROFILES.quickIo);
const probe = proxyActivities<IngestActivities>(PROFILES.probe);

/** Progress signals per run before continuing as new, to keep histories short. */
const SIGNALS_PER_RUN = 1_000;

export async function priceIngestion(input: IngestionInput): Promise<never> {
  const { feedGroup } = input;
  const maxProbeBackoffMs = input.maxProbeBackoffMs ?? 4_000;
  const state: IngestionState = input.state ?? {
    mode: 'pyth',
    resumeMode: 'pyth',
    since: Date.now(),
    reason: 'started',
    lastUpdate: {},
    failures: { pyth: 0, coingecko: 0 },
    fallbackHealthy: true,
    switches: 0,
  };
  let signals = 0;
  let lastTimesUpsert = 0;
  let phase: CancellationScope | undefined;

  const rollOver = () => signals >= SIGNALS_PER_RUN || workflowInfo().continueAsNewSuggested;

  function upsertTimes(): void {
    lastTimesUpsert = Date.now();
    upsertSearchAttributes({
      ...(state.lastUpdate.pyth && { [SA.PythLastUpdate.name]: [new Date(state.lastUpdate.pyth * 1000)] }),
      ...(state.lastUpdate.coingecko && { [SA.FallbackLastUpdate.name]: [new Date(state.lastUpdate.coingecko * 1000)] }),
      [SA.SourceFailures.name]: [state.failures.pyth + state.failures.coingecko],
    });
  }

  async function setMode(mode: IngestMode, reason: string): Promise<void> {
    if (mode !== state.mode) state.switches += 1;
    state.mode = mode;
    state.reason = reason;
    state.since = Date.now();
    if (mode !== 'paused') state.resumeMode = mode;
    upsertSearchAttributes({ [SA.IngestMode.name]: [mode] });
    upsertTimes();
    await quick.publishIngestStatus({ feedGroup, mode, reason });
  }

  setHandler(statusQuery, () => ({ ...state, feedGroup }));
  setHandler(pauseSignal, (reason) => {
    state.resumeMode = state.mode === 'paused' ? state.resumeMode : state.mode;
    state.mode = 'paused';
    state.reason = reason ?? 'paused by an operator';
    phase?.cancel();
  });
  setHandler(resumeSignal, () => {
    if (state.mode === 'paused') state.mode = state.resumeMode;
  });
  setHandler(progressSignal, (p) => {
    signals += 1;
    if (p.lastPublishTime) state.lastUpdate[p.source] = Math.max(state.lastUpdate[p.source] ?? 0, p.lastPublishTime);
    if (p.source === 'coingecko') {
      if (state.fallbackHealthy && !p.healthy) state.failures.coingecko += 1;
      state.fallbackHealthy = p.healthy;
    }
    if (Date.now() - lastTimesUpsert >= 30_000) upsertTimes();
  });

  upsertSearchAttributes({ [SA.FeedGroup.name]: [feedGroup], [SA.IngestMode.name]: [state.mode] });
  if (!input.state) await quick.publishIngestStatus({ feedGroup, mode: state.mode, reason: state.reason });

  /** Pyth streams; CoinGecko cross-checks. Ends when the stream fails, on pause, or to roll over. */
  async function pythPhase(): Promise<void> {
    phase = new CancellationScope();
    const scope = phase;
    void scope.run(() => longRunning.pollCoinGecko({ feedGroup, role: 'crosscheck' })).catch(() => undefined);
    try {
      await scope.run(() => Promise.race([longRunning.streamPyth({ feedGroup }), condition(rollOver)]));
    } catch (e) {
      if (isCancellation(e)) return;
      const cause = e instanceof ActivityFailure ? e.cause : e;
      if (!(cause instanceof ApplicationFailure && cause.type === SOURCE_UNAVAILABLE)) throw e;
      state.failures.pyth += 1;
      if (state.mode === 'paused') return;
      await setMode('coingecko', `Pyth unavailable: ${cause.message}`);
    } finally {
      scope.cancel();
    }
  }

  /** CoinGecko serves (or nothing does: stale); Pyth is probed with backoff until it is back. */
  async function fallbackPhase(): Promise<void> {
    phase = new CancellationScope();
    const scope = phase;
    void scope.run(() => longRunning.pollCoinGecko({ feedGroup, role: 'primary' })).catch(() => undefined);
    try {
      await scope.run(async () => {
        // Follow the fallback's health: coingecko while it delivers, stale while it does not.
        void (async () => {
          for (;;) {
            await condition(() => (state.mode === 'coingecko' || state.mode === 'stale') && (state.fallbackHealthy ? 'coingecko' : 'stale') !== state.mode);
            await setMode(state.fallbackHealthy ? 'coingecko' : 'stale', state.fallbackHealthy ? 'CoinGecko delivers' : 'Pyth and CoinGecko both unavailable');
          }
        })().catch(() => undefined);
        let backoff = 500;
        for (;;) {
          const r = await probe.probePyth({ feedGroup });
          if (r.healthy) {
            await setMode('pyth', `Pyth is back: ${r.detail}`);
            return;
          }
          if (rollOver()) return;
          await sleep(backoff);
          backoff = Math.min(backoff * 2, maxProbeBackoffMs);
        }
      });
    } catch (e) {
      if (!isCancellation(e)) throw e;
    } finally {
      scope.cancel();
    }
  }

  for (;;) {
    if (state.mode === 'paused') {
      await quick.publishIngestStatus({ feedGroup, mode: 'paused', reason: state.reason });
      upsertSearchAttributes({ [SA.IngestMode.name]: ['paused'] });
      await condition(() => state.mode !== 'paused');
      await setMode(state.mode, 'resumed by an operator');
    }
    if (state.mode === 'pyth') await pythPhase();
    else await fallbackPhase();
    if (rollOver() && state.mode !== 'paused') {
      await continueAsNew<typeof priceIngestion>({ ...input, state });
    }
  }
}
