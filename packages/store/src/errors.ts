/**
 * Error catalog of @floe/store (STYLE.md pattern 11): each error carries a stable `FLOE_STORE_…` code.
 */

/** Stable codes of store errors. */
export const STORE_ERROR_CODES = {
  /** A query or write before `start()` or after `stop()`. */
  NOT_STARTED: 'FLOE_STORE_NOT_STARTED',
  /** A paging cursor that this store did not produce (or produced for another query kind). */
  BAD_CURSOR: 'FLOE_STORE_BAD_CURSOR',
  /** A query option out of range: limit outside 1..1000, unknown severity, non-finite time. */
  BAD_QUERY: 'FLOE_STORE_BAD_QUERY',
  /** A schema migration failed; the database is left at the last applied version. */
  MIGRATION_FAILED: 'FLOE_STORE_MIGRATION_FAILED',
  /** A DuckDB path that cannot be used: directory not creatable or writable, a directory, not a DuckDB file, locked by another process. */
  BAD_PATH: 'FLOE_STORE_BAD_PATH',
  /** A store configuration that cannot work (missing path, ...). */
  BAD_CONFIG: 'FLOE_STORE_BAD_CONFIG',
  /** `createStore` was given an unknown or not-yet-available adapter kind. */
  UNKNOWN_KIND: 'FLOE_STORE_UNKNOWN_KIND',
} as const;

/** A code from STORE_ERROR_CODES. */
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[keyof typeof STORE_ERROR_CODES];

/** Error thrown by store adapters and the factory; `code` is stable and searchable. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
