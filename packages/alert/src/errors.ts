/**
 * Error catalog of @floe/alert. Every error carries a stable `FLOE_ALERT_…` code; the codes are
 * listed in this package's README ("Errors").
 */

/** Stable error codes of @floe/alert with their meaning. */
export const ALERT_ERROR_CODES = {
  FLOE_ALERT_BAD_CONFIG: 'the alert configuration is inconsistent: a route names an unknown sink, a sink lacks its secret or address, a TLS file cannot be read',
  FLOE_ALERT_SINK_REJECTED: 'a receiver answered with a status that retrying cannot change (HTTP 4xx other than 408 and 429): not retried, dead-lettered',
  FLOE_ALERT_SINK_FAILED: 'a delivery failed in a way a retry may fix: connection refused or reset, timeout, HTTP 5xx, 408 or 429',
} as const;

/** One of the codes in {@link ALERT_ERROR_CODES}. */
export type AlertErrorCode = keyof typeof ALERT_ERROR_CODES;

/** An error of @floe/alert; `retriable` says whether a retry of the same delivery may succeed. */
export class AlertError extends Error {
  readonly code: AlertErrorCode;
  readonly retriable: boolean;
  constructor(code: AlertErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AlertError';
    this.code = code;
    this.retriable = code === 'FLOE_ALERT_SINK_FAILED';
  }
}

/** Whether a delivery error may go away on retry: anything but a FLOE_ALERT_SINK_REJECTED / BAD_CONFIG. */
export function isRetriable(err: unknown): boolean {
  return !(err instanceof AlertError) || err.retriable;
}
