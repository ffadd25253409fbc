/**
 * @floe/model: window features per source entity and the TensorFlow.js anomaly model (an
 * autoencoder) that scores them; see README.md.
 */
export { FEATURE_NAMES, FEATURE_COUNT } from './names.js';
export type { FeatureName } from './names.js';
export { FeatureWindows, extractFeatures, defaultLeavesCluster, FEATURE_DEFAULTS, ENTITY_WORDS } from './features.js';
export type { EntityWindow, FeatureOptions, FeatureStats } from './features.js';
export { DistinctCounter, EntropyHistogram, SeenTable, SlabPool, EXACT_DISTINCT, HLL_P, ENTROPY_BUCKETS } from './sketch.js';
export { ModelError, MODEL_ERROR_CODES } from './errors.js';
export type { ModelErrorCode } from './errors.js';
export { trainModel, quantile, rankQuantile, modelVersion, TRAIN_DEFAULTS, SCORE_BATCH } from './model.js';
export type { FloeModel, ModelScore, TrainOptions, FloeModelMeta } from './model.js';
export { loadModel, MODEL_FILES } from './io.js';
export { selectBackend, ensureBackend, TFJS_NODE } from './backend.js';
export type { BackendChoice, BackendName, BackendOptions, BackendLog } from './backend.js';
export { createModelDetector, modelFinding, findingScore, readableValue, MODEL_DETECTOR_ID, MODEL_DETECTOR_DEFAULTS } from './detector.js';
export type { ModelDetector, ModelDetectorOptions, ModelDetectorStats } from './detector.js';
export { entitiesWithFindings, leaveOut } from './training-set.js';
export { trackModelMetrics } from './metrics.js';
export type { ModelStatsSource } from './metrics.js';
export { policyModelDir, scorersFromPolicy } from './policy.js';
