/**
 * Error catalog of @floe/bus (STYLE.md pattern 11): each error carries a stable `FLOE_BUS_…` code.
 */

/** Stable codes of bus errors. */
export const BUS_ERROR_CODES = {
  /** publish/subscribe called before `start()`. */
  NOT_STARTED: 'FLOE_BUS_NOT_STARTED',
  /** publish/subscribe called after `stop()`. */
  STOPPED: 'FLOE_BUS_STOPPED',
  /** A bad argument: empty topic, non-string key, bad option. */
  BAD_ARGUMENT: 'FLOE_BUS_BAD_ARGUMENT',
  /** A second subscription of the same group to the same topic on one in-process bus. */
  DUPLICATE_GROUP: 'FLOE_BUS_DUPLICATE_GROUP',
  /** `createBus` was given an unknown or not-yet-available adapter kind. */
  UNKNOWN_KIND: 'FLOE_BUS_UNKNOWN_KIND',
} as const;

/** A code from BUS_ERROR_CODES. */
export type BusErrorCode = (typeof BUS_ERROR_CODES)[keyof typeof BUS_ERROR_CODES];

/** Error thrown by bus adapters and the factory; `code` is stable and searchable. */
export class BusError extends Error {
  readonly code: BusErrorCode;
  constructor(code: BusErrorCode, message: string) {
    super(message);
    this.name = 'BusError';
    this.code = code;
  }
}
