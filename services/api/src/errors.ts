/**
 * Error catalog of the floe API (STYLE.md patterns 11 and 15). Every error response has the
 * body `{ statusCode, code, message }`; `code` is stable. README.md lists every code; a test
 * keeps the two in step.
 */

/** Codes the API itself produces, with their HTTP status and meaning. */
export const API_ERRORS = {
  FLOE_API_BAD_REQUEST: { status: 400, description: 'the request failed its schema (query, params, headers or body) or a value is out of range' },
  FLOE_API_UNAUTHORIZED: { status: 401, description: 'a bearer token is configured and the request to a write route lacks it or carries a wrong one' },
  FLOE_API_NOT_FOUND: { status: 404, description: 'no such route, or no decision for the target to delete' },
  FLOE_API_PAYLOAD_TOO_LARGE: { status: 413, description: 'the request body is larger than the limit (1 MiB)' },
  FLOE_API_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'the request body is not application/json' },
  FLOE_API_INTERNAL: { status: 500, description: 'an unexpected error; details are in the server log, not in the response' },
} as const;

/** A code the API produces. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/**
 * Domain error codes (thrown by store, responder, …) passed through with this HTTP status.
 * Matched by prefix, so `FLOE_RESPOND_BAD_TARGET_FOO` maps like `FLOE_RESPOND_BAD_TARGET`.
 */
export const DOMAIN_ERROR_STATUS: ReadonlyArray<readonly [prefix: string, status: number, description: string]> = [
  ['FLOE_RESPOND_BAD_TARGET', 400, 'the block target is not an address or a prefix without host bits'],
  ['FLOE_RESPOND_BAD_REQUEST', 400, 'the manual block request has a bad duration, reason or user'],
  ['FLOE_RESPOND_NEVER_BLOCK', 409, 'the target is on the never-block list'],
  ['FLOE_RESPOND_PROTECTED', 409, 'the target overlaps the protected set (never-block list, node or control-plane networks, this host, special ranges)'],
  ['FLOE_RESPOND_TOO_WIDE', 400, 'the target prefix is shorter than respond.minPrefixLength (default /16 IPv4, /32 IPv6)'],
  ['FLOE_RESPOND_RATE_LIMIT', 429, 'the responder refused a new block: rate cap reached'],
  ['FLOE_STORE_BAD_CURSOR', 400, 'the paging cursor is not one the API produced for this route'],
  ['FLOE_STORE_BAD_QUERY', 400, 'a query value is out of range'],
  ['FLOE_STORE_NOT_STARTED', 503, 'the store is not open (starting or stopping)'],
];

/** An error the API raises in a handler; the error handler sends it as is. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  /** Response headers the error handler sets with the error (e.g. WWW-Authenticate on a 401). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: ApiErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = API_ERRORS[code].status;
    this.headers = headers;
  }
}

/** The body of every error response. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
}

/**
 * Maps any thrown value to an error response: ApiError as is; fastify validation errors to
 * FLOE_API_BAD_REQUEST; fastify 413/415 to their codes, other fastify 4xx to
 * FLOE_API_BAD_REQUEST; domain codes through DOMAIN_ERROR_STATUS (code and message kept);
 * anything else to FLOE_API_INTERNAL with a generic message (the cause is logged, not sent).
 */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof ApiError) return { statusCode: err.statusCode, code: err.code, message: err.message };
  const e = (err ?? {}) as { code?: unknown; statusCode?: unknown; message?: unknown; validation?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const code = typeof e.code === 'string' ? e.code : '';
  if (e.validation !== undefined) return { statusCode: 400, code: 'FLOE_API_BAD_REQUEST', message };
  for (const [prefix, status] of DOMAIN_ERROR_STATUS) {
    if (code.startsWith(prefix)) return { statusCode: status, code, message };
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (code.startsWith('FST_') && status >= 400 && status < 500) {
    if (status === 413) return { statusCode: 413, code: 'FLOE_API_PAYLOAD_TOO_LARGE', message };
    if (status === 415) return { statusCode: 415, code: 'FLOE_API_UNSUPPORTED_MEDIA_TYPE', message };
    return { statusCode: 400, code: 'FLOE_API_BAD_REQUEST', message };
  }
  return { statusCode: 500, code: 'FLOE_API_INTERNAL', message: 'internal error' };
}
