import type { Pipeline } from '../analysis.js';
import { OK, YIELD_EVERY, yieldToIo, type Step } from '../step.js';

/**
 * enrich: names both ends of each record from the cluster (Kubernetes enrichment, the pipeline's
 * FlowEnricher) before the policy classifies it; the result is the item's `flow`, the record as
 * read stays in `raw` (dead letters keep it). Without an enricher the step passes records on. A
 * record that makes enrichment throw is dead-lettered (`step-error`) and the rest go on.
 */
export function enrichStep(pipeline: Pipeline): Step {
  return {
    name: 'enrich',
    output: false,
    async run(state) {
      let n = 0;
      for (const item of state.items) {
        if (item.dead) continue;
        if (++n % YIELD_EVERY === 0) await yieldToIo();
        try {
          item.flow = pipeline.enrich(item.raw);
        } catch (err) {
          state.deadLetter({ item }, 'step-error', 'enrich', err);
        }
      }
      return OK;
    },
  };
}
