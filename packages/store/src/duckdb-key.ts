/**
 * The DuckDB adapter's flow dedup key: DuckDB's own 64-bit `hash()` of the same identity and
 * observed values `flowDedupKey` reads (DEDUP_KEY_FIELDS, dedup.ts), stored as UBIGINT in
 * `flows.dedup_key` (migration 7). The ClickHouse adapter keeps flowDedupKey's SHA-256 text.
 *
 * Why not the SHA-256 text in SQL as before: building the 30-field text and storing 32 random hex
 * characters per row cost about 4-5 µs of DuckDB CPU per flow, half of a flow's whole insert
 * (bench/pipeline.bench.ts), against about 0.2 µs for `hash()` of the typed columns.
 *
 * A 64-bit key is not unique, so it only names candidates: insertFlows deletes a row only when
 * every key field equals an earlier row's (PARTITION BY all of them, {@link KEY_PARTITION_SQL}),
 * never for a hash collision alone. `hash()` is DuckDB's (not a stable, documented function), so
 * the store keeps {@link KEY_PROBE_SQL}'s value from when its keys were made and recomputes every
 * key when a DuckDB upgrade changed it (duckdb.ts, start).
 *
 * Migration 7's statements are built from these expressions: changing one needs a new migration
 * step (and a new probe), never an edit here.
 *
 * Identity as flowDedupKey's: absent booleans equal false. Unlike it, an absent text field and an
 * empty one differ (a replay carries the same record, so both forms never meet for one flow).
 */
import { DEDUP_KEY_FIELDS } from './dedup.js';
import { FLOW_COLUMN_FIELDS } from './rows.js';

const COLUMN_OF = new Map<string, string>(FLOW_COLUMN_FIELDS.map(([column, field]) => [field, column]));
const BOOLEAN_FIELDS: ReadonlySet<string> = new Set(FLOW_COLUMN_FIELDS.filter(([, , kind]) => kind === 'b').map(([, field]) => field));

/** The key fields as SQL expressions over `name(field)`: booleans as coalesce(x, false). */
function keyExprs(name: (field: string) => string): string[] {
  return DEDUP_KEY_FIELDS.map((f) => (BOOLEAN_FIELDS.has(f) ? `coalesce(${name(f)}, false)` : name(f)));
}

const columnOf = (field: string): string => {
  const c = COLUMN_OF.get(field);
  if (c === undefined) throw new Error(`no flows column for key field ${field}`); // a programming error in the two lists
  return c;
};

/** The key over columns named like the FlowRecord fields (the rows `json_transform` makes of a batch). */
export const KEY_OF_FIELDS_SQL = `hash(${keyExprs((f) => `"${f}"`).join(', ')})`;

/** The key over the `flows` table's own columns (migration 7, the recompute after a DuckDB upgrade, tests). */
export const KEY_OF_COLUMNS_SQL = `hash(${keyExprs(columnOf).join(', ')})`;

/** Every key field over the `flows` columns, comma-separated: rows equal in all of them are the same flow. */
export const KEY_PARTITION_SQL = keyExprs(columnOf).join(', ');

/**
 * `hash()` of fixed values of each type the key columns have: equal to the stored probe while
 * DuckDB's hash function is the one the stored keys were made with.
 */
export const KEY_PROBE_SQL = `hash('floe-key-probe'::VARCHAR, 4::UTINYINT, 6::USMALLINT, 443::INTEGER, 8::SMALLINT, 1700000000000::BIGINT, true, 4294967295::UBIGINT, NULL::VARCHAR)`;
