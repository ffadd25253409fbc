import type { DeadLetter } from '@floe/bus';
import type { Logger } from '@floe/telemetry';
import type { DeadLetterSink } from './deadletter.js';
import { PIPELINE_ERROR_CODES, PipelineError, isRetriable, messageOf } from './errors.js';
import type { ProcessorMetrics } from './metrics.js';
import type { BatchState, Step, StepResult } from './step.js';

/** Options of the step runner. */
export interface RunnerOptions {
  /** Retries of an output step that returns `retry`, before the batch is rejected. Default 5. */
  retries: number;
  /** First retry delay (ms); doubles per retry (100 → 0.1+0.2+0.4+0.8+1.6 s). Default 100. */
  retryBackoffMs: number;
  /** A step running longer than this (ms) is logged as stalled and counted. Default 10 000. */
  stallMs: number;
}

/** Defaults of RunnerOptions. */
export const RUNNER_DEFAULTS: Readonly<RunnerOptions> = Object.freeze({ retries: 5, retryBackoffMs: 100, stallMs: 10_000 });

/** Runs a batch through the named steps; also the one path dead letters take to the sink. */
export interface Runner {
  /**
   * Runs every step in order, timing each (floe_processor_step_seconds{step}) and counting its
   * outcome (floe_processor_step_outcomes_total{step,outcome}); then writes the batch's dead
   * letters. `retry` from an output step is retried with backoff; when retries run out (or an
   * analysis step asks for one) it rejects with FLOE_PIPELINE_STEP_FAILED so the batch stays
   * uncommitted. `dead-letter` dead-letters every live record and skips the remaining steps. A
   * step that throws is treated as `retry` for a retriable error (isRetriable), and as `dead-letter`
   * (step-error) for a refusal of the data or a TypeError / RangeError (a value the code cannot handle).
   */
  run(state: BatchState): Promise<void>;
  /**
   * The analysis half of run(): the steps before the first output step (decode, policy, detect);
   * then, unless it dead-lettered the batch, lets each output step `begin` its early I/O.
   */
  analyze(state: BatchState): Promise<void>;
  /** The output half of run(): the output steps (decide, persist, publish), then the dead letters. Skips the steps when analyze() dead-lettered the batch. */
  output(state: BatchState): Promise<void>;
  /** Writes dead letters through the sink (retried like an output step) and counts them by reason. */
  writeDeadLetters(list: DeadLetter[]): Promise<void>;
}

/** Builds the runner over `steps` (order matters). */
export function createRunner(steps: readonly Step[], deps: { metrics: ProcessorMetrics; logger: Logger; sink: DeadLetterSink }, opts: RunnerOptions = RUNNER_DEFAULTS): Runner {
  const m = deps.metrics;
  const log = deps.logger;

  const timed = async (name: string, fn: () => Promise<StepResult> | StepResult): Promise<StepResult> => {
    const end = m.step.startTimer({ step: name });
    const started = Date.now();
    const stall = setTimeout(() => {
      m.stalls.inc({ step: name });
      log.warn({ step: name, ms: Date.now() - started }, 'processor step stalled');
    }, opts.stallMs);
    stall.unref();
    try {
      return await fn();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      return isRetriable(err) && !(err instanceof TypeError || err instanceof RangeError) ? { kind: 'retry', error } : { kind: 'dead-letter', reason: 'step-error', error };
    } finally {
      clearTimeout(stall);
      end();
    }
  };

  /** Runs one step, retrying `retry` results of output steps; returns the final result. */
  const attempt = async (name: string, output: boolean, fn: () => Promise<StepResult> | StepResult): Promise<StepResult> => {
    for (let n = 0; ; n++) {
      const r = await timed(name, fn);
      m.stepOutcomes.inc({ step: name, outcome: r.kind });
      if (r.kind !== 'retry') return r;
      if (!output || n >= opts.retries) {
        throw new PipelineError(PIPELINE_ERROR_CODES.STEP_FAILED, `step ${name} failed: ${r.error.message}`, { cause: r.error });
      }
      m.retries.inc({ step: name });
      log.warn({ step: name, attempt: n + 1, err: r.error.message }, 'output step failed; retrying');
      await new Promise((res) => setTimeout(res, opts.retryBackoffMs * 2 ** n));
    }
  };

  const writeDeadLetters = async (list: DeadLetter[]): Promise<void> => {
    if (list.length === 0) return;
    const r = await attempt('deadletter', true, async () => {
      await deps.sink.write(list);
      return { kind: 'ok' };
    });
    if (r.kind !== 'ok') {
      throw new PipelineError(PIPELINE_ERROR_CODES.STEP_FAILED, `dead letters not written: ${messageOf(r.error)}`, { cause: r.error });
    }
    for (const d of list) {
      m.deadLetters.inc({ reason: d.reason });
      log.warn({ reason: d.reason, step: d.step, topic: d.topic, partition: d.partition, offset: d.offset, key: d.key, record: d.record, detail: d.detail }, 'dead-lettered');
    }
  };

  /** Runs `list` in order; false when one dead-lettered the batch (the rest are skipped). */
  const runSteps = async (list: readonly Step[], state: BatchState): Promise<boolean> => {
    for (const step of list) {
      const r = await attempt(step.name, step.output, () => step.run(state));
      if (r.kind === 'dead-letter') {
        for (const item of state.items) if (!item.dead) state.deadLetter({ item }, r.reason, step.name, r.error);
        return false;
      }
    }
    return true;
  };
  const firstOutput = steps.findIndex((s) => s.output);
  const analysis = firstOutput < 0 ? steps : steps.slice(0, firstOutput);
  const outputs = firstOutput < 0 ? [] : steps.slice(firstOutput);
  const ended = new WeakSet<BatchState>();

  return {
    async analyze(state) {
      if (!(await runSteps(analysis, state))) {
        ended.add(state);
        return;
      }
      for (const step of outputs) step.begin?.(state);
    },
    async output(state) {
      if (!ended.has(state)) await runSteps(outputs, state);
      await writeDeadLetters(state.deadLetters);
    },
    async run(state) {
      await this.analyze(state);
      await this.output(state);
    },
    writeDeadLetters,
  };
}
