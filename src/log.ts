import { pino } from 'pino';

/**
 * The logging interface the library takes (a subset of pino's, so a pino logger fits).
 * Structured fields first, message second. Library code never writes to stdout: a Mesos
 * sandbox keeps stdout and stderr, and stdout belongs to the program that embeds us.
 */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * A JSON-lines logger on stderr. Writes are synchronous so that the last lines before an
 * exit (a shutdown, a fatal error) are not lost. Fields that could carry a credential are
 * redacted as a second line of defence: the token is never passed to a logger in the first place.
 */
export function createLogger(level: LogLevel = 'info', name = 'mesos-pool-executor'): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['token', 'authorization', 'headers.authorization', '*.token', '*.authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
