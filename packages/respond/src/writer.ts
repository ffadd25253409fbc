import type { Decision, DecisionAudit } from '@floe/flow';
import { TOPICS, type Bus } from '@floe/bus';
import type { DecisionWrite, Store } from '@floe/store';
import type { Responder, ResponseOutcome } from './responder.js';

/**
 * Makes decisions durable and visible: the store first (decision row + audit row), then the
 * compacted `floe.decisions.v1` topic that enforcers read. The one writer of decisions: used by
 * the processor for findings and by the API for manual blocks and unblocks.
 */
export interface DecisionWriter {
  /** Persists what an outcome changed (decision row + audit, or the refusal's audit); returns the decision when there is one. Store errors propagate. */
  store(outcome: ResponseOutcome): Promise<Decision | undefined>;
  /**
   * store() of several outcomes at once, in order (one store call, `Store.writeDecisions`: one
   * transaction in DuckDB instead of one per outcome); returns, per outcome, its decision or
   * undefined. Ignored outcomes write nothing. Store errors propagate (DuckDB: nothing written).
   */
  storeAll(outcomes: readonly ResponseOutcome[]): Promise<Array<Decision | undefined>>;
  /** Publishes decisions on the compacted topic (one message per target, key = target), after they are stored. Bus errors propagate. */
  publish(decisions: Decision[]): Promise<void>;
  /** store() then publish(): one outcome end to end (manual blocks). */
  write(outcome: ResponseOutcome): Promise<Decision | undefined>;
  /** Unblock: deletes the decision, audits it (origin `api:<user>`), forgets it in the responder, publishes a tombstone. False when none existed. */
  unblock(target: string, user: string, nowMs: number): Promise<boolean>;
}

/** Builds the DecisionWriter over a store, a bus and the responder whose state it keeps in step. */
export function createDecisionWriter(deps: { store: Store; bus: Bus; responder: Responder }): DecisionWriter {
  const writer: DecisionWriter = {
    async store(outcome) {
      if (outcome.kind === 'decision') {
        await deps.store.upsertDecision(outcome.decision, outcome.audit);
        return outcome.decision;
      }
      if (outcome.kind === 'refused') await deps.store.appendAudit(outcome.audit);
      return undefined;
    },
    async storeAll(outcomes) {
      const items: DecisionWrite[] = [];
      const out: Array<Decision | undefined> = [];
      for (const o of outcomes) {
        if (o.kind === 'decision') items.push({ decision: o.decision, audit: o.audit });
        else if (o.kind === 'refused') items.push({ audit: o.audit });
        out.push(o.kind === 'decision' ? o.decision : undefined);
      }
      if (items.length) await deps.store.writeDecisions(items);
      return out;
    },
    async publish(decisions) {
      if (decisions.length)
        await deps.bus.publish(
          TOPICS.decisions,
          decisions.map((d) => ({ key: d.target, value: d })),
        );
    },
    async write(outcome) {
      const d = await writer.store(outcome);
      if (d) await writer.publish([d]);
      return d;
    },
    async unblock(target, user, nowMs) {
      const audit: DecisionAudit = { at: nowMs, target, change: 'delete', origin: `api:${user}`, reason: `unblocked by ${user}` };
      const existed = await deps.store.deleteDecision(target, audit);
      deps.responder.release(target);
      if (existed) await deps.bus.publish(TOPICS.decisions, [{ key: target, value: null }]);
      return existed;
    },
  };
  return writer;
}
