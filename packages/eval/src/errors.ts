/**
 * Error catalog of @floe/eval. Each error has a stable code (documented in the package README);
 * callers match on `code`, never on the message. One bad ROW is never an error: it is a counted
 * ParseError (file, line, field, reason).
 */

/** Stable codes of @floe/eval errors. */
export const EVAL_ERROR_CODES = {
  /** An importer was asked for a format it does not know. */
  FLOE_EVAL_BAD_FORMAT_NAME: 'unknown labelled data set format',
  /** The header line lacks a column the format needs (or the file has no header line). */
  FLOE_EVAL_BAD_HEADER: 'the header does not have the columns of this format',
  /** An option of the evaluation is out of range (split, window). */
  FLOE_EVAL_BAD_OPTIONS: 'bad evaluation option',
} as const;

/** One of the codes in EVAL_ERROR_CODES. */
export type EvalErrorCode = keyof typeof EVAL_ERROR_CODES;

/** A whole input or an option cannot be used. */
export class FloeEvalError extends Error {
  override readonly name = 'FloeEvalError';
  readonly code: EvalErrorCode;
  /** The file concerned, when known. */
  readonly file?: string;
  /** The detail given, without code and file. */
  readonly detail?: string;
  constructor(code: EvalErrorCode, detail?: string, file?: string) {
    super(`${code}: ${EVAL_ERROR_CODES[code]}${file ? ` (${file})` : ''}${detail ? `: ${detail}` : ''}`);
    this.code = code;
    if (file !== undefined) this.file = file;
    if (detail !== undefined) this.detail = detail;
  }
}
