import { pino, type Logger, type LevelWithSilent } from 'pino';

/**
 * One JSON line per event: a fixed event name as the message, facts in fields.
 * Each process makes one root logger; each module takes `root.child({ module })`.
 * Secrets never reach a line: the paths below are censored wherever they appear.
 */
export function createLogger(service: string, level: LevelWithSilent = 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['apiKey', '*.apiKey', 'token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'secretKey', '*.secretKey'],
      censor: '<redacted>',
    },
  });
}

export type { Logger };

/**
 * Logs a repeated event once, then at most once per `everyMs` with how many times it happened
 * since (`repeated`): a source that fails every second for an hour writes ~60 lines, not 3,600.
 * Events are told apart by `key` (e.g. the error's kind and message).
 */
export function repeatingLog(log: Logger, everyMs = 60_000, now: () => number = Date.now) {
  const seen = new Map<string, { at: number; count: number }>();
  return (level: 'info' | 'warn' | 'error', key: string, fields: Record<string, unknown>, event: string): void => {
    const s = seen.get(key);
    const t = now();
    if (!s) {
      seen.set(key, { at: t, count: 0 });
      if (seen.size > 10_000) seen.delete(seen.keys().next().value!);
      log[level](fields, event);
      return;
    }
    s.count += 1;
    if (t - s.at >= everyMs) {
      log[level]({ ...fields, repeated: s.count, sinceMs: t - s.at }, event);
      s.at = t;
      s.count = 0;
    }
  };
}
export type RepeatingLog = ReturnType<typeof repeatingLog>;
