/**
 * JSON schemas of the triage, suppression, never-block and decision-extend routes (issue 8):
 * requests checked without coercion, responses listing every field (nothing unlisted leaks).
 */
import { TRIAGE_STATES } from '@floe/store';
import { cidrSchema, findingSchema, timeSchema } from './schemas.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
/** A time in an answer: RFC 3339 text (times.ts rfc3339). */
const rfc3339 = { type: 'string', format: 'date-time' } as const;

/** Free text given by a person (a reason): 1..500 characters, stored escaped. */
export const reasonSchema = { type: 'string', minLength: 1, maxLength: 500 } as const;

/** A duration: an integer of ms or `<n>ms|s|m|h|d`, 1 ms..365 d (values.ts parseDuration). */
export const durationSchema = { type: ['integer', 'string'], minimum: 1, maximum: 365 * 24 * 3_600_000, pattern: '^[0-9]{1,12}(ms|s|m|h|d)?$', maxLength: 14 } as const;

/** A finding id in a path: 1..256 printable ASCII characters (ids are hex digests or detector keys). */
export const findingIdParamsSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' } },
} as const;

/** POST /v1/findings/:id/triage body: a `false_positive` needs a reason. */
export const triageBodySchema = {
  type: 'object',
  required: ['state'],
  additionalProperties: false,
  properties: { state: { type: 'string', enum: [...TRIAGE_STATES] }, reason: reasonSchema },
  if: { properties: { state: { const: 'false_positive' } } },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords (draft 7), not a thenable
  then: { required: ['reason'] },
} as const;

/** One triage change (@floe/store FindingTriage). */
export const triageSchema = {
  type: 'object',
  required: ['findingId', 'state', 'by', 'at'],
  properties: { findingId: str, state: str, reason: str, by: str, at: rfc3339 },
} as const;

/** GET /v1/findings/:id/triage answer: the current state and every change, oldest first. */
export const triageHistorySchema = {
  type: 'object',
  required: ['findingId', 'state', 'history'],
  properties: { findingId: str, state: str, history: { type: 'array', items: triageSchema } },
} as const;

/** A Kubernetes namespace name: an RFC 1123 label (Kubernetes API docs, "Object Names and IDs"). */
export const namespaceSchema = { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' } as const;

/** A detector or policy rule id (`portscan.vertical`, `policy.metadata-api`). */
export const detectorSchema = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:-]+$' } as const;

/**
 * POST /v1/suppressions body: at least one matcher (detector, entity, namespace, port), an
 * expiry (`expiresAt` time or `duration` from now, exactly one) and a reason.
 */
export const suppressionBodySchema = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: {
    detector: detectorSchema,
    entity: cidrSchema,
    namespace: namespaceSchema,
    port: { type: 'integer', minimum: 1, maximum: 65_535 },
    expiresAt: timeSchema,
    duration: durationSchema,
    reason: reasonSchema,
  },
  anyOf: [{ required: ['detector'] }, { required: ['entity'] }, { required: ['namespace'] }, { required: ['port'] }],
  oneOf: [{ required: ['expiresAt'] }, { required: ['duration'] }],
} as const;

/** A suppression rule with what it suppressed (@floe/store SuppressionRuleStats) and whether it is active now. */
export const suppressionSchema = {
  type: 'object',
  required: ['id', 'expiresAt', 'reason', 'createdBy', 'createdAt', 'suppressed', 'active'],
  properties: {
    id: str,
    detector: str,
    entity: str,
    namespace: str,
    port: int,
    expiresAt: rfc3339,
    reason: str,
    createdBy: str,
    createdAt: rfc3339,
    suppressed: int,
    lastMatchAt: rfc3339,
    active: { type: 'boolean' },
  },
} as const;

/** GET /v1/suppressions query string. */
export const suppressionsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { active: { type: 'string', enum: ['true', 'false'] } },
} as const;

/** A rule id in a path (`sup-` and 32 hex digits as created; anything printable up to 64 characters is looked up). */
export const ruleIdParamsSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' } },
} as const;

/** POST /v1/never-block body. */
export const neverBlockBodySchema = {
  type: 'object',
  required: ['cidr', 'reason'],
  additionalProperties: false,
  properties: { cidr: cidrSchema, reason: reasonSchema },
} as const;

/** A never-block entry: the run-time ones (`source: api`, removable) and the policy's (`source: policy`). */
export const neverBlockEntrySchema = {
  type: 'object',
  required: ['cidr', 'source', 'reason'],
  properties: { cidr: str, source: { type: 'string', enum: ['api', 'policy'] }, reason: str, createdBy: str, createdAt: rfc3339 },
} as const;

/** DELETE /v1/never-block/:cidr path parameters (URL-encoded CIDR). */
export const cidrParamsSchema = {
  type: 'object',
  required: ['cidr'],
  additionalProperties: false,
  properties: { cidr: cidrSchema },
} as const;

/** PATCH /v1/decisions/:target body: the new end (`expiresAt`, or `duration` from now; exactly one) and an optional reason. */
export const extendBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { expiresAt: timeSchema, duration: durationSchema, reason: reasonSchema },
  oneOf: [{ required: ['expiresAt'] }, { required: ['duration'] }],
} as const;

/** A list answer of these routes (small lists, no paging): every item and their count. */
export function listSchema(item: object): object {
  return { type: 'object', required: ['items', 'total'], properties: { items: { type: 'array', items: item }, total: int } };
}

/**
 * A finding as GET /v1/findings answers it: the Finding, its triage `state` (always; `open` when
 * never triaged), the latest change (`triage`) and its suppression mark (`suppression`) when it has them.
 */
export const findingAnswerSchema = {
  ...findingSchema,
  required: [...findingSchema.required, 'state'],
  properties: {
    ...findingSchema.properties,
    state: { type: 'string', enum: [...TRIAGE_STATES] },
    triage: { type: 'object', required: ['state', 'by', 'at'], properties: { state: str, reason: str, by: str, at: rfc3339 } },
    suppression: { type: 'object', required: ['ruleId', 'at'], properties: { ruleId: str, at: rfc3339 } },
  },
} as const;
