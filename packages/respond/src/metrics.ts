/** Metrics of the responder (prom-client), registered on the registry passed in deps. */
import { Counter, type Registry } from 'prom-client';

/** Metric names, one place (README "Metrics"). */
export const METRIC = {
  decisions: 'floe_respond_decisions_total',
  refused: 'floe_respond_refused_total',
  ignored: 'floe_respond_ignored_total',
} as const;

/** The responder's counters; no-ops when no registry is given. */
export interface RespondMetrics {
  /** One per outcome: `create`, `extend`, `refused`, `ignored`. */
  decision(outcome: 'create' | 'extend' | 'refused' | 'ignored'): void;
  refused(cause: 'never-block' | 'rate-limit'): void;
  ignored(cause: 'below-severity' | 'already-blocked'): void;
}

function counter(registry: Registry, name: string, help: string, label: string): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<string>;
  return new Counter({ name, help, labelNames: [label], registers: [registry] });
}

/** Create the counters on `registry` (reusing them when another responder registered them already). */
export function createRespondMetrics(registry?: Registry): RespondMetrics {
  if (registry === undefined) return { decision() {}, refused() {}, ignored() {} };
  const decisions = counter(registry, METRIC.decisions, 'Responder outcomes by kind (create, extend, refused, ignored)', 'outcome');
  const refused = counter(registry, METRIC.refused, 'Blocks refused by the responder, by cause (never-block, rate-limit)', 'cause');
  const ignored = counter(registry, METRIC.ignored, 'Findings the responder ignored, by cause (below-severity, already-blocked)', 'cause');
  return {
    decision: (outcome) => decisions.inc({ outcome }),
    refused: (cause) => refused.inc({ cause }),
    ignored: (cause) => ignored.inc({ cause }),
  };
}
