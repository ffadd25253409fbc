import type { FlowRecord } from '@floe/flow';
import { checkFlowRecord } from '../validate.js';
import { OK, type Step } from '../step.js';

/**
 * decode: turns the batch's messages into records. A flows message holds an array of
 * FlowRecords (or one record); a tombstone is skipped; any other value dead-letters the message
 * (`undecodable`). Each record's `schema` version is checked (`schema-version`) and its fields
 * (`invalid-record`, validate.ts); a bad record is dead-lettered alone, the rest go on. (Bytes
 * that are not JSON never get here: the bus hands them to the processor's onUndecodable.)
 */
export const decodeStep: Step = {
  name: 'decode',
  output: false,
  run(state) {
    for (const msg of state.batch.messages) {
      const v = msg.value;
      if (v === null) continue;
      const list: unknown[] = Array.isArray(v) ? v : typeof v === 'object' ? [v] : [];
      if (list.length === 0 && !Array.isArray(v)) {
        state.deadLetter({ msg }, 'undecodable', 'decode', new Error(`a flows message holds an array of flow records, got ${typeof v}`));
        continue;
      }
      state.received += list.length;
      list.forEach((raw, index) => {
        const problem = checkFlowRecord(raw);
        if (problem) {
          state.deadLetter({ item: { raw: raw as FlowRecord, msg, index } }, problem.reason, 'decode', new Error(problem.detail));
          return;
        }
        state.items.push({ raw: raw as FlowRecord, msg, index });
      });
    }
    return OK;
  },
};
