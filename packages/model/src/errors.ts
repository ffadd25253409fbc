/**
 * Error catalog of @floe/model. Every error carries a stable `FLOE_MODEL_…` code; the codes are
 * listed in this package's README ("Errors").
 */

/** Stable error codes thrown by @floe/model, with a one-line description each. */
export const MODEL_ERROR_CODES = {
  FLOE_MODEL_BAD_OPTIONS: 'feature or training options are out of range (window, limits, fpr, epochs)',
  FLOE_MODEL_TOO_FEW_WINDOWS: 'too few training windows to fit and calibrate a model',
  FLOE_MODEL_NOT_FOUND: 'the model directory lacks model.json, its weights or floe-model.json',
  FLOE_MODEL_BAD_FORMAT: 'a model file is not what floe wrote (unparseable, missing fields, wrong sizes)',
  FLOE_MODEL_FEATURE_MISMATCH: "the model's feature names differ from this floe's FEATURE_NAMES",
  FLOE_MODEL_VERSION_MISMATCH: 'the weights or scaling do not hash to the version floe-model.json names (edited or mixed files)',
  FLOE_MODEL_BACKEND: 'no TensorFlow.js backend could be initialised',
} as const;

/** One of the codes in {@link MODEL_ERROR_CODES}. */
export type ModelErrorCode = keyof typeof MODEL_ERROR_CODES;

/** Thrown by @floe/model; `detail` names the option or file concerned. */
export class ModelError extends Error {
  readonly code: ModelErrorCode;
  /** Option path or file path the error is about. */
  readonly detail: string;
  constructor(code: ModelErrorCode, detail: string, message: string, options?: { cause?: unknown }) {
    super(`${detail}: ${message}`, options);
    this.name = 'ModelError';
    this.code = code;
    this.detail = detail;
  }
}
