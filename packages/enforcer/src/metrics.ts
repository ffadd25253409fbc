import { Counter, Gauge, type Registry } from 'prom-client';

/** Metric names of the enforcer (one table, STYLE.md pattern 13). */
export const ENFORCER_METRICS = {
  intended: 'floe_enforcer_intended_entries',
  enforced: 'floe_enforcer_enforced_entries',
  ratio: 'floe_enforcer_enforced_ratio',
  fixes: 'floe_enforcer_reconcile_fixes_total',
  applyErrors: 'floe_enforcer_apply_errors_total',
  decisions: 'floe_enforcer_decisions_total',
  invalid: 'floe_enforcer_invalid_decisions_total',
  guardWithheld: 'floe_enforcer_guard_withheld_total',
} as const;

/** The enforcer's metrics, registered in `registry` when given (else kept unregistered). */
export function createEnforcerMetrics(registry?: Registry) {
  const registers = registry ? [registry] : [];
  return {
    intended: new Gauge({ name: ENFORCER_METRICS.intended, help: 'Unexpired decisions this node should enforce', registers }),
    enforced: new Gauge({
      name: ENFORCER_METRICS.enforced,
      help: 'Intended entries the kernel blocks (element equal to or covering the target), at the last reconcile',
      registers,
    }),
    ratio: new Gauge({ name: ENFORCER_METRICS.ratio, help: 'enforced / intended (1 when both are 0)', registers }),
    fixes: new Counter({
      name: ENFORCER_METRICS.fixes,
      help: 'Kernel elements fixed by the reconcile: missing (re-added), stray (removed), expiry (timeout refreshed); at start: protected (an element overlapping the protected set, removed)',
      labelNames: ['kind'] as const,
      registers,
    }),
    applyErrors: new Counter({
      name: ENFORCER_METRICS.applyErrors,
      help: 'Failed nft commits or read-backs (the reconcile retries)',
      registers,
    }),
    decisions: new Counter({
      name: ENFORCER_METRICS.decisions,
      help: 'Decision messages received, by outcome: block, unblock, ignored (dry-run, other scope, expired), invalid',
      labelNames: ['outcome'] as const,
      registers,
    }),
    invalid: new Counter({
      name: ENFORCER_METRICS.invalid,
      help: 'Decision messages ignored because the enforcer cannot read them, by reason: schema-version (missing or unknown schema), invalid-record (a field missing or of the wrong type), bad-target (not an address or prefix)',
      labelNames: ['reason'] as const,
      registers,
    }),
    guardWithheld: new Counter({
      name: ENFORCER_METRICS.guardWithheld,
      help: 'Decisions not enforced as they are because they overlap the protected set: outcome split (pieces around it enforced) or held (nothing enforced), by reason (too-wide, never-block, node, control-plane, host, special, too-many-pieces, bad-target)',
      labelNames: ['reason', 'outcome'] as const,
      registers,
    }),
  };
}

/** The metrics object returned by {@link createEnforcerMetrics}. */
export type EnforcerMetrics = ReturnType<typeof createEnforcerMetrics>;
