import type { Pipeline } from '../analysis.js';
import { OK, type Step } from '../step.js';

/**
 * policy: classifies each record (direction, zones, inventory) and evaluates the policy. A
 * record that makes the policy throw is dead-lettered (`step-error`) and the rest go on.
 */
export function policyStep(pipeline: Pipeline): Step {
  return {
    name: 'policy',
    output: false,
    run(state) {
      for (const item of state.items) {
        try {
          const r = pipeline.classify(item.raw);
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
