/** Metrics of the responder (prom-client), registered on the registry passed in deps. */
import { Counter, type Registry } from 'prom-client';

/** Metric names, one place (README "Metrics"). */
export const METRIC = {
  decisions: 'floe_respond_decisions_total',
  refused: 'floe_respond_refused_total',
  ignored: 'floe_respond_ignored_total',
  seedWithheld: 'floe_respond_seed_withheld_total',
} as const;

/** The responder's counters; no-ops when no registry is given. */
export interface RespondMetrics {
  /** One per outcome: `create`, `extend`, `refused`, `ignored`. */
  decision(outcome: 'create' | 'extend' | 'refused' | 'ignored'): void;
  refused(cause: RefuseCause): void;
  ignored(cause: IgnoreCause): void;
  /** A stored decision given to seed() that overlaps the protected set (reason: too-wide, never-block, node, …). */
  seedWithheld(reason: string): void;
}

/** Why a block was refused: the protected set (`never-block`, manual requests throw instead), `too-wide`, or the rate cap. */
export type RefuseCause = 'never-block' | 'too-wide' | 'rate-limit';
/**
 * Why a finding led to nothing: severity, an active block, accept-verdict evidence only, or an
 * entity that is the victim of the flows (`evidence.entityRole: 'victim'`, a spoofed SYN flood),
 * or a suppression rule that matches the finding (`suppressed`).
 */
export type IgnoreCause = 'below-severity' | 'already-blocked' | 'accept-verdict' | 'victim' | 'suppressed';

function counter(registry: Registry, name: string, help: string, label: string): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<string>;
  return new Counter({ name, help, labelNames: [label], registers: [registry] });
}

/** Create the counters on `registry` (reusing them when another responder registered them already). */
export function createRespondMetrics(registry?: Registry): RespondMetrics {
  if (registry === undefined) return { decision() {}, refused() {}, ignored() {}, seedWithheld() {} };
  const decisions = counter(registry, METRIC.decisions, 'Responder outcomes by kind (create, extend, refused, ignored)', 'outcome');
  const refused = counter(registry, METRIC.refused, 'Blocks refused by the responder, by cause (never-block: the protected set; too-wide; rate-limit)', 'cause');
  const ignored = counter(registry, METRIC.ignored, 'Findings the responder ignored, by cause (below-severity, already-blocked, accept-verdict, victim, suppressed)', 'cause');
  const seedWithheld = counter(
    registry,
    METRIC.seedWithheld,
    'Stored decisions seeded at start that overlap the protected set, by reason (too-wide, never-block, node, control-plane, host, special, bad-target)',
    'reason',
  );
  return {
    decision: (outcome) => decisions.inc({ outcome }),
    refused: (cause) => refused.inc({ cause }),
    ignored: (cause) => ignored.inc({ cause }),
    seedWithheld: (reason) => seedWithheld.inc({ reason }),
  };
}
