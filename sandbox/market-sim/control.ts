import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  controlRequestSchemas,
  type ControlAction,
  type Corruption,
  type FaultBoard,
  type FaultSnapshot,
  type Source,
} from './faults.ts';
import type { FeedCatalogue } from './feeds.ts';
import type { RequestGate } from './request-gate.ts';

/** A control request that cannot be applied; `message` says why (HTTP 400). */
export class ControlError extends Error {
  readonly code = 'BAD_CONTROL_REQUEST';
}

/** What the simulator does to live connections when a control changes. */
export interface ConnectionEffects {
  /** Closes the source's open streams about these feeds (all when null); returns how many. */
  closeStreams(source: Source, feedIds: ReadonlySet<string> | null, how: 'end' | 'destroy'): number;
}

export interface ControlResult {
  readonly action: ControlAction;
  /** Connections closed by the action. */
  readonly closed: number;
  readonly injectionId?: number;
  readonly faults: FaultSnapshot;
}

export interface InjectOptions {
  /** Corrupt the next `count` updates of each matching feed's source; omitted: until cleared. */
  readonly count?: number;
  readonly feeds?: string[];
}

export interface SimControl {
  /** Validates and applies a control request (the body of `POST /control/<action>`). */
  apply(action: ControlAction, body: unknown): ControlResult;
  pause(source: Source, feeds?: string[]): ControlResult;
  resume(source: Source, feeds?: string[]): ControlResult;
  stall(source: Source, feeds?: string[]): ControlResult;
  unstall(source: Source, feeds?: string[]): ControlResult;
  drop(source: Source, feeds?: string[]): ControlResult;
  delay(source: Source, ms: number, feeds?: string[]): ControlResult;
  /**
   * Shifts the source's published prices by `bps` basis points (signed integer in [-5000, 5000];
   * 0 clears) for the named feeds, or for every feed. Pyth: from its next published update;
   * CoinGecko: from the next response.
   */
  bias(source: Source, bps: number, feeds?: string[]): ControlResult;
  inject(source: Source, kind: Corruption, options?: InjectOptions): ControlResult;
  clearInjections(source: Source): ControlResult;
  kill(source: Source): ControlResult;
  restore(source: Source): ControlResult;
  reset(): ControlResult;
  state(): FaultSnapshot;
}

function reason(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export function createSimControl(deps: {
  board: FaultBoard;
  catalogue: FeedCatalogue;
  gate: RequestGate;
  effects: ConnectionEffects;
  logger: Logger;
}): SimControl {
  const { board, catalogue, gate, effects, logger } = deps;

  /** Feed names → feed ids; null (every feed) when no list was given. */
  function resolveFeeds(names: readonly string[] | undefined): string[] | null {
    if (names === undefined) return null;
    const unknown = names.filter((n) => catalogue.resolve(n) === undefined);
    if (unknown.length > 0) throw new ControlError(`feeds: unknown feed ${unknown.join(', ')}`);
    return [...new Set(names.map((n) => catalogue.resolve(n)!.id))];
  }

  const asSet = (ids: string[] | null) => (ids === null ? null : new Set(ids));

  function apply(action: ControlAction, body: unknown): ControlResult {
    const schema = controlRequestSchemas[action];
    if (schema === undefined) throw new ControlError(`unknown control action ${String(action)}`);
    const parsed = schema.safeParse(body ?? {});
    if (!parsed.success) throw new ControlError(reason(parsed.error));
    const req = parsed.data as Record<string, unknown> & { source: Source; feeds?: string[] };
    const feedIds = resolveFeeds(req.feeds);
    const source = req.source;
    let closed = 0;
    let injectionId: number | undefined;

    switch (action) {
      case 'pause':
        board.pause(source, feedIds);
        closed = effects.closeStreams(source, asSet(feedIds), 'end');
        gate.redispatch(source);
        break;
      case 'resume':
        board.resume(source, feedIds);
        gate.redispatch(source);
        break;
      case 'stall':
        board.stall(source, feedIds);
        break;
      case 'unstall':
        board.unstall(source, feedIds);
        gate.redispatch(source);
        break;
      case 'drop':
        closed = effects.closeStreams(source, asSet(feedIds), 'destroy') + gate.destroy(source, asSet(feedIds));
        break;
      case 'delay':
        board.delay(source, req.ms as number, feedIds);
        break;
      case 'bias':
        board.bias(source, req.bps as number, feedIds);
        break;
      case 'inject':
        injectionId = board.inject(source, req.kind as Corruption, (req.count as number | undefined) ?? null, feedIds);
        break;
      case 'clear-injections':
        board.clearInjections(source);
        break;
      case 'kill':
        // Requests that arrive later are reset on arrival (RequestGate / the route handlers).
        board.kill(source);
        closed = effects.closeStreams(source, null, 'destroy') + gate.destroy(source, null);
        break;
      case 'restore':
        board.restore(source);
        gate.redispatch(source);
        break;
      case 'reset':
        for (const s of ['pyth', 'coingecko'] as const) {
          board.restore(s);
          gate.redispatch(s);
        }
        break;
    }
    const { source: _s, feeds: _f, ...facts } = req;
    logger.info({ action, source, feeds: feedIds, ...facts, closed }, 'control.applied');
    return { action, closed, ...(injectionId !== undefined && { injectionId }), faults: board.snapshot() };
  }

  const scoped = (action: ControlAction) => (source: Source, feeds?: string[]) =>
    apply(action, { source, ...(feeds !== undefined && { feeds }) });

  return {
    apply,
    pause: scoped('pause'),
    resume: scoped('resume'),
    stall: scoped('stall'),
    unstall: scoped('unstall'),
    drop: scoped('drop'),
    delay: (source, ms, feeds) => apply('delay', { source, ms, ...(feeds !== undefined && { feeds }) }),
    bias: (source, bps, feeds) => apply('bias', { source, bps, ...(feeds !== undefined && { feeds }) }),
    inject: (source, kind, options = {}) => apply('inject', { source, kind, ...options }),
    clearInjections: (source) => apply('clear-injections', { source }),
    kill: (source) => apply('kill', { source }),
    restore: (source) => apply('restore', { source }),
    reset: () => apply('reset', {}),
    state: () => board.snapshot(),
  };
}
