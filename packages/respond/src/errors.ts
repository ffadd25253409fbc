/**
 * Error catalog of @floe/respond. Every error carries a stable `FLOE_RESPOND_…` code and the HTTP
 * status the API maps it to; the codes are listed in this package's README ("Errors").
 */

/** Stable error codes thrown by @floe/respond: description and HTTP status. */
export const RESPOND_ERROR_CODES = {
  FLOE_RESPOND_BAD_TARGET: { status: 400, description: 'a block target is not an IPv4/IPv6 address or a CIDR prefix without host bits' },
  FLOE_RESPOND_BAD_REQUEST: { status: 400, description: 'a manual block request has a bad duration, an empty reason or an empty user' },
  FLOE_RESPOND_PROTECTED: {
    status: 422,
    description:
      'the target overlaps the protected set: never-block list, node or control-plane networks, this host, or a special range (loopback, link-local, multicast, broadcast, unspecified)',
  },
  FLOE_RESPOND_TOO_WIDE: { status: 400, description: 'the target prefix is shorter than respond.minPrefixLength (default /16 IPv4, /32 IPv6)' },
  FLOE_RESPOND_BAD_OPTIONS: { status: 500, description: 'responder options are invalid (durations, rate cap, never-block CIDRs, scope)' },
} as const;

/** One of the codes in {@link RESPOND_ERROR_CODES}. */
export type RespondErrorCode = keyof typeof RESPOND_ERROR_CODES;

/** Thrown by the responder for bad targets, bad manual requests and bad options. */
export class RespondError extends Error {
  readonly code: RespondErrorCode;
  /** HTTP status the API answers with. */
  readonly status: number;
  /** The request or option field at fault (`target`, `durationMs`, `neverBlock[2]`). */
  readonly field: string;
  constructor(code: RespondErrorCode, field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'RespondError';
    this.code = code;
    this.status = RESPOND_ERROR_CODES[code].status;
    this.field = field;
  }
}
