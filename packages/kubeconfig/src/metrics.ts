/** Metrics of the custom-resource watcher (prom-client), registered on the registry passed in deps. */
import { Counter, type Registry } from 'prom-client';

/** Metric names, one place (README "Metrics"). */
export const KUBECONFIG_METRIC = {
  changes: 'floe_kubeconfig_changes_total',
  statusWrites: 'floe_kubeconfig_status_writes_total',
  watchErrors: 'floe_kubeconfig_watch_errors_total',
} as const;

/** The watcher's counters; no-ops without a registry. */
export interface WatcherMetrics {
  /** A FloePolicy / FloeNeverBlock change: applied, refused (validation or apply error) or deleted. */
  change(kind: 'FloePolicy' | 'FloeNeverBlock', outcome: 'applied' | 'refused' | 'deleted'): void;
  statusWrite(outcome: 'ok' | 'error'): void;
  watchError(plural: string): void;
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** Create the counters on `registry` (reusing them when registered already). */
export function createWatcherMetrics(registry?: Registry): WatcherMetrics {
  if (registry === undefined) return { change() {}, statusWrite() {}, watchError() {} };
  const changes = counter(registry, KUBECONFIG_METRIC.changes, 'FloePolicy and FloeNeverBlock changes by kind and outcome (applied, refused, deleted)', ['kind', 'outcome']);
  const writes = counter(registry, KUBECONFIG_METRIC.statusWrites, 'Status subresource writes of floe custom resources, by outcome (ok, error)', ['outcome']);
  const errors = counter(registry, KUBECONFIG_METRIC.watchErrors, 'Watch failures of floe custom resources (each followed by a new list), by resource', ['resource']);
  return {
    change: (kind, outcome) => changes.inc({ kind, outcome }),
    statusWrite: (outcome) => writes.inc({ outcome }),
    watchError: (resource) => errors.inc({ resource }),
  };
}
