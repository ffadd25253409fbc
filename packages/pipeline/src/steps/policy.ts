import type { Pipeline } from '../analysis.js';
import { forEachLiveItem, OK, type Step } from '../step.js';

/**
 * policy: classifies each record (as the enrich step left it) (direction, zones, inventory) and evaluates the policy. A
 * record that makes the policy throw is dead-lettered (`step-error`) and the rest go on.
 */
export function policyStep(pipeline: Pipeline): Step {
  return {
    name: 'policy',
    output: false,
    async run(state) {
      await forEachLiveItem(state, 'policy', (item) => {
        const r = pipeline.classify(item.flow ?? item.raw);
        item.flow = r.flow;
        item.findings = r.findings;
      });
      return OK;
    },
  };
}
