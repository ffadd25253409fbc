/**
 * @floe/pipeline: the stream processor as named steps (decode, policy, detect, decide, persist,
 * publish), their runner, the dead-letter path, and the per-flow analysis shared with
 * `floe analyze`. See README.md.
 */
export { createPipeline, DEDUP_IDS } from './analysis.js';
export type { Pipeline, WindowScorer } from './analysis.js';
export { scoreStep } from './steps/score.js';
export { createProcessor, gapsGroup } from './processor.js';
export { createGapHandler, GAP_STEPS } from './gaps.js';
export type { GapHandlerDeps } from './gaps.js';
export { checkDataGap, gapOf, GAP_SCHEMA_VERSION, MAX_GAP_NAME, MAX_GAP_REASONS, MAX_GAP_REASON_LENGTH } from './validate-gap.js';
export type { Processor, ProcessorDeps, ProcessorHealth, ProcessorOptions } from './processor.js';
export { createRunner, RUNNER_DEFAULTS } from './runner.js';
export type { Runner, RunnerOptions } from './runner.js';
export type { BatchItem, BatchState, Step, StepResult } from './step.js';
export { createDeadLetterSink, deadLetterOf, messageBytes } from './deadletter.js';
export type { DeadLetterOrigin, DeadLetterSink } from './deadletter.js';
export { checkFlowRecord, FLOW_SCHEMA_VERSION, MAX_TEXT } from './validate.js';
export type { RecordProblem } from './validate.js';
export { PIPELINE_ERROR_CODES, PipelineError, isRetriable } from './errors.js';
export type { PipelineErrorCode } from './errors.js';
export { processorMetrics } from './metrics.js';
export type { ProcessorMetrics } from './metrics.js';
