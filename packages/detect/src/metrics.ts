/**
 * Metrics of the detectors (prom-client), read from each detector's `stats()` when the registry
 * is scraped: the detectors' hot path stays free of metric calls.
 */
import { Counter, Gauge, metric, type Registry } from '@floe/telemetry/lite';
import type { WindowStats } from './window.js';

/** Metric names of the detectors, one table (STYLE.md pattern 13; docs/metrics.md). */
export const DETECT_METRICS = {
  trackedKeys: 'floe_detect_tracked_keys',
  evictedKeys: 'floe_detect_evicted_keys_total',
  evictedConnections: 'floe_detect_evicted_connections_total',
  attempts: 'floe_detect_attempts_total',
  findings: 'floe_detect_findings_total',
} as const;

/** What the metrics read: a detector id and its counters. */
export interface MeasuredDetector {
  readonly id: string;
  stats(): WindowStats;
}

type CounterKey = 'evictedKeys' | 'evictedConnections' | 'attempts' | 'findings';
const COUNTERS: ReadonlyArray<readonly [CounterKey, string, string]> = [
  ['evictedKeys', DETECT_METRICS.evictedKeys, 'Detector keys (entities) evicted because the detector reached maxKeys, by detector'],
  ['evictedConnections', DETECT_METRICS.evictedConnections, 'Connection identities evicted because the detector reached maxConnections, by detector'],
  ['attempts', DETECT_METRICS.attempts, 'Flows a detector counted as a new connection attempt, by detector'],
  ['findings', DETECT_METRICS.findings, 'Findings a detector emitted (updates included), by detector'],
];

/** Detectors measured on each registry, and what each counter last reported per detector. */
const measured = new WeakMap<Registry, Map<MeasuredDetector, Partial<Record<CounterKey, number>>>>();

/**
 * Exports the counters of `detectors` on `registry` (`floe_detect_*`, label `detector`): a gauge of
 * the keys tracked now and counters of evictions, attempts and findings. Values are read at scrape
 * time; several sets of detectors on one registry add up. Idempotent per detector.
 */
export function registerDetectorMetrics(registry: Registry, detectors: readonly MeasuredDetector[]): void {
  let sources = measured.get(registry);
  if (!sources) {
    const all = new Map<MeasuredDetector, Partial<Record<CounterKey, number>>>();
    sources = all;
    measured.set(registry, all);
    const registers = [registry];
    metric(
      registry,
      DETECT_METRICS.trackedKeys,
      () =>
        new Gauge({
          name: DETECT_METRICS.trackedKeys,
          help: 'Keys (entities) a detector holds window state for now, by detector',
          labelNames: ['detector'] as const,
          registers,
          collect() {
            const sum = new Map<string, number>();
            for (const d of all.keys()) sum.set(d.id, (sum.get(d.id) ?? 0) + d.stats().keys);
            for (const [detector, v] of sum) this.set({ detector }, v);
          },
        }),
    );
    for (const [key, name, help] of COUNTERS) {
      metric(
        registry,
        name,
        () =>
          new Counter({
            name,
            help,
            labelNames: ['detector'] as const,
            registers,
            collect() {
              for (const [d, last] of all) {
                const now = d.stats()[key];
                const delta = now - (last[key] ?? 0);
                if (delta > 0) this.inc({ detector: d.id }, delta);
                last[key] = now;
              }
            },
          }),
      );
    }
  }
  for (const d of detectors) if (!sources.has(d)) sources.set(d, {});
}
