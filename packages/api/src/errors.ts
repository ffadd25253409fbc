/**
 * Error catalogue of the floe API (STYLE.md patterns 11 and 15): EVERY code an API response can
 * carry, with its HTTP status — the API's own `FLOE_API_…` codes and the domain codes of
 * @floe/respond and @floe/store that reach the API. docs/errors.md documents each one; a test
 * keeps the two in step, and another fails when @floe/respond or @floe/store gains a code that
 * is neither here nor listed in NOT_API_ERRORS.
 *
 * Every error response is RFC 9457 problem details (`application/problem+json`:
 * `{ type, title, status, detail, instance, code }`, plus `decision` for
 * FLOE_RESPOND_ALREADY_BLOCKED). A thrown error whose `code` is not in the catalogue is an
 * internal error: 500 FLOE_API_INTERNAL with a generic message, logged once with its cause.
 */
import { escapeText } from '@floe/flow';

/** Where a code comes from: the API itself, or a domain package whose errors the API passes on. */
export type ErrorSource = 'api' | 'respond' | 'store' | 'report';

/** One entry of the catalogue. */
export interface CatalogueEntry {
  /** HTTP status of the response. */
  readonly status: number;
  /** The RFC 9457 `title`: a short summary of the problem type, the same for every occurrence. */
  readonly title: string;
  /** Who raises it. */
  readonly source: ErrorSource;
  /** One line for operators (docs/errors.md says more). */
  readonly description: string;
}

/** Every error code an API response can carry (see the module comment). */
export const ERROR_CATALOGUE = Object.freeze({
  FLOE_API_BAD_REQUEST: {
    status: 400,
    title: 'Bad request',
    source: 'api',
    description: 'the request failed its schema (query, params, headers or body; a wrong type is never coerced), is not valid JSON, or a value is out of range',
  },
  FLOE_API_UNAUTHORIZED: {
    status: 401,
    title: 'Authentication required',
    source: 'api',
    description:
      'the route needs a role and the request has no bearer token (and anonymous callers have none), or its token is unknown, malformed, expired, revoked or fails OIDC verification',
  },
  FLOE_API_FORBIDDEN: {
    status: 403,
    title: 'Role too low',
    source: 'api',
    description: 'the caller is authenticated but its role is below what the route requires (viewer < analyst < admin)',
  },
  FLOE_API_CROSS_SITE: {
    status: 403,
    title: 'Cross-site request refused',
    source: 'api',
    description:
      'a state-changing request without a bearer token (served with the anonymous role) carries an Origin that is not a loopback origin, or Sec-Fetch-Site: cross-site: a web page may not change state through the open loopback API',
  },
  FLOE_API_MISDIRECTED: {
    status: 421,
    title: 'Misdirected request',
    source: 'api',
    description:
      'a request without a bearer token (served with the anonymous role) names a Host that is not a loopback host (localhost, *.localhost, 127.0.0.0/8, [::1]): DNS rebinding protection of the open loopback API',
  },
  FLOE_API_RATE_LIMITED: {
    status: 429,
    title: 'Too many requests',
    source: 'api',
    description: 'the client address or the authenticated identity made more requests than api.rateLimit allows in its window; Retry-After says when to try again',
  },
  FLOE_API_DRY_RUN_BLOCK: {
    status: 409,
    title: 'Dry-run block',
    source: 'api',
    description: 'PATCH /v1/decisions/:target of an active block that is a dry-run decision (respond.dryRun: recorded, never enforced): it cannot be extended',
  },
  FLOE_API_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    source: 'api',
    description:
      'no such route; no decision for the target to delete or no active block to extend; no such finding to triage or read the triage of, suppression rule or run-time never-block entry',
  },
  FLOE_API_PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large', source: 'api', description: 'the request body is larger than the limit (1 MiB)' },
  FLOE_API_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type', source: 'api', description: 'the request has a body that is not application/json' },
  FLOE_API_INTERNAL: { status: 500, title: 'Internal error', source: 'api', description: 'an unexpected error; details are in the server log, not in the response' },
  FLOE_RESPOND_BAD_TARGET: { status: 400, title: 'Bad block target', source: 'respond', description: 'the block target is not an address or a prefix without host bits' },
  FLOE_RESPOND_BAD_REQUEST: { status: 400, title: 'Bad block request', source: 'respond', description: 'the manual block request has a bad duration, reason or user' },
  FLOE_RESPOND_TOO_WIDE: {
    status: 400,
    title: 'Block target too wide',
    source: 'respond',
    description: 'the target prefix is wider than respond.minPrefixLength allows (default: shorter than /16 IPv4, /32 IPv6)',
  },
  FLOE_RESPOND_ALREADY_BLOCKED: {
    status: 409,
    title: 'Already blocked',
    source: 'respond',
    description: 'the target is blocked until at least the requested expiry already; the existing decision is kept and returned in `decision`',
  },
  FLOE_RESPOND_NEVER_BLOCK: {
    status: 422,
    title: 'Target on the never-block list',
    source: 'respond',
    description: 'the target is on (or overlaps) the never-block list; floe will not block it',
  },
  FLOE_RESPOND_PROTECTED: {
    status: 422,
    title: 'Target protected',
    source: 'respond',
    description: 'the target is in (or overlaps) the protected set (nodes, control plane, own and special addresses) or is wider than the prefix limit; floe will not block it',
  },
  FLOE_RESPOND_REFUSED: { status: 422, title: 'Block refused', source: 'respond', description: 'the responder refused the block for another reason, named in the message' },
  FLOE_RESPOND_RATE_LIMIT: { status: 429, title: 'Block rate cap reached', source: 'respond', description: 'the responder refused a new block: rate cap reached' },
  FLOE_STORE_BAD_CURSOR: { status: 400, title: 'Bad paging cursor', source: 'store', description: 'the paging cursor is not one the API produced for this route' },
  FLOE_STORE_BAD_QUERY: { status: 400, title: 'Bad query value', source: 'store', description: 'a query value is out of range' },
  FLOE_STORE_NOT_STARTED: { status: 503, title: 'Store not open', source: 'store', description: 'the store is not open (starting or stopping)' },
  FLOE_REPORT_NOT_FOUND: { status: 404, title: 'Report not found', source: 'report', description: 'no kept report with that id, or not kept in that format' },
} as const satisfies Record<string, CatalogueEntry>);

/** A code of the catalogue. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** A code the API itself raises (`FLOE_API_…`). */
export type ApiErrorCode = Extract<ErrorCode, `FLOE_API_${string}`>;

/**
 * Codes of @floe/respond and @floe/store that cannot reach an API response (they are raised at
 * start or by the processor), with why. The catalogue test checks every code those packages
 * export is either in ERROR_CATALOGUE or here.
 */
export const NOT_API_ERRORS: Readonly<Record<string, string>> = Object.freeze({
  FLOE_RESPOND_BAD_OPTIONS: 'responder options are checked at start; a bad configuration exits 2 before the API listens',
  FLOE_STORE_MIGRATION_FAILED: 'raised by store.start(), before the API listens',
  FLOE_STORE_BAD_CONFIG: 'raised by createStore at start',
  FLOE_STORE_UNKNOWN_KIND: 'raised by createStore at start',
  FLOE_STORE_BAD_PATH: 'raised by createStore / store.start() at start (floe run and floe serve exit 2)',
});

/** True when `code` is in the catalogue. */
export function isCatalogued(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code);
}

/** An error the API raises in a handler; the error handler sends it as it is. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Response headers the error handler sets with the error (e.g. WWW-Authenticate on a 401). */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra fields of the response body (e.g. `decision` on a 409). */
  readonly extra: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, opts: { headers?: Record<string, string>; extra?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = ERROR_CATALOGUE[code].status;
    this.headers = opts.headers ?? {};
    this.extra = opts.extra ?? {};
  }
}

/**
 * The body of every error response: an RFC 9457 problem details object (media type
 * `application/problem+json`) with the stable `code` as an extension member. `type` is
 * `urn:floe:problem:<code>` (one URI per code, documented in docs/errors.md); `instance` is the
 * request path; `decision` only with FLOE_RESPOND_ALREADY_BLOCKED.
 */
export interface ErrorBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: ErrorCode;
  [extra: string]: unknown;
}

/** Media type of error responses (RFC 9457 section 3). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The problem `type` URI of a code. */
export function problemType(code: ErrorCode): string {
  return `urn:floe:problem:${code}`;
}

/** A problem body for `code` with `detail` (not escaped here: toErrorBody does that). */
export function problem(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): ErrorBody {
  const e = ERROR_CATALOGUE[code];
  return { ...extra, type: problemType(code), title: e.title, status: e.status, detail, code };
}

/** The generic answer to an unexpected error (the cause goes to the log only). */
export const INTERNAL_ERROR_BODY: Readonly<ErrorBody> = Object.freeze(problem('FLOE_API_INTERNAL', 'internal error'));

/**
 * Maps any thrown value to an error response body, or undefined when it is an unexpected error
 * (the caller answers INTERNAL_ERROR_BODY and logs it):
 * - ApiError as it is (its extra fields added);
 * - a fastify validation error to FLOE_API_BAD_REQUEST;
 * - a catalogued domain code (RespondError, StoreError, …) with its catalogue status, code and message;
 * - fastify's own client errors: 413 → FLOE_API_PAYLOAD_TOO_LARGE, 415 → FLOE_API_UNSUPPORTED_MEDIA_TYPE,
 *   other 4xx (malformed JSON, empty JSON body, bad URL) → FLOE_API_BAD_REQUEST.
 */
export function toErrorBody(err: unknown): ErrorBody | undefined {
  const body = errorBody(err);
  if (body) body.detail = safeMessage(body.detail);
  return body;
}

/** Longest error message answered, in characters after escaping (messages echo input: a path, a target). */
export const MAX_ERROR_MESSAGE_CHARS = 400;

/**
 * An error message made safe to answer: escaped with escapeText (a path like `%1b%5b31m` decodes
 * to a raw ESC) and cut to {@link MAX_ERROR_MESSAGE_CHARS} with `…` (a 10 kB path is not echoed).
 */
export function safeMessage(message: string): string {
  const text = escapeText(message.length > MAX_ERROR_MESSAGE_CHARS * 2 ? message.slice(0, MAX_ERROR_MESSAGE_CHARS * 2) : message);
  return text.length > MAX_ERROR_MESSAGE_CHARS ? `${text.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : text;
}

function errorBody(err: unknown): ErrorBody | undefined {
  if (err instanceof ApiError) return problem(err.code, err.message, err.extra);
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; validation?: unknown };
  const message = typeof e.message === 'string' ? e.message : 'bad request';
  if (e.validation !== undefined) return problem('FLOE_API_BAD_REQUEST', message);
  if (isCatalogued(e.code)) return problem(e.code, message);
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (typeof e.code === 'string' && e.code.startsWith('FST_') && status >= 400 && status < 500) {
    if (status === 413) return problem('FLOE_API_PAYLOAD_TOO_LARGE', message);
    if (status === 415) return problem('FLOE_API_UNSUPPORTED_MEDIA_TYPE', message);
    return problem('FLOE_API_BAD_REQUEST', message);
  }
  return undefined;
}
