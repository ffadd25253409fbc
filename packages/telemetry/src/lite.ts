/**
 * `@floe/telemetry/lite`: everything of @floe/telemetry that loads no pino — the `Logger` type,
 * `noopLogger`, and the prom-client helpers. Libraries (bus, store, nft) import this entry; the
 * process entry points use `@floe/telemetry` (adds the pino `createLogger`).
 */
export * from './log.js';
export * from './metrics.js';
