import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBAppender, DuckDBConnection, DuckDBInstance, listValue, type DuckDBValue } from '@duckdb/node-api';
import type { Decision, DecisionAudit, Finding, FlowRecord } from '@floe/flow';
import { noopLogger } from '@floe/telemetry/lite';
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import { flowDedupKey } from './dedup.js';
import { instrumentStore } from './instrument.js';
import { createStoreMetrics, type StoreDeps } from './metrics.js';
import { migrate } from './migrations.js';
import {
  AUDIT_LIMIT, pageLimit, queryDecisionPage, queryFindingPage, type Filter, type KeysetFetch,
} from './paging.js';
import { opQueue } from './queue.js';
import {
  AUDIT_COLUMNS, DECISION_COLUMNS, FINDING_COLUMNS, auditRow, decisionRow, findingRow, mergeFinding, rowToAudit,
  rowToDecision, rowToFinding, toNumber, type Row,
} from './rows.js';
import type { DecisionQuery, FindingQuery, Page, Store } from './store.js';

/** Options of the DuckDB store. */
export interface DuckDbStoreOptions {
  /** Database file (its folder is created when missing), or `:memory:`. */
  path: string;
}

export { AUDIT_LIMIT, PAGE_LIMIT } from './paging.js';
export { flowDedupKey } from './dedup.js';

type Appendable = string | number | boolean | undefined;

/** Flow columns in table order (migration 1) after `dedup_key`, each with its FlowRecord value. */
const FLOW_COLUMNS: ReadonlyArray<readonly ['int' | 'str' | 'bool', (f: FlowRecord) => Appendable]> = [
  ['int', (f) => f.schema],
  ['int', (f) => f.observedAt],
  ['int', (f) => f.start],
  ['int', (f) => f.end],
  ['str', (f) => f.node],
  ['str', (f) => f.source],
  ['str', (f) => f.event],
  ['int', (f) => f.family],
  ['int', (f) => f.protocol],
  ['str', (f) => f.srcAddr],
  ['str', (f) => f.dstAddr],
  ['int', (f) => f.srcPort],
  ['int', (f) => f.dstPort],
  ['int', (f) => f.icmpType],
  ['int', (f) => f.icmpCode],
  ['str', (f) => f.replySrcAddr],
  ['str', (f) => f.replyDstAddr],
  ['int', (f) => f.replySrcPort],
  ['int', (f) => f.replyDstPort],
  ['int', (f) => f.bytesOrig],
  ['int', (f) => f.packetsOrig],
  ['int', (f) => f.bytesReply],
  ['int', (f) => f.packetsReply],
  ['str', (f) => f.state],
  ['bool', (f) => f.assured],
  ['bool', (f) => f.unreplied],
  ['int', (f) => f.zone],
  ['int', (f) => f.mark],
  ['str', (f) => f.ctId],
  ['str', (f) => f.logPrefix],
  ['str', (f) => f.verdict],
  ['str', (f) => f.inIface],
  ['str', (f) => f.outIface],
  ['str', (f) => f.direction],
  ['str', (f) => (f.srcMeta === undefined ? undefined : JSON.stringify(f.srcMeta))],
  ['str', (f) => (f.dstMeta === undefined ? undefined : JSON.stringify(f.dstMeta))],
];

/**
 * Keys of the batch (parameter 3, a VARCHAR list) already in `flows`. `observed_at` is part of
 * the key (flowDedupKey), so a stored duplicate lies within the batch's [min, max] `observed_at`
 * (parameters 1 and 2): zone maps skip the rest of the table.
 */
const STORED_KEYS_SQL = `SELECT dedup_key FROM flows
  WHERE observed_at BETWEEN $1 AND $2 AND dedup_key IN (SELECT unnest($3::VARCHAR[]))`;

/** Upsert of one finding: first_seen takes the minimum; the row with the later last_seen supplies everything else. */
/** Rows per multi-row finding upsert: one statement per chunk instead of one per finding. */
const FINDING_CHUNK = 100;
const FINDING_ROW = `(${FINDING_COLUMNS.map(() => '?').join(', ')})`;
const upsertFindingsSql = (rows: number): string =>
  `INSERT INTO findings (${FINDING_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => FINDING_ROW).join(', ')}
   ON CONFLICT (id) DO UPDATE SET first_seen = least(findings.first_seen, excluded.first_seen), ` +
  FINDING_COLUMNS.filter((c) => c !== 'id' && c !== 'first_seen')
    .map((c) => `${c} = CASE WHEN excluded.last_seen >= findings.last_seen THEN excluded.${c} ELSE findings.${c} END`)
    .join(', ');
const UPSERT_FINDING_SQL = upsertFindingsSql(1);

const UPSERT_DECISION_SQL = `INSERT OR REPLACE INTO decisions (${DECISION_COLUMNS.join(', ')}) VALUES (${DECISION_COLUMNS.map(() => '?').join(', ')})`;
const INSERT_AUDIT_SQL = `INSERT INTO decision_audit (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`;

function findingValues(f: Finding): DuckDBValue[] {
  const r = findingRow(f);
  return FINDING_COLUMNS.map((c) => r[c]);
}

function decisionValues(d: Decision): DuckDBValue[] {
  const r = decisionRow(d);
  return DECISION_COLUMNS.map((c) => r[c]);
}

function auditValues(a: DecisionAudit): DuckDBValue[] {
  const r = auditRow(a);
  return AUDIT_COLUMNS.map((c) => r[c]);
}

/** Filter clauses (constant SQL text) and their parameters. */
class Where {
  readonly clauses: string[] = [];
  readonly params: DuckDBValue[] = [];
  add(sql: string, ...params: DuckDBValue[]): void {
    this.clauses.push(sql);
    this.params.push(...params);
  }
  /** Adds each filter as `column op ?`. */
  static of(filters: Filter[]): Where {
    const w = new Where();
    for (const f of filters) w.add(`${f.column} ${f.op} ?`, f.value);
    return w;
  }
  sql(extra?: string): string {
    const all = extra ? [...this.clauses, extra] : this.clauses;
    return all.length ? `WHERE ${all.join(' AND ')}` : '';
  }
}

/**
 * Creates the DuckDB store (`@duckdb/node-api`), the embedded default. Inert until `start()`,
 * which opens the file (or `:memory:`) and applies migrations (migrations.ts).
 *
 * Writes: `insertFlows` drops repeats inside the batch, asks which of the remaining keys
 * (flowDedupKey) `flows` already holds within the batch's `observed_at` range, and appends the
 * others straight into `flows` with a DuckDB appender, in one transaction (rolled back whole on
 * error). `flows` has no index on the key since migration 2; operations on one store run one at
 * a time and DuckDB locks the file to one process, so no other writer races the check. Findings upsert by id (first_seen = min, the later last_seen wins the rest);
 * decisions by target, with their audit row in the same transaction. All statements take
 * parameters; no user value is ever part of SQL text.
 *
 * Reads page newest first — findings by (lastSeen, id), decisions by (updatedAt, target), both
 * descending — with an opaque base64url keyset cursor; `total` counts every match of the
 * filters. Operations on one store run one at a time (one connection).
 *
 * Logs through a child of `deps.logger` (`{ component: 'store', adapter: 'duckdb' }`); every call
 * is measured in the `floe_store_*` metrics on `deps.metrics` (instrument.ts).
 *
 * @throws StoreError FLOE_STORE_NOT_STARTED before start/after stop, FLOE_STORE_BAD_CURSOR,
 *   FLOE_STORE_BAD_QUERY (limit, severity, times), FLOE_STORE_MIGRATION_FAILED from start, FLOE_STORE_BAD_PATH from start when DuckDB cannot open the file.
 */
export function createDuckDbStore(opts: DuckDbStoreOptions, deps: StoreDeps = {}): Store {
  const log = (deps.logger ?? noopLogger).child({ component: 'store', adapter: 'duckdb' });
  let instance: DuckDBInstance | undefined;
  let conn: DuckDBConnection | undefined;
  let starting: Promise<void> | undefined;
  /** One connection, one operation at a time. */
  const queue = opQueue<DuckDBConnection>('duckdb', () => conn);
  const serial = queue.run;

  async function tx<T>(c: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
    await c.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await c.run('COMMIT');
      return out;
    } catch (err) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async function rows(c: DuckDBConnection, sql: string, params: DuckDBValue[]): Promise<Row[]> {
    const r = await c.runAndReadAll(sql, params);
    return r.getRowObjectsJS() as Row[];
  }

  /**
   * The KeysetFetch of this adapter (paging.ts), run in the operation queue: the count of `table`
   * rows matching `filters`, and up to `limit + 1` of them after `cursor`, by (`sort`, `key`) descending.
   */
  const fetchPage: KeysetFetch = ({ table, sort, key }, filters, cursor, limit) =>
    serial(async (c) => {
      const w = Where.of(filters);
      const total = toNumber((await rows(c, `SELECT count(*) AS n FROM ${table} ${w.sql()}`, w.params))[0].n);
      const after = cursor ? `(${sort} < ? OR (${sort} = ? AND ${key} < ?))` : undefined;
      const params = cursor ? [...w.params, cursor.s, cursor.s, cursor.k] : [...w.params];
      const got = await rows(c, `SELECT * FROM ${table} ${w.sql(after)} ORDER BY ${sort} DESC, ${key} DESC LIMIT ?`, [...params, limit + 1]);
      return { total, rows: got };
    });

  function appendFlow(a: DuckDBAppender, key: string, f: FlowRecord): void {
    a.appendVarchar(key);
    for (const [kind, get] of FLOW_COLUMNS) {
      const v = get(f);
      if (v === undefined || v === null) a.appendNull();
      else if (kind === 'str') a.appendVarchar(v as string);
      else if (kind === 'bool') a.appendBoolean(v as boolean);
      else a.appendBigInt(BigInt(v as number));
    }
    a.endRow();
  }

  const store: Store = {
    name: 'duckdb',

    start(): Promise<void> {
      starting ??= (async () => {
        if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
        try {
          instance = await DuckDBInstance.create(opts.path);
        } catch (e) {
          // locked by another process, a newer storage version, a file that changed since the check
          throw new StoreError(STORE_ERROR_CODES.BAD_PATH, `store path ${opts.path}: DuckDB cannot open it: ${(e as Error).message}`, { cause: e });
        }
        const c = await instance.connect();
        await migrate(c);
        conn = c;
        log.info({ path: opts.path }, 'duckdb store opened');
      })();
      return starting;
    },

    async stop(): Promise<void> {
      if (starting) await starting.catch(() => undefined);
      await queue.idle();
      conn?.closeSync();
      instance?.closeSync();
      conn = undefined;
      instance = undefined;
    },

    insertFlows(flows: FlowRecord[]): Promise<void> {
      return serial(async (c) => {
        if (flows.length === 0) return;
        const batch = new Map<string, FlowRecord>();
        let lo = Infinity;
        let hi = -Infinity;
        for (const f of flows) {
          const key = flowDedupKey(f);
          if (batch.has(key)) continue;
          batch.set(key, f);
          if (f.observedAt < lo) lo = f.observedAt;
          if (f.observedAt > hi) hi = f.observedAt;
        }
        await tx(c, async () => {
          const stored = await c.runAndReadAll(STORED_KEYS_SQL, [BigInt(lo), BigInt(hi), listValue([...batch.keys()])]);
          for (const [key] of stored.getRowsJS()) batch.delete(key as string);
          if (batch.size === 0) return;
          const a = await c.createAppender('flows');
          let appended = false;
          try {
            for (const [key, f] of batch) appendFlow(a, key, f);
            a.flushSync();
            appended = true;
          } finally {
            // After a failed flush, close fails too ("transaction is aborted"): keep the first error.
            try {
              a.closeSync();
            } catch (err) {
              if (appended) throw err;
            }
          }
        });
      });
    },

    insertFindings(findings: Finding[]): Promise<void> {
      return serial(async (c) => {
        if (findings.length === 0) return;
        // Merge repeats of one id inside the batch first: one statement may not update a row twice.
        const byId = new Map<string, Finding>();
        for (const f of findings) byId.set(f.id, mergeFinding(byId.get(f.id), f));
        const all = [...byId.values()];
        await tx(c, async () => {
          for (let i = 0; i < all.length; i += FINDING_CHUNK) {
            const chunk = all.slice(i, i + FINDING_CHUNK);
            const stmt = await c.prepare(chunk.length === 1 ? UPSERT_FINDING_SQL : upsertFindingsSql(chunk.length));
            try {
              stmt.bind(chunk.flatMap(findingValues));
              await stmt.run();
            } finally {
              stmt.destroySync();
            }
          }
        });
      });
    },

    upsertDecision(decision: Decision, audit: DecisionAudit): Promise<void> {
      return serial((c) =>
        tx(c, async () => {
          await c.run(UPSERT_DECISION_SQL, decisionValues(decision));
          await c.run(INSERT_AUDIT_SQL, auditValues(audit));
        }),
      );
    },

    deleteDecision(target: string, audit: DecisionAudit): Promise<boolean> {
      return serial((c) =>
        tx(c, async () => {
          const gone = await rows(c, 'DELETE FROM decisions WHERE target = ? RETURNING target', [target]);
          if (gone.length === 0) return false;
          await c.run(INSERT_AUDIT_SQL, auditValues(audit));
          return true;
        }),
      );
    },

    appendAudit(audit: DecisionAudit): Promise<void> {
      return serial(async (c) => {
        await c.run(INSERT_AUDIT_SQL, auditValues(audit));
      });
    },

    queryFindings(q: FindingQuery): Promise<Page<Finding>> {
      return queryFindingPage(q, fetchPage);
    },

    queryDecisions(q: DecisionQuery): Promise<Page<Decision>> {
      return queryDecisionPage(q, fetchPage);
    },

    getDecision(target: string): Promise<Decision | undefined> {
      return serial(async (c) => {
        const got = await rows(c, 'SELECT * FROM decisions WHERE target = ?', [target]);
        return got.length ? rowToDecision(got[0]) : undefined;
      });
    },

    async queryAudit(q: { target?: string; limit?: number }): Promise<DecisionAudit[]> {
      const limit = pageLimit(q.limit, AUDIT_LIMIT.max, AUDIT_LIMIT.default);
      const w = new Where();
      if (q.target !== undefined) w.add('target = ?', q.target);
      return serial(async (c) => {
        const got = await rows(c, `SELECT * FROM decision_audit ${w.sql()} ORDER BY seq DESC LIMIT ?`, [...w.params, limit]);
        return got.map(rowToAudit);
      });
    },

    countFlows(): Promise<{ flows: number; bytes: number }> {
      return serial(async (c) => {
        const r = (await rows(c, 'SELECT count(*) AS n, coalesce(sum(coalesce(bytes_orig, 0) + coalesce(bytes_reply, 0)), 0) AS b FROM flows', []))[0];
        return { flows: toNumber(r.n), bytes: toNumber(r.b) };
      });
    },
  };
  return instrumentStore(store, createStoreMetrics(deps.metrics));
}
