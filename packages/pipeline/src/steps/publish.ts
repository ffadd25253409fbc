import { TOPICS, type Bus } from '@floe/bus';
import { OK, type Step } from '../step.js';
import { failure } from './failure.js';

/** publish: the batch's findings on floe.findings.v1 (key = finding id), after they are stored. */
export function publishStep(deps: { bus: Bus }): Step {
  return {
    name: 'publish',
    output: true,
    async run(state) {
      if (state.findings.length === 0) return OK;
      try {
        await deps.bus.publish(
          TOPICS.findings,
          state.findings.map((f) => ({ key: f.id, value: f })),
        );
      } catch (err) {
        return failure(err);
      }
      return OK;
    },
  };
}
