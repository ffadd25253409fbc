/**
 * Error catalog of @floe/pipeline (STYLE.md pattern 11) and the retriable/non-retriable split
 * the steps use.
 */

/** Stable codes of pipeline errors. */
export const PIPELINE_ERROR_CODES = {
  /** The consumer of floe.flows.v1 stopped for good (Kafka crash without restart, or the bus gave up on a batch). */
  CONSUMER_DIED: 'FLOE_PIPELINE_CONSUMER_DIED',
  /** An output step kept failing with a retriable error: the batch is left uncommitted for redelivery. */
  STEP_FAILED: 'FLOE_PIPELINE_STEP_FAILED',
} as const;

/** A code from PIPELINE_ERROR_CODES. */
export type PipelineErrorCode = (typeof PIPELINE_ERROR_CODES)[keyof typeof PIPELINE_ERROR_CODES];

/** Error raised by the processor; `code` is stable and searchable, `cause` the underlying error. */
export class PipelineError extends Error {
  readonly code: PipelineErrorCode;
  constructor(code: PipelineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PipelineError';
    this.code = code;
  }
}

/**
 * DuckDB error classes that say the data was refused (DuckDB's exception types, as the message
 * prefix `<Type> Error:`), not that the database is unavailable.
 */
const DUCKDB_DATA_ERROR = /^(Conversion|Constraint|Invalid Input|Out of Range|Mismatch Type) Error/;
/** ClickHouse server error names that say the data was refused (ClickHouse ErrorCodes.cpp). */
const CLICKHOUSE_DATA_ERROR = /^(CANNOT_PARSE_\w+|TYPE_MISMATCH|INCORRECT_DATA|VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE|CANNOT_CONVERT_TYPE|ILLEGAL_COLUMN|TOO_LARGE_STRING_SIZE)$/;

/**
 * Whether an error of a store or bus call is worth retrying (the dependency is unavailable, slow,
 * restarting) rather than a refusal of the data itself. Data refusals: DuckDB Conversion /
 * Constraint / Invalid Input / Out of Range errors, ClickHouse parse and type errors. Everything
 * else (connection refused, timeouts, Kafka errors, FLOE_STORE_NOT_STARTED, unknown) counts as
 * retriable: an outage must never turn records into dead letters.
 */
export function isRetriable(err: unknown): boolean {
  const e = err as { message?: unknown; type?: unknown } | undefined;
  if (typeof e?.message === 'string' && DUCKDB_DATA_ERROR.test(e.message)) return false;
  if (typeof e?.type === 'string' && CLICKHOUSE_DATA_ERROR.test(e.type)) return false;
  return true;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
