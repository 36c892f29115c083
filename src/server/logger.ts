/**
 * The server's structured log: one JSON object per line (pino), the format cluster log pipelines already parse.
 *
 * Tokens never reach a log call: the review code passes identities and reasons only. The redaction below is the
 * second line of defence, for a field named like a credential that slips into a log object some day.
 */
import type { DestinationStream } from 'pino';
import type { LogLevel } from './config.js';

/** One of pino's level methods: an object of fields and a message, or a message alone. */
export interface LogFn {
  (fields: object, message?: string, ...args: unknown[]): void;
  (message: string, ...args: unknown[]): void;
}

/**
 * The subset of pino's logger the server uses. Declared here rather than picked from pino's types, so that the
 * library's declarations compile without pino (an optional peer dependency) installed.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  flush(callback?: (err?: Error) => void): void;
}

/** Where log lines go: a stream such as `process.stdout`, or anything with `write(line)`. */
export interface LogDestination {
  write(line: string): unknown;
}

/**
 * Field names that could hold a credential. Top-level names only: the server's log objects are flat, and pino's
 * wildcard redaction (`*.token`) clones every logged object, which measured as the largest allocation of a review.
 */
const REDACTED_PATHS = ['token', 'authorization', 'secretAccessKey', 'sessionToken', 'url', 'spec.token', 'headers.authorization'];

/**
 * Creates the logger; pino is loaded here so that importing the library does not load it.
 *
 * @example
 * ```ts
 * import { createLogger } from './logger.js';
 * const log = await createLogger({ level: 'info' });
 * log.info({ clusterId: 'prod' }, 'starting');
 * ```
 */
export async function createLogger(options: { level: LogLevel; destination?: LogDestination }): Promise<Logger> {
  // pino is CommonJS: its function is the default export both under Node's loader and in the esbuild bundle.
  const pino = (await import('pino')).default;
  const settings = {
    level: options.level,
    base: { component: 'eksauth-server' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  // Synchronous writes: a line is out before the process exits, and a crash loses nothing.
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  const logger: Logger = pino(settings, destination as DestinationStream);
  return logger;
}
