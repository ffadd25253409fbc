/**
 * @floe/kube-config: floe's configuration as Kubernetes custom resources (FloePolicy,
 * FloeNeverBlock; group floe.dev/v1alpha1): the CRDs generated from @floe/policy's schema and
 * the watcher that validates, applies and reports status. See README.md.
 */
export { FLOE_GROUP, FLOE_VERSION, FLOE_POLICY, FLOE_NEVER_BLOCK, floePolicyCrd, floeNeverBlockCrd } from './crd.js';
export type { CrdNames, CustomResourceDefinition, FloeResourcePhase, FloeResourceStatus, FloeStatusError } from './crd.js';
export { crdFiles } from './crd-files.js';
export type { CrdFile } from './crd-files.js';
export { toStructural, floePolicySpecSchema, floeNeverBlockSpecSchema } from './schema.js';
export type { OpenApiSchema } from './schema.js';
export { checkPolicySpec, checkNeverBlockSpec, MAX_STATUS_ERRORS } from './validate.js';
export type { SpecCheck } from './validate.js';
export { createFloeConfigWatcher } from './watcher.js';
export type { FloeConfigWatcher, FloeConfigWatcherDeps, FloeConfigWatcherOptions, FloeConfigWatcherState, FloeObject, NeverBlockEntry } from './watcher.js';
export { KUBECONFIG_METRIC } from './metrics.js';
export { KubeConfigError, KUBECONFIG_ERROR_CODES } from './errors.js';
export type { KubeConfigErrorCode } from './errors.js';
