/**
 * Error catalog of @floe/report (STYLE.md pattern 11): each error carries a stable `FLOE_REPORT_…` code.
 */

/** Stable codes of report errors. */
export const REPORT_ERROR_CODES = {
  /** A period that cannot be reported: a time that is not a time, `from` not before `to`, longer than the limit. */
  BAD_RANGE: 'FLOE_REPORT_BAD_RANGE',
  /** An output format other than json, csv, html, pdf. */
  BAD_FORMAT: 'FLOE_REPORT_BAD_FORMAT',
  /** A scope that cannot be used: too many or empty namespace/zone names, a zone the policy does not define. */
  BAD_SCOPE: 'FLOE_REPORT_BAD_SCOPE',
  /** A schedule that cannot run: a bad cron expression or interval, no formats. */
  BAD_SCHEDULE: 'FLOE_REPORT_BAD_SCHEDULE',
  /** No kept report with that id (or not in that format). */
  NOT_FOUND: 'FLOE_REPORT_NOT_FOUND',
} as const;

/** A code from REPORT_ERROR_CODES. */
export type ReportErrorCode = (typeof REPORT_ERROR_CODES)[keyof typeof REPORT_ERROR_CODES];

/** Error thrown by @floe/report; `code` is stable and searchable. */
export class ReportError extends Error {
  readonly code: ReportErrorCode;
  constructor(code: ReportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportError';
    this.code = code;
  }
}
