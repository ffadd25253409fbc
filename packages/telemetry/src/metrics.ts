import { Registry, collectDefaultMetrics } from 'prom-client';

export { Registry, Counter, Gauge, Histogram } from 'prom-client';

/**
 * A Prometheus registry for one process, with Node.js process metrics prefixed `floe_`.
 * Components register their own metrics on it (names `floe_<component>_...`, STYLE.md 13).
 */
export function createRegistry(opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'floe_' });
  return registry;
}

/**
 * Returns the metric registered under `name`, or registers the one `make` builds. Lets two
 * instances of a component (tests, `floe run`) share one registry without a duplicate-name error.
 */
export function metric<T>(registry: Registry, name: string, make: () => T): T {
  const existing = registry.getSingleMetric(name);
  return (existing as T | undefined) ?? make();
}
