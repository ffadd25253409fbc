import type { Pipeline } from '../analysis.js';
import { forEachLiveItem, OK, type Step } from '../step.js';

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
      await forEachLiveItem(state, 'enrich', (item) => {
        item.flow = pipeline.enrich(item.raw);
      });
      return OK;
    },
  };
}
