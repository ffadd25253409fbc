import type { Store } from '@floe/store';
import { isRetriable } from '../errors.js';
import { OK, type Step } from '../step.js';
import { failure } from './failure.js';

/**
 * persist: upserts the batch's findings, then (with `storeFlows`) writes its flows through the
 * store's bulk path (DuckDB: one JSON statement; ClickHouse: JSONCompactEachRow), both idempotent
 * so a redelivered batch stores nothing twice. A retriable error (store unavailable) returns
 * `retry`. When the store refuses the flows as data, they are written one by one and each flow
 * it refuses is dead-lettered (`store-rejected`): one bad record never blocks the partition.
 */
export function persistStep(deps: { store: Store; storeFlows: boolean }): Step {
  return {
    name: 'persist',
    output: true,
    async run(state) {
      try {
        if (state.findings.length) await deps.store.insertFindings(state.findings);
      } catch (err) {
        return failure(err);
      }
      if (!deps.storeFlows || state.flows.length === 0) return OK;
      try {
        await deps.store.insertFlows(state.flows);
        return OK;
      } catch (err) {
        if (isRetriable(err)) return failure(err);
      }
      for (let i = 0; i < state.flows.length; i++) {
        if (state.flowItems[i].dead) continue;
        try {
          await deps.store.insertFlows([state.flows[i]]);
        } catch (err) {
          if (isRetriable(err)) return failure(err);
          state.deadLetter({ item: state.flowItems[i] }, 'store-rejected', 'persist', err);
        }
      }
      return OK;
    },
  };
}
