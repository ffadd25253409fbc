/**
 * @floe/respond: finding -> block decision (TTLs, escalation, the protected set, rate cap,
 * dry-run). See README.md.
 */
export { createResponder } from './responder.js';
export type { Responder, ResponseOutcome, ManualBlockRequest, ResponderDeps, RespondLogger } from './responder.js';
export { defaultResponderOptions, checkResponderOptions } from './options.js';
export type { ResponderOptions, CheckedResponderOptions } from './options.js';
export { normalizeTarget, overlaps, MAX_TARGET_CHARS } from './target.js';
export { createProtectedSet, createLiveProtectedSet, SPECIAL_RANGES, DEFAULT_MIN_PREFIX_LENGTH, MAX_SPLIT_PIECES } from './protect.js';
export type { ProtectedSet, ProtectedSetOptions, ProtectedEntry, ProtectedKind, MinPrefixLength, GuardHit, Admission, LiveProtectedSet, RuntimeNeverBlock } from './protect.js';
export { createSuppressor, findingPorts, findingNamespaces, SUPPRESSED_METRIC } from './suppress.js';
export type { Suppressor, SuppressorDeps, SuppressionMatch, SuppressionRuleLike } from './suppress.js';
export { METRIC } from './metrics.js';
export type { RefuseCause, IgnoreCause } from './metrics.js';
export { RespondError, RESPOND_ERROR_CODES } from './errors.js';
export type { RespondErrorCode } from './errors.js';
export { createDecisionWriter } from './writer.js';
export type { DecisionWriter } from './writer.js';
