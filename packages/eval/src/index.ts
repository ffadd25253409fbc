/**
 * @floe/eval: importers of labelled flow data sets (UNSW-NB15, CIC-IDS, NSL-KDD, CTU binetflow,
 * Zeek conn) and the evaluation of rule detectors and a model at the level of source entity per
 * window (see README.md).
 */
export * from './import/types.js';
export { createImporter, importLines, importFile, ImportStats } from './import/stream.js';
export type { ImportOptions } from './import/stream.js';
export { fromZeekConnState, fromArgusState } from './import/state.js';
export type { ConnFlags } from './import/state.js';
export { ctuLabel } from './import/ctu.js';
export { nslKddLabel } from './import/nslkdd.js';
export { syntheticSource, SYNTHETIC_DESTINATION } from './import/build.js';
export { FloeEvalError, EVAL_ERROR_CODES } from './errors.js';
export type { EvalErrorCode } from './errors.js';
export { prf, rocCurve, rocAuc } from './metrics.js';
export type { Prf, RocPoint, Confusion } from './metrics.js';
export { evaluate, groundTruth, runDetectors, timeOrdered, windowKey, DEFAULT_EVAL_WINDOW_MS } from './evaluate.js';
export type { EvalReport, EvaluateOptions, PredictorResult, ModelResult, WindowTruth } from './evaluate.js';
export { timeSplit } from './split.js';
export type { Split } from './split.js';
export { rocSvg } from './roc-svg.js';
export type { WindowScorer, ScoredWindow, ScorerProvider } from './scorer.js';
