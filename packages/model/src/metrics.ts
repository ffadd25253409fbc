/**
 * `floe_model_*` metrics of the ML detector (STYLE.md 13), read from its `stats()` when the
 * registry is scraped: `observe` touches no metric.
 *
 * - `floe_model_windows_total{outcome}` — windows closed: `scored`, `dropped` (queue full: scoring
 *   fell behind), `skipped` (fewer attempts than `minFlows`).
 * - `floe_model_findings_total` — windows above the threshold (findings).
 * - `floe_model_queue_windows` — windows waiting to be scored.
 * - `floe_model_tracked_entities` — entities with feature state.
 * - `floe_model_evicted_entities_total` — entities evicted at `maxEntities` (their window emitted early).
 */
import { Counter, Gauge, metric, type Registry } from '@floe/telemetry/lite';
import type { ModelDetectorStats } from './detector.js';

/** What the metrics read. */
export interface ModelStatsSource {
  stats(): ModelDetectorStats;
}

/** Registers the `floe_model_*` metrics on `registry` and reports `source` there while it is alive (the last one tracked wins). */
export function trackModelMetrics(registry: Registry, source: ModelStatsSource): void {
  const ref = new WeakRef(source);
  const reported = { scored: 0, dropped: 0, skipped: 0, findings: 0, evicted: 0 };
  let windows: Counter;
  let findings: Counter;
  let evicted: Counter;
  const collect = (): void => {
    const s = ref.deref()?.stats();
    if (s === undefined) return;
    const now = { scored: s.scored, dropped: s.dropped, skipped: s.skipped, findings: s.findings, evicted: s.evictedEntities };
    for (const outcome of ['scored', 'dropped', 'skipped'] as const) {
      const d = now[outcome] - reported[outcome];
      if (d > 0) windows.inc({ outcome }, d);
    }
    if (now.findings > reported.findings) findings.inc(now.findings - reported.findings);
    if (now.evicted > reported.evicted) evicted.inc(now.evicted - reported.evicted);
    Object.assign(reported, now);
  };
  const counter = (name: string, help: string, labelNames: string[] = []): Counter =>
    metric(registry, name, () => new Counter({ name, help, labelNames, registers: [registry], collect }));
  windows = counter('floe_model_windows_total', 'Windows closed by the ML detector: scored, dropped (queue full), skipped (fewer attempts than minFlows).', ['outcome']);
  findings = counter('floe_model_findings_total', 'Windows above the model threshold (findings of ml.autoencoder).');
  evicted = counter('floe_model_evicted_entities_total', 'Entities evicted at maxEntities (their open window emitted early).');
  const gauge = (name: string, help: string, read: (s: ModelDetectorStats) => number): Gauge =>
    metric(
      registry,
      name,
      () =>
        new Gauge({
          name,
          help,
          registers: [registry],
          collect(this: Gauge) {
            const s = ref.deref()?.stats();
            if (s !== undefined) this.set(read(s));
          },
        }),
    );
  gauge('floe_model_queue_windows', 'Windows waiting to be scored by the ML detector.', (s) => s.queued);
  gauge('floe_model_tracked_entities', 'Entities the ML detector holds window features for.', (s) => s.entities);
}
