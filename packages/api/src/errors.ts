/**
 * Error catalogue of the floe API (STYLE.md patterns 11 and 15): EVERY code an API response can
 * carry, with its HTTP status — the API's own `FLOE_API_…` codes and the domain codes of
 * @floe/respond and @floe/store that reach the API. docs/errors.md documents each one; a test
 * keeps the two in step, and another fails when @floe/respond or @floe/store gains a code that
 * is neither here nor listed in NOT_API_ERRORS.
 *
 * Every error response has the body `{ statusCode, code, message }` (plus `decision` for
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
  /** Who raises it. */
  readonly source: ErrorSource;
  /** One line for operators (docs/errors.md says more). */
  readonly description: string;
}

/** Every error code an API response can carry (see the module comment). */
export const ERROR_CATALOGUE = Object.freeze({
  FLOE_API_BAD_REQUEST: {
    status: 400,
    source: 'api',
    description: 'the request failed its schema (query, params, headers or body; a wrong type is never coerced), is not valid JSON, or a value is out of range',
  },
  FLOE_API_UNAUTHORIZED: { status: 401, source: 'api', description: 'a bearer token is configured and the request to a write route lacks it or carries a wrong one' },
  FLOE_API_NOT_FOUND: {
    status: 404,
    source: 'api',
    description: 'no such route; no decision for the target to delete or no active block to extend; no such finding to triage, suppression rule or run-time never-block entry',
  },
  FLOE_API_PAYLOAD_TOO_LARGE: { status: 413, source: 'api', description: 'the request body is larger than the limit (1 MiB)' },
  FLOE_API_UNSUPPORTED_MEDIA_TYPE: { status: 415, source: 'api', description: 'the request has a body that is not application/json' },
  FLOE_API_INTERNAL: { status: 500, source: 'api', description: 'an unexpected error; details are in the server log, not in the response' },
  FLOE_RESPOND_BAD_TARGET: { status: 400, source: 'respond', description: 'the block target is not an address or a prefix without host bits' },
  FLOE_RESPOND_BAD_REQUEST: { status: 400, source: 'respond', description: 'the manual block request has a bad duration, reason or user' },
  FLOE_RESPOND_TOO_WIDE: {
    status: 400,
    source: 'respond',
    description: 'the target prefix is wider than respond.minPrefixLength allows (default: shorter than /16 IPv4, /32 IPv6)',
  },
  FLOE_RESPOND_ALREADY_BLOCKED: {
    status: 409,
    source: 'respond',
    description: 'the target is blocked until at least the requested expiry already; the existing decision is kept and returned in `decision`',
  },
  FLOE_RESPOND_NEVER_BLOCK: { status: 422, source: 'respond', description: 'the target is on (or overlaps) the never-block list; floe will not block it' },
  FLOE_RESPOND_PROTECTED: {
    status: 422,
    source: 'respond',
    description: 'the target is in (or overlaps) the protected set (nodes, control plane, own and special addresses) or is wider than the prefix limit; floe will not block it',
  },
  FLOE_RESPOND_REFUSED: { status: 422, source: 'respond', description: 'the responder refused the block for another reason, named in the message' },
  FLOE_RESPOND_RATE_LIMIT: { status: 429, source: 'respond', description: 'the responder refused a new block: rate cap reached' },
  FLOE_STORE_BAD_CURSOR: { status: 400, source: 'store', description: 'the paging cursor is not one the API produced for this route' },
  FLOE_STORE_BAD_QUERY: { status: 400, source: 'store', description: 'a query value is out of range' },
  FLOE_STORE_NOT_STARTED: { status: 503, source: 'store', description: 'the store is not open (starting or stopping)' },
  FLOE_REPORT_NOT_FOUND: { status: 404, source: 'report', description: 'no kept report with that id, or not kept in that format' },
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

/** The body of every error response; `decision` only with FLOE_RESPOND_ALREADY_BLOCKED. */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  [extra: string]: unknown;
}

/** The generic answer to an unexpected error (the cause goes to the log only). */
export const INTERNAL_ERROR_BODY: Readonly<ErrorBody> = Object.freeze({ statusCode: 500, code: 'FLOE_API_INTERNAL', message: 'internal error' });

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
  if (body) body.message = safeMessage(body.message);
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
  if (err instanceof ApiError) return { ...err.extra, statusCode: err.statusCode, code: err.code, message: err.message };
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; validation?: unknown };
  const message = typeof e.message === 'string' ? e.message : 'bad request';
  if (e.validation !== undefined) return { statusCode: 400, code: 'FLOE_API_BAD_REQUEST', message };
  if (isCatalogued(e.code)) return { statusCode: ERROR_CATALOGUE[e.code].status, code: e.code, message };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (typeof e.code === 'string' && e.code.startsWith('FST_') && status >= 400 && status < 500) {
    if (status === 413) return { statusCode: 413, code: 'FLOE_API_PAYLOAD_TOO_LARGE', message };
    if (status === 415) return { statusCode: 415, code: 'FLOE_API_UNSUPPORTED_MEDIA_TYPE', message };
    return { statusCode: 400, code: 'FLOE_API_BAD_REQUEST', message };
  }
  return undefined;
}
