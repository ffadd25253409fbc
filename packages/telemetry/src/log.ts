/**
 * The logger shape every floe package writes to: pino's level methods and child loggers, as a
 * structural type. Any pino logger satisfies it, and it satisfies Fastify's `FastifyBaseLogger`
 * (the API hands it to Fastify). Packages import it as a type (`import type { Logger } from
 * '@floe/telemetry'`), so a library needs no pino at run time; the process creates the pino logger
 * (`createLogger`, logger.ts) and passes children down (STYLE.md pattern 14).
 */

/**
 * One level's log call, as pino takes it: a merge object (its fields become JSON fields; an
 * `err` field is serialised as an error) and a message, or a message alone.
 */
export interface LogFn {
  (obj: unknown, msg?: string, ...args: unknown[]): void;
  (msg: string, ...args: unknown[]): void;
}

/** A pino-compatible logger: the pino levels and child loggers with bindings (`{ component: 'bus' }`). */
export interface Logger {
  /** Lowest level written: fatal, error, warn, info, debug, trace or silent. */
  level: string;
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  silent: LogFn;
  /** A logger whose every line also carries `bindings`; `options` are pino's child options. */
  child(bindings: Record<string, unknown>, options?: object): Logger;
}

const drop: LogFn = () => undefined;

/**
 * A logger that writes nothing and needs no pino: the default of a library when no logger is
 * passed. `child()` returns itself.
 */
export const noopLogger: Logger = Object.freeze({
  level: 'silent',
  fatal: drop,
  error: drop,
  warn: drop,
  info: drop,
  debug: drop,
  trace: drop,
  silent: drop,
  child: (): Logger => noopLogger,
});
