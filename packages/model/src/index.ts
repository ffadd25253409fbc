/**
 * @floe/model: window features per source entity and the TensorFlow.js anomaly model (an
 * autoencoder) that scores them; see README.md.
 */
export { FEATURE_NAMES, FEATURE_COUNT } from './names.js';
export type { FeatureName } from './names.js';
export { FeatureWindows, extractFeatures, defaultLeavesCluster, FEATURE_DEFAULTS } from './features.js';
export type { EntityWindow, FeatureOptions, FeatureStats } from './features.js';
export { DistinctCounter, EntropyHistogram, SeenTable, EXACT_DISTINCT, HLL_P, ENTROPY_BUCKETS } from './sketch.js';
export { ModelError, MODEL_ERROR_CODES } from './errors.js';
export type { ModelErrorCode } from './errors.js';
