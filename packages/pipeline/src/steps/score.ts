import type { Pipeline } from '../analysis.js';
import { OK, type Step } from '../step.js';

/**
 * score: after detect, the async scorers (the ML detector) score the windows the batch's flows
 * closed, in batches that yield to I/O between them, and their findings join the batch's for
 * decide, persist and publish. A scorer that throws does not touch the batch's flows or rule
 * findings: the error goes to `onError` (logged by the processor) and those windows' findings are
 * lost.
 */
export function scoreStep(pipeline: Pipeline, onError: (err: unknown) => void): Step {
  return {
    name: 'score',
    output: false,
    async run(state) {
      if (pipeline.pending() === 0) return OK;
      try {
        for (const f of await pipeline.drain()) state.findings.push(f);
      } catch (err) {
        onError(err);
      }
      return OK;
    },
  };
}
