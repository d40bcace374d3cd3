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
