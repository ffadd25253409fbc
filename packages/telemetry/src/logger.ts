import { pino, type LoggerOptions, type Logger as PinoLogger } from 'pino';
import type { Logger } from './log.js';

export type { Logger as PinoLogger } from 'pino';

/** Options of the process logger. */
export interface LoggerConfig {
  /** pino level: fatal, error, warn, info, debug, trace, silent. Default info. */
  level: string;
}

/**
 * The process's pino logger: JSON lines on stderr (stdout stays free for command output such
 * as `floe analyze --json`). Components take a child with a `component` binding
 * (`logger.child({ component: 'processor' })`). The result satisfies {@link Logger} (log.ts).
 */
export function createLogger(cfg: Partial<LoggerConfig> = {}, dest: NodeJS.WritableStream = process.stderr): PinoLogger {
  const opts: LoggerOptions = {
    level: cfg.level ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(opts, dest as unknown as pino.DestinationStream);
}

/** A pino logger that writes nothing, for tests and defaults (`noopLogger` needs no pino). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
