import { createClickHouseStore } from './clickhouse.js';
import { createDuckDbStore } from './duckdb.js';
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import type { StoreDeps } from './metrics.js';
import { checkDuckDbPath } from './path.js';
import type { Store } from './store.js';

/** Configuration of the DuckDB store (embedded default). */
export interface DuckDbStoreConfig {
  kind: 'duckdb';
  /** Database file, or `:memory:`. */
  path: string;
  /** DuckDB worker threads; 0 or absent: one fewer than the cores, at least 1 (defaultDuckDbThreads). */
  threads?: number;
}

/** Configuration of the ClickHouse store (scale-out; clickhouse.ts). */
export interface ClickHouseStoreConfig {
  kind: 'clickhouse';
  /** HTTP endpoint, e.g. `http://127.0.0.1:8123`. */
  url: string;
  /** Database, created when missing; default `floe`. */
  database?: string;
  /** Days flows are kept (TTL); default 30. */
  retentionDays?: number;
  username?: string;
  password?: string;
  /** Largest number of flows per INSERT; default 50 000. */
  flushRows?: number;
}

/** Any store configuration, chosen by `kind`. */
export type StoreConfig = DuckDbStoreConfig | ClickHouseStoreConfig;

/**
 * Creates the store adapter named by `config.kind` (STYLE.md pattern 5). Inert apart from the
 * DuckDB path check (checkDuckDbPath: creates a missing directory, reads the file's first bytes);
 * call `start()`. `deps` carries the logger (the adapter logs through a child `{ component: 'store', adapter }`)
 * and the prom-client registry of the `floe_store_*` metrics (metrics.ts).
 *
 * @throws StoreError FLOE_STORE_BAD_CONFIG for a duckdb config without a path, or a clickhouse
 *   config with a bad url, database, retentionDays or flushRows; FLOE_STORE_BAD_PATH for a DuckDB
 *   path that cannot be used (see checkDuckDbPath); FLOE_STORE_UNKNOWN_KIND for an unknown kind.
 */
export function createStore(config: StoreConfig, deps: StoreDeps = {}): Store {
  const kind = (config as { kind?: unknown } | undefined)?.kind;
  switch (kind) {
    case 'duckdb': {
      const path = (config as DuckDbStoreConfig).path;
      if (typeof path !== 'string' || path.length === 0) {
        throw new StoreError(STORE_ERROR_CODES.BAD_CONFIG, 'store kind "duckdb" needs a path (a file or ":memory:")');
      }
      checkDuckDbPath(path);
      return createDuckDbStore({ path, threads: (config as DuckDbStoreConfig).threads }, deps);
    }
    case 'clickhouse': {
      const c = config as ClickHouseStoreConfig;
      return createClickHouseStore(
        {
          url: c.url,
          database: c.database ?? 'floe',
          retentionDays: c.retentionDays,
          username: c.username,
          password: c.password,
          flushRows: c.flushRows,
        },
        deps,
      );
    }
    default:
      throw new StoreError(STORE_ERROR_CODES.UNKNOWN_KIND, `unknown store kind ${JSON.stringify(kind)}; expected "duckdb" or "clickhouse"`);
  }
}
