import { STORE_ERROR_CODES, StoreError } from './errors.js';

/**
 * Pieces shared by the DuckDB and ClickHouse migration runners (migrations.ts,
 * clickhouse-migrations.ts). Internal to @floe/store.
 */

/** What both runners need of a schema step. */
export interface SchemaStep {
  version: number;
  name: string;
}

/** The steps of `steps` above version `current`, oldest first (`steps` is not changed). */
export function stepsAfter<S extends SchemaStep>(steps: readonly S[], current: number): S[] {
  return [...steps].sort((a, b) => a.version - b.version).filter((s) => s.version > current);
}

/** The FLOE_STORE_MIGRATION_FAILED error of `step` failing with `err` (kept as its cause). */
export function migrationFailed(step: SchemaStep, err: unknown): StoreError {
  return new StoreError(STORE_ERROR_CODES.MIGRATION_FAILED, `store migration ${step.version} (${step.name}) failed: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
  });
}
