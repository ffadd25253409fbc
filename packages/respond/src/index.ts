/**
 * @floe/respond: finding -> block decision (TTLs, escalation, never-block guard, rate cap,
 * dry-run). See README.md.
 */
export { createResponder } from './responder.js';
export type { Responder, ResponseOutcome, ManualBlockRequest, ResponderDeps, RespondLogger } from './responder.js';
export { defaultResponderOptions, checkResponderOptions } from './options.js';
export type { ResponderOptions, CheckedResponderOptions } from './options.js';
export { normalizeTarget, overlaps, NeverBlock, BUILTIN_NEVER_BLOCK } from './target.js';
export { METRIC } from './metrics.js';
export { RespondError, RESPOND_ERROR_CODES } from './errors.js';
export type { RespondErrorCode } from './errors.js';
export { createDecisionWriter } from './writer.js';
export type { DecisionWriter } from './writer.js';
