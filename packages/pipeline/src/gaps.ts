import type { DataGap } from '@floe/flow';
import type { BusBatch, DeadLetter } from '@floe/bus';
import type { Store } from '@floe/store';
import type { Logger } from '@floe/telemetry';
import { deadLetterOf, type DeadLetterOrigin } from './deadletter.js';
import { PIPELINE_ERROR_CODES, PipelineError, isRetriable, messageOf } from './errors.js';
import type { ProcessorMetrics } from './metrics.js';
import type { Runner, RunnerOptions } from './runner.js';
import { checkDataGap, gapOf } from './validate-gap.js';

/** Step names of the gaps path in floe_processor_step_* metrics and dead letters. */
export const GAP_STEPS = Object.freeze({ decode: 'decode-gaps', persist: 'persist-gaps' });

/** What the gaps handler needs. */
export interface GapHandlerDeps {
  store: Store;
  /** The processor's runner: dead letters go through its sink and counters. */
  runner: Pick<Runner, 'writeDeadLetters'>;
  metrics: ProcessorMetrics;
  logger: Logger;
  group: string;
  now: () => number;
  opts: Pick<RunnerOptions, 'retries' | 'retryBackoffMs'>;
}

/**
 * The handler of `floe.gaps.v1` batches: each message holds one DataGap v1 (the collector's
 * key `node/source`); a tombstone is skipped. Each value is checked (validate-gap.ts): a bad one
 * is dead-lettered with its reason (`undecodable` for a value that is not an object,
 * `schema-version`, `invalid-record`) and the partition moves on. The good ones are stored with
 * `store.insertGaps` (idempotent by key, so a redelivery counts nothing twice); a retriable
 * store error is retried with the runner's doubling backoff, then rethrown (FLOE_PIPELINE_STEP_FAILED:
 * the batch stays uncommitted and is redelivered); a refusal of the data is narrowed to the
 * refused gaps, dead-lettered `store-rejected`. Resolves (and the bus commits) only once the
 * gaps and the dead letters are stored. Returns how many gaps were stored and dead-lettered.
 */
export function createGapHandler(deps: GapHandlerDeps): (batch: BusBatch<unknown>) => Promise<{ stored: number; deadLetters: number }> {
  const m = deps.metrics;
  const timed = async <T>(step: string, fn: () => Promise<T> | T): Promise<T> => {
    const end = m.step.startTimer({ step });
    try {
      return await fn();
    } finally {
      end();
    }
  };

  return async (batch) => {
    const origin: DeadLetterOrigin = { topic: batch.topic, partition: batch.partition, group: deps.group, at: deps.now() };
    const dead: DeadLetter[] = [];
    const good: Array<{ gap: DataGap; msg: BusBatch<unknown>['messages'][number] }> = [];
    await timed(GAP_STEPS.decode, () => {
      for (const msg of batch.messages) {
        if (msg.value === null) continue;
        if (typeof msg.value !== 'object' || Array.isArray(msg.value)) {
          dead.push(
            deadLetterOf(
              origin,
              msg,
              'undecodable',
              GAP_STEPS.decode,
              new Error(`a gaps message holds one DataGap object, got ${Array.isArray(msg.value) ? 'an array' : typeof msg.value}`),
            ),
          );
          continue;
        }
        const problem = checkDataGap(msg.value);
        if (problem) dead.push(deadLetterOf(origin, msg, problem.reason, GAP_STEPS.decode, new Error(problem.detail)));
        else good.push({ gap: gapOf(msg.value), msg });
      }
    });
    m.stepOutcomes.inc({ step: GAP_STEPS.decode, outcome: 'ok' });

    let stored: DataGap[] = [];
    if (good.length > 0) {
      for (let n = 0; ; n++) {
        try {
          await timed(GAP_STEPS.persist, () => deps.store.insertGaps(good.map((x) => x.gap)));
          stored = good.map((x) => x.gap);
          m.stepOutcomes.inc({ step: GAP_STEPS.persist, outcome: 'ok' });
          break;
        } catch (err) {
          if (!isRetriable(err)) {
            m.stepOutcomes.inc({ step: GAP_STEPS.persist, outcome: 'dead-letter' });
            stored = await oneByOne(good, dead, origin);
            break;
          }
          m.stepOutcomes.inc({ step: GAP_STEPS.persist, outcome: 'retry' });
          if (n >= deps.opts.retries) {
            throw new PipelineError(PIPELINE_ERROR_CODES.STEP_FAILED, `step ${GAP_STEPS.persist} failed: ${messageOf(err)}`, { cause: err });
          }
          m.retries.inc({ step: GAP_STEPS.persist });
          deps.logger.warn({ step: GAP_STEPS.persist, attempt: n + 1, err: messageOf(err) }, 'storing data gaps failed; retrying');
          await new Promise((r) => setTimeout(r, deps.opts.retryBackoffMs * 2 ** n));
        }
      }
    }
    await deps.runner.writeDeadLetters(dead);
    for (const gap of stored) m.gaps.inc({ kind: gap.kind });
    return { stored: stored.length, deadLetters: dead.length };
  };

  /** Stores each gap alone after the store refused the batch as data; refused ones are dead-lettered. */
  async function oneByOne(good: Array<{ gap: DataGap; msg: BusBatch<unknown>['messages'][number] }>, dead: DeadLetter[], origin: DeadLetterOrigin): Promise<DataGap[]> {
    const stored: DataGap[] = [];
    for (const { gap, msg } of good) {
      try {
        await deps.store.insertGaps([gap]);
        stored.push(gap);
      } catch (err) {
        if (isRetriable(err)) throw err;
        dead.push(deadLetterOf(origin, msg, 'store-rejected', GAP_STEPS.persist, err));
      }
    }
    return stored;
  }
}
