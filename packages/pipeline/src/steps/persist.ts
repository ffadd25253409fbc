import type { Store } from '@floe/store';
import type { BatchState } from '../step.js';
import { isRetriable } from '../errors.js';
import { OK, type Step } from '../step.js';
import { failure } from './failure.js';

/**
 * persist: upserts the batch's findings, then (with `storeFlows`) writes its flows through the
 * store's bulk path (DuckDB: one JSON statement; ClickHouse: JSONCompactEachRow), both idempotent
 * so a redelivered batch stores nothing twice. The flows' bulk write is started by `begin`, as
 * soon as the chunk's analysis is done: it needs no earlier output (the store writes flows on a
 * connection of their own), so it runs while the decisions and findings of this and earlier
 * chunks are written and the next chunk is analysed; `run` waits for it. Nothing is committed
 * before `run` saw it succeed. A retriable error (store unavailable) returns `retry`, and the
 * retry writes the flows again. When the store refuses the flows as data, they are written one
 * by one and each flow it refuses is dead-lettered (`store-rejected`): one bad record never blocks
 * the partition.
 */
export function persistStep(deps: { store: Store; storeFlows: boolean }): Step {
  /** The bulk write `begin` started for a batch, taken (and forgotten) by the first `run`. */
  const started = new WeakMap<BatchState, Promise<void>>();
  const bulk = (state: BatchState): Promise<void> => {
    let write: Promise<void>;
    try {
      write = deps.store.insertFlows(state.flows);
    } catch (err) {
      write = Promise.reject(err); // a store that throws before its promise: run() sees it as a failed write
    }
    write.catch(() => undefined); // awaited by run(); not an unhandled rejection meanwhile
    return write;
  };
  return {
    name: 'persist',
    output: true,
    begin(state) {
      if (deps.storeFlows && state.flows.length > 0) started.set(state, bulk(state));
    },
    async run(state) {
      try {
        if (state.findings.length) await deps.store.insertFindings(state.findings);
      } catch (err) {
        return failure(err);
      }
      if (!deps.storeFlows || state.flows.length === 0) return OK;
      const write = started.get(state) ?? bulk(state);
      started.delete(state);
      try {
        await write;
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
