import type { Pipeline } from '../analysis.js';
import { OK, YIELD_EVERY, yieldToIo, type Step } from '../step.js';

/**
 * policy: classifies each record (as the enrich step left it) (direction, zones, inventory) and evaluates the policy. A
 * record that makes the policy throw is dead-lettered (`step-error`) and the rest go on.
 */
export function policyStep(pipeline: Pipeline): Step {
  return {
    name: 'policy',
    output: false,
    async run(state) {
      let n = 0;
      for (const item of state.items) {
        if (item.dead) continue;
        if (++n % YIELD_EVERY === 0) await yieldToIo();
        try {
          const r = pipeline.classify(item.flow ?? item.raw);
          item.flow = r.flow;
          item.findings = r.findings;
        } catch (err) {
          state.deadLetter({ item }, 'step-error', 'policy', err);
        }
      }
      return OK;
    },
  };
}
