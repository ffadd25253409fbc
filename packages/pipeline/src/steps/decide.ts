import type { DecisionWriter, Responder } from '@floe/respond';
import type { Store, SuppressionMark } from '@floe/store';
import { OK, type Step } from '../step.js';
import { failure } from './failure.js';

/**
 * decide: turns the batch's findings into responder outcomes (once: a retry of this step does
 * not ask the responder again), stores the outcomes (decision + audit, or the refusal's audit;
 * all of the chunk's in one store call, `DecisionWriter.storeAll`, one DuckDB transaction) and
 * publishes the decisions on floe.decisions.v1 — first among the output steps, so an enforcer
 * does not wait for the batch's flows to be stored. Outcomes stored by a successful attempt are
 * not stored (and audited) again by a retry of a later part of the step.
 *
 * A finding a suppression rule matches (outcome `ignored` / `suppressed`: no block, and alert
 * sinks skip it) is marked in the store with the rule's id (`store.markSuppressed`, idempotent:
 * a retry marks it again harmlessly); the finding itself is stored as usual by persist.
 */
export function decideStep(deps: { responder: Responder; writer: DecisionWriter; now: () => number; store?: Pick<Store, 'markSuppressed'> }): Step {
  return {
    name: 'decide',
    output: true,
    async run(state) {
      state.outcomes ??= state.findings.map((f) => ({ f, o: deps.responder.respond(f, deps.now()) }));
      try {
        const marks: SuppressionMark[] = [];
        for (const { f, o } of state.outcomes) if (o.kind === 'ignored' && o.suppression) marks.push({ findingId: f.id, ruleId: o.suppression.ruleId, at: o.suppression.at });
        if (marks.length > 0 && deps.store) await deps.store.markSuppressed(marks);
        // Every outcome not stored yet, in one store call (one DuckDB transaction, not one per outcome).
        const pending = state.outcomes.slice(state.stored);
        const ds = await deps.writer.storeAll(pending.map(({ o }) => o));
        for (let i = 0; i < pending.length; i++) {
          const d = ds[i];
          if (d) state.made.push({ d, f: pending[i].f });
        }
        state.stored = state.outcomes.length;
        await deps.writer.publish(state.made.map(({ d }) => d));
      } catch (err) {
        return failure(err);
      }
      return OK;
    },
  };
}
