import type { Pipeline } from '../analysis.js';
import { OK, YIELD_EVERY, yieldToIo, type Step } from '../step.js';

/**
 * detect: feeds each classified flow to the detectors. A record that makes a detector throw is
 * dead-lettered (`step-error`, its policy findings dropped with it) and the rest go on. Collects
 * the batch's live flows and findings for the output steps.
 */
export function detectStep(pipeline: Pipeline): Step {
  return {
    name: 'detect',
    output: false,
    async run(state) {
      let n = 0;
      for (const item of state.items) {
        if (++n % YIELD_EVERY === 0) await yieldToIo();
        if (item.dead || !item.flow) continue;
        try {
          for (const f of pipeline.detect(item.flow)) item.findings!.push(f);
        } catch (err) {
          state.deadLetter({ item }, 'step-error', 'detect', err);
          continue;
        }
        state.flows.push(item.flow);
        state.flowItems.push(item);
        for (const f of item.findings!) state.findings.push(f);
      }
      return OK;
    },
  };
}
