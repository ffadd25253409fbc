/**
 * JSON schemas of the API's requests and responses (fastify validation and serialisation).
 * Response schemas list every field, so nothing unlisted leaks into a response.
 */
import { DATA_GAP_KINDS, SEVERITIES } from '@floe/flow';
import { TRIAGE_STATES } from '@floe/store';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
/** A time in an answer: RFC 3339 in UTC with ms (`2025-03-01T12:00:00.000Z`). */
export const timeOutSchema = { type: 'string', format: 'date-time', examples: ['2025-03-01T12:00:00.000Z'] } as const;
const tOut = timeOutSchema;

/** A time in a query: an RFC 3339 / ISO 8601 date-time, or ms since epoch (format `floe-time`, see values.ts parseTime). */
export const timeSchema = {
  type: 'string',
  format: 'floe-time',
  maxLength: 40,
  description: 'RFC 3339 date-time (2025-03-01T12:00:00Z) or ms since epoch',
} as const;
/** An address or CIDR prefix (format `floe-cidr`, see values.ts normalizeCidr). */
export const cidrSchema = { type: 'string', format: 'floe-cidr', minLength: 2, maxLength: 64 } as const;
/** An address (format `floe-addr`, see values.ts normalizeAddress). */
export const addrSchema = { type: 'string', format: 'floe-addr', minLength: 2, maxLength: 64 } as const;
/** A page size in a query string: digits, 1..1000 (format `floe-limit`, see values.ts parseLimit); default 100. */
export const limitSchema = { type: 'string', format: 'floe-limit', maxLength: 4 } as const;
/** A boolean in a query string: exactly `true` or `false`. */
export const boolSchema = { type: 'string', enum: ['true', 'false'] } as const;
/** An opaque paging cursor from a previous page's `next`. */
export const cursorSchema = { type: 'string', minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$' } as const;

/** A Kubernetes namespace name in a query string (DNS-1123 label: at most 63 lower-case letters, digits and `-`). */
export const namespaceSchema = { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' } as const;
/** A pod or workload name in a query string (DNS-1123 subdomain, at most 253 characters; inventory names may carry upper case and `_`). */
export const objectNameSchema = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$' } as const;
/** The Kubernetes filters of GET /v1/findings and /v1/decisions (issue 9): exact namespace, pod, workload of the finding's entity. */
const kubeFilters = { namespace: namespaceSchema, pod: objectNameSchema, workload: objectNameSchema } as const;

/** A Finding (packages/flow/src/finding.ts). `evidence` is free-form by design. */
export const findingSchema = {
  type: 'object',
  required: ['id', 'schema', 'firstSeen', 'lastSeen', 'detector', 'kind', 'severity', 'score', 'entity', 'peers', 'summary', 'evidence', 'producedBy'],
  properties: {
    id: str,
    schema: int,
    firstSeen: tOut,
    lastSeen: tOut,
    detector: str,
    kind: str,
    severity: str,
    score: { type: 'number' },
    entity: {
      type: 'object',
      required: ['addr'],
      properties: { addr: str, namespace: str, pod: str, workload: str },
    },
    peers: { type: 'array', items: str },
    summary: str,
    evidence: { type: 'object', additionalProperties: true },
    mitre: str,
    producedBy: str,
  },
} as const;

/** A Decision (packages/flow/src/decision.ts) */
export const decisionSchema = {
  type: 'object',
  required: ['schema', 'target', 'action', 'scope', 'durationMs', 'expiresAt', 'origin', 'reason', 'count', 'dryRun', 'createdAt', 'updatedAt'],
  properties: {
    schema: int,
    target: str,
    action: str,
    scope: {
      anyOf: [
        { type: 'string', enum: ['all'] },
        { type: 'array', items: str },
      ],
    },
    durationMs: int,
    expiresAt: tOut,
    origin: str,
    reason: str,
    count: int,
    dryRun: { type: 'boolean' },
    createdAt: tOut,
    updatedAt: tOut,
  },
} as const;

/**
 * Error response body: RFC 9457 problem details (`application/problem+json`) with the stable
 * `code`; `decision` only with FLOE_RESPOND_ALREADY_BLOCKED (the block that stands).
 */
export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', description: 'urn:floe:problem:<code>' },
    title: str,
    status: int,
    detail: str,
    instance: { type: 'string', description: 'the request path' },
    code: { type: 'string', description: 'stable FLOE_* code (docs/errors.md)' },
    decision: decisionSchema,
  },
} as const;

/** The former name of {@link problemSchema}, kept for route files written against it. */
export const errorSchema = problemSchema;

/** A page of items: `next` is absent on the last page; `total` counts every match. */
export function pageSchema(item: object): object {
  return {
    type: 'object',
    required: ['items', 'total'],
    properties: { items: { type: 'array', items: item }, next: str, total: int },
  };
}

/** GET /v1/findings query string. */
export const findingsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: timeSchema,
    to: timeSchema,
    detector: { type: 'string', minLength: 1, maxLength: 200 },
    entity: addrSchema,
    minSeverity: { type: 'string', enum: [...SEVERITIES] },
    state: { type: 'string', enum: [...TRIAGE_STATES] },
    suppressed: boolSchema,
    ...kubeFilters,
    limit: limitSchema,
    cursor: cursorSchema,
  },
} as const;

/** GET /v1/decisions query string. */
export const decisionsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    active: boolSchema,
    target: cidrSchema,
    origin: { type: 'string', minLength: 1, maxLength: 200 },
    ...kubeFilters,
    from: timeSchema,
    to: timeSchema,
    limit: limitSchema,
    cursor: cursorSchema,
  },
} as const;

/**
 * `x-floe-user` header: accepted for compatibility and IGNORED — the audit and the decisions name
 * the authenticated identity, never a header the caller chose.
 */
export const userHeaderSchema = {
  type: 'object',
  properties: { 'x-floe-user': { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._@:-]+$' } },
} as const;

/**
 * POST /v1/decisions body, validated WITHOUT type coercion: `"duration": true`, `"target": ["…"]`
 * or `"reason": 5` are 400s naming the field. `duration`: an integer of ms, or `<n>ms|s|m|h|d`
 * text; absent = responder default. `reason`: 1..500 characters, stored escaped (escape.ts).
 */
export const blockBodySchema = {
  type: 'object',
  required: ['target', 'reason'],
  additionalProperties: false,
  properties: {
    target: cidrSchema,
    duration: { type: ['integer', 'string'], minimum: 1, maximum: 365 * 24 * 3_600_000, pattern: '^[0-9]{1,12}(ms|s|m|h|d)?$', maxLength: 14 },
    reason: { type: 'string', minLength: 1, maxLength: 500 },
  },
} as const;

/** DELETE /v1/decisions/:target path parameters. */
export const targetParamsSchema = {
  type: 'object',
  required: ['target'],
  additionalProperties: false,
  properties: { target: cidrSchema },
} as const;

/** A node or source name in a query string: 1..256 printable characters (no control or bidi characters). */
export const gapNameSchema = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\p{Cc}\\p{Cf}]+$' } as const;

/** GET /v1/gaps query string. */
export const gapsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: timeSchema,
    to: timeSchema,
    node: gapNameSchema,
    source: gapNameSchema,
    kind: { type: 'string', enum: [...DATA_GAP_KINDS] },
    limit: limitSchema,
    cursor: cursorSchema,
  },
} as const;

/** A DataGap v1 (packages/flow/src/gap.ts). */
export const gapSchema = {
  type: 'object',
  required: ['schema', 'node', 'source', 'kind', 'from', 'to', 'count'],
  properties: {
    schema: int,
    node: str,
    source: str,
    kind: str,
    from: tOut,
    to: tOut,
    count: int,
    reasons: { type: 'object', additionalProperties: int },
  },
} as const;

/** The completeness summary of a period (@floe/store GapSummary). */
export const gapSummarySchema = {
  type: 'object',
  required: ['gaps', 'enobufsWarnings', 'rejectedLines', 'silentMs', 'groups'],
  properties: {
    gaps: int,
    enobufsWarnings: int,
    rejectedLines: int,
    silentMs: int,
    groups: {
      type: 'array',
      items: {
        type: 'object',
        required: ['node', 'source', 'kind', 'gaps', 'count', 'ms'],
        properties: { node: str, source: str, kind: str, gaps: int, count: int, ms: int },
      },
    },
  },
} as const;

/** GET /v1/gaps answer: a page of gaps and the summary of the whole period (all pages). */
export const gapsPageSchema = {
  type: 'object',
  required: ['items', 'total', 'summary'],
  properties: { items: { type: 'array', items: gapSchema }, next: str, total: int, summary: gapSummarySchema },
} as const;

/** An API token as listed (never its hash or secret). */
export const tokenSchema = {
  type: 'object',
  required: ['id', 'name', 'role', 'createdAt', 'createdBy'],
  properties: { id: str, name: str, role: { type: 'string', enum: ['viewer', 'analyst', 'admin'] }, createdAt: tOut, createdBy: str, expiresAt: tOut, revokedAt: tOut },
} as const;

/** POST /v1/tokens body. */
export const tokenBodySchema = {
  type: 'object',
  required: ['role'],
  additionalProperties: false,
  properties: {
    role: { type: 'string', enum: ['viewer', 'analyst', 'admin'] },
    name: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\p{Cc}\\p{Cf}]+$' },
    expires: { type: 'string', pattern: '^[0-9]{1,6}(m|h|d|w)$', description: 'lifetime: <n>m|h|d|w (30d), 1 minute .. 10 years; absent: no expiry' },
  },
} as const;

/** POST /v1/tokens answer: the token record and, once, its secret text. */
export const newTokenSchema = {
  type: 'object',
  required: ['token', 'secret'],
  properties: { token: tokenSchema, secret: { type: 'string', description: 'the bearer token; shown once, never stored' } },
} as const;

/** DELETE /v1/tokens/:id path parameters. */
export const tokenParamsSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[a-z0-9]{8,32}$' } },
} as const;

/** An API audit entry. */
export const auditEntrySchema = {
  type: 'object',
  required: ['id', 'at', 'subject', 'via', 'method', 'route', 'path', 'status', 'ip', 'requestId'],
  properties: {
    id: str,
    at: tOut,
    subject: str,
    via: { type: 'string', enum: ['token', 'oidc', 'anonymous'] },
    role: str,
    method: str,
    route: str,
    path: str,
    status: int,
    ip: str,
    action: str,
    target: str,
    requestId: str,
  },
} as const;

/** GET /v1/audit query string. */
export const auditQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: timeSchema,
    to: timeSchema,
    subject: { type: 'string', minLength: 1, maxLength: 256 },
    method: { type: 'string', enum: ['POST', 'PUT', 'PATCH', 'DELETE'] },
    status: { type: 'string', pattern: '^[1-5][0-9]{2}$' },
    action: { type: 'string', minLength: 1, maxLength: 64 },
    limit: limitSchema,
    cursor: cursorSchema,
  },
} as const;
