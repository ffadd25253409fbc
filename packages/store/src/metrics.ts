/** Metrics of the store adapters (prom-client), registered on the registry passed in the adapter's deps. */
import { Counter, Histogram, Registry, metric, type Logger } from '@floe/telemetry/lite';

/** Metric names of the store, one table (STYLE.md pattern 13; docs/metrics.md). */
export const STORE_METRICS = {
  rowsWritten: 'floe_store_rows_written_total',
  writeSeconds: 'floe_store_write_seconds',
  errors: 'floe_store_errors_total',
} as const;

/** Buckets of floe_store_write_seconds (s): 0.5 ms to 10 s. */
export const STORE_WRITE_BUCKETS: readonly number[] = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** Dependencies of a store adapter: where it logs and where its metrics go. Both optional. */
export interface StoreDeps {
  /** Parent logger; the adapter logs through a child `{ component: 'store', adapter }`. Default: none. */
  logger?: Logger;
  /** prom-client registry for the `floe_store_*` metrics; shared by every store of a process. Default: a private one. */
  metrics?: Registry;
}

/** The store metrics. */
export interface StoreMetrics {
  /** Rows in successful writes, by table (before the adapter drops duplicates already stored). */
  rowsWritten: Counter<'table'>;
  /** Duration of successful write calls, by the table they write. */
  writeSeconds: Histogram<'table'>;
  /** Failed calls, by store operation (`insertFlows`, `queryFindings`, `start`, ...). */
  errors: Counter<'op'>;
}

/**
 * Registers the store metrics on `registry`, or returns the ones another store of the process
 * registered there already (`metric`). Without a registry they go to a private one.
 */
export function createStoreMetrics(registry: Registry = new Registry()): StoreMetrics {
  const registers = [registry];
  const { rowsWritten, writeSeconds, errors } = STORE_METRICS;
  return {
    rowsWritten: metric(
      registry,
      rowsWritten,
      () =>
        new Counter({
          name: rowsWritten,
          help: 'Rows in successful store writes, by table (counted before the adapter drops rows it already holds)',
          labelNames: ['table'] as const,
          registers,
        }),
    ),
    writeSeconds: metric(
      registry,
      writeSeconds,
      () =>
        new Histogram({
          name: writeSeconds,
          help: 'Duration of successful store write calls (queueing included), by table, in seconds',
          labelNames: ['table'] as const,
          buckets: [...STORE_WRITE_BUCKETS],
          registers,
        }),
    ),
    errors: metric(
      registry,
      errors,
      () =>
        new Counter({
          name: errors,
          help: "Failed store calls, by operation (insertFlows, queryFindings, start, ...); a client's bad cursor or query is not counted",
          labelNames: ['op'] as const,
          registers,
        }),
    ),
  };
}
