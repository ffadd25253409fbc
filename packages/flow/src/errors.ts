/**
 * Error catalog of @floe/flow. Each error has a stable code (documented in the package README);
 * callers match on `code`, never on the message.
 */

/** Stable codes of @floe/flow errors. */
export const FLOW_ERROR_CODES = {
  /** `format: 'auto'` found nothing it recognises in the first lines of the input. */
  FLOE_FLOW_UNKNOWN_FORMAT: 'no known flow format recognised in the first lines',
  /** A format name that floe does not know was asked for. */
  FLOE_FLOW_BAD_FORMAT_NAME: 'unknown format name',
} as const;

/** One of the codes in FLOW_ERROR_CODES. */
export type FlowErrorCode = keyof typeof FLOW_ERROR_CODES;

import type { ForeignFormat } from './parse/foreign.js';

/** Input cannot be parsed as a whole (as opposed to one bad line, which is a ParseError). */
export class FlowFormatError extends Error {
  override readonly name = 'FlowFormatError';
  /** Stable code, e.g. FLOE_FLOW_UNKNOWN_FORMAT. */
  readonly code: FlowErrorCode;
  /** The file concerned, when known. */
  readonly file?: string;
  /** FLOE_FLOW_UNKNOWN_FORMAT: the format floe does not read that the input looks like, when it looks like one. */
  readonly foreign?: ForeignFormat;

  constructor(code: FlowErrorCode, detail?: string, file?: string, foreign?: ForeignFormat) {
    super(
      `${code}: ${FLOW_ERROR_CODES[code]}${file ? ` (${file})` : ''}${detail ? `: ${detail}` : ''}${foreign ? `; it looks like ${foreign.name}, which floe does not read` : ''}`,
    );
    this.code = code;
    if (file !== undefined) this.file = file;
    if (foreign !== undefined) this.foreign = foreign;
  }
}
