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

/**
 * The value of the metric `name` in `registry`: the sum of its samples whose labels include every
 * entry of `labels` (for a histogram, of its `_count` samples: the observations). Undefined when
 * the metric is not registered or no sample matches. For tests and summaries.
 */
export async function readMetric(registry: Registry, name: string, labels: Record<string, string | number> = {}): Promise<number | undefined> {
  const m = registry.getSingleMetric(name);
  if (!m) return undefined;
  const { type, values } = await m.get();
  const want = Object.entries(labels).map(([k, v]) => [k, String(v)] as const);
  const histogram = String(type) === 'histogram';
  const match = values.filter((s) => (!histogram || (s as { metricName?: string }).metricName === `${name}_count`) && want.every(([k, v]) => String(s.labels[k]) === v));
  if (match.length === 0) return undefined;
  return match.reduce((sum, s) => sum + s.value, 0);
}
