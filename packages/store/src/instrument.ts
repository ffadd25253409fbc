import { STORE_ERROR_CODES } from './errors.js';
import type { StoreMetrics } from './metrics.js';
import type { Store } from './store.js';

/** Rows a successful write call wrote, per table; the first table labels its duration. */
type RowsOf = (args: unknown[], result: unknown) => Array<readonly [table: string, rows: number]>;

/** Codes of a caller's mistake (a bad cursor or query option from an API client), not a store failure: not counted. */
const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set([STORE_ERROR_CODES.BAD_CURSOR, STORE_ERROR_CODES.BAD_QUERY]);

const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/** The write operations of the Store port and the tables they write. */
const WRITES: ReadonlyMap<string, RowsOf> = new Map<string, RowsOf>([
  ['insertFlows', (a) => [['flows', len(a[0])]]],
  ['insertFindings', (a) => [['findings', len(a[0])]]],
  [
    'upsertDecision',
    () => [
      ['decisions', 1],
      ['decision_audit', 1],
    ],
  ],
  [
    'deleteDecision',
    (_a, removed) =>
      removed === true
        ? [
            ['decisions', 1],
            ['decision_audit', 1],
          ]
        : [['decisions', 0]],
  ],
  ['appendAudit', () => [['decision_audit', 1]]],
  [
    'writeDecisions',
    (a) => {
      const items = Array.isArray(a[0]) ? (a[0] as Array<{ decision?: unknown }>) : [];
      return [
        ['decisions', items.filter((it) => it.decision !== undefined).length],
        ['decision_audit', items.length],
      ];
    },
  ],
  ['insertGaps', (a) => [['data_gaps', len(a[0])]]],
  ['triageFinding', (_a, ok) => [['finding_triage', ok === true ? 1 : 0]]],
  ['markSuppressed', (a) => [['finding_suppressions', len(a[0])]]],
  ['putSuppression', () => [['suppressions', 1]]],
  ['deleteSuppression', (_a, ok) => [['suppressions', ok === true ? 1 : 0]]],
  ['putNeverBlock', () => [['never_block', 1]]],
  ['deleteNeverBlock', (_a, ok) => [['never_block', ok === true ? 1 : 0]]],
  ['insertApiToken', () => [['api_tokens', 1]]],
  ['revokeApiToken', (_a, done) => [['api_tokens', done === true ? 1 : 0]]],
  ['appendApiAudit', () => [['api_audit', 1]]],
]);

/**
 * Wraps a store so that every call is measured, without touching the adapter's code paths:
 * writes (table `WRITES`) add their rows to `floe_store_rows_written_total{table}` and their
 * duration to `floe_store_write_seconds{table}`; any method that throws or rejects counts
 * `floe_store_errors_total{op}` (its name) and the error propagates unchanged; a caller's mistake
 * (FLOE_STORE_BAD_CURSOR, FLOE_STORE_BAD_QUERY: a client's bad cursor or limit) is not a store
 * error and is not counted. Methods added to
 * the port later are counted on failure too. Other properties (`name`) pass through.
 */
export function instrumentStore<S extends Store>(store: S, m: StoreMetrics): S {
  const wrapped = new Map<PropertyKey, unknown>();
  const wrap = (op: string, fn: (...args: unknown[]) => unknown) => {
    const rowsOf = WRITES.get(op);
    return (...args: unknown[]): unknown => {
      const t0 = process.hrtime.bigint();
      const failed = (err: unknown): never => {
        if (!CLIENT_ERROR_CODES.has((err as { code?: unknown } | null)?.code as string)) m.errors.inc({ op });
        throw err;
      };
      let out: unknown;
      try {
        out = fn.apply(store, args);
      } catch (err) {
        return failed(err);
      }
      if (!(out instanceof Promise)) return out;
      return out.then((result: unknown) => {
        if (rowsOf) {
          const tables = rowsOf(args, result);
          for (const [table, rows] of tables) if (rows > 0) m.rowsWritten.inc({ table }, rows);
          m.writeSeconds.observe({ table: tables[0][0] }, Number(process.hrtime.bigint() - t0) / 1e9);
        }
        return result;
      }, failed);
    };
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      let w = wrapped.get(prop);
      if (!w) {
        w = wrap(prop, v as (...args: unknown[]) => unknown);
        wrapped.set(prop, w);
      }
      return w;
    },
  });
}
