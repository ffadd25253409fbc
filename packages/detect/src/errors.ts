/**
 * Error catalog of @floe/detect. Every error carries a stable `FLOE_DETECT_…` code; the codes are
 * listed in this package's README ("Errors").
 */

/** Stable error codes thrown by @floe/detect, with a one-line description each. */
export const DETECT_ERROR_CODES = {
  FLOE_DETECT_BAD_OPTIONS: 'detector options are out of range (window, threshold, severity, limits)',
} as const;

/** One of the codes in {@link DETECT_ERROR_CODES}. */
export type DetectErrorCode = keyof typeof DETECT_ERROR_CODES;

/** Thrown by the detector factories when options are invalid; `field` names the offending option path. */
export class DetectError extends Error {
  readonly code: DetectErrorCode;
  /** Option path, for example `portscan.minPorts`. */
  readonly field: string;
  constructor(code: DetectErrorCode, field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'DetectError';
    this.code = code;
    this.field = field;
  }
}
