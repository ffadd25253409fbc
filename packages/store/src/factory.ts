import { createDuckDbStore } from './duckdb.js';
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import type { Store } from './store.js';

/** Configuration of the DuckDB store (embedded default). */
export interface DuckDbStoreConfig {
  kind: 'duckdb';
  /** Database file, or `:memory:`. */
  path: string;
}

/** Configuration of the ClickHouse store (scale-out; the adapter lands in a later issue). */
export interface ClickHouseStoreConfig {
  kind: 'clickhouse';
  /** HTTP endpoint, e.g. `http://127.0.0.1:8123`. */
  url: string;
  database?: string;
  username?: string;
  password?: string;
}

/** Any store configuration, chosen by `kind`. */
export type StoreConfig = DuckDbStoreConfig | ClickHouseStoreConfig;

/**
 * Creates the store adapter named by `config.kind` (STYLE.md pattern 5). Inert; call `start()`.
 *
 * @throws StoreError FLOE_STORE_BAD_CONFIG for a duckdb config without a path;
 *   FLOE_STORE_UNKNOWN_KIND for an unknown kind, and for `clickhouse`, which
 *   is not available yet.
 */
export function createStore(config: StoreConfig): Store {
  const kind = (config as { kind?: unknown } | undefined)?.kind;
  switch (kind) {
    case 'duckdb': {
      const path = (config as DuckDbStoreConfig).path;
      if (typeof path !== 'string' || path.length === 0) {
        throw new StoreError(STORE_ERROR_CODES.BAD_CONFIG, 'store kind "duckdb" needs a path (a file or ":memory:")');
      }
      return createDuckDbStore({ path });
    }
    case 'clickhouse':
      throw new StoreError(STORE_ERROR_CODES.UNKNOWN_KIND, 'store kind "clickhouse" is not available yet (the ClickHouse adapter comes in a later release); use kind "duckdb"');
    default:
      throw new StoreError(STORE_ERROR_CODES.UNKNOWN_KIND, `unknown store kind ${JSON.stringify(kind)}; expected "duckdb" or "clickhouse"`);
  }
}
