import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { availableParallelism } from 'node:os';
import { DuckDBConnection, DuckDBInstance, type DuckDBPreparedStatement, type DuckDBValue } from '@duckdb/node-api';
import type { DataGap, Decision, DecisionAudit, Finding, FlowRecord } from '@floe/flow';
import { noopLogger, type Logger } from '@floe/telemetry/lite';
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import { KEY_OF_COLUMNS_SQL, KEY_OF_FIELDS_SQL, KEY_PARTITION_SQL, KEY_PROBE_SQL } from './duckdb-key.js';
import { instrumentStore } from './instrument.js';
import { createStoreMetrics, type StoreDeps } from './metrics.js';
import { clipWindow, GAP_COLUMNS, gapFilters, gapRow, queryGapPage, summaryOf } from './gaps.js';
import { migrate } from './migrations.js';
import { AUDIT_LIMIT, pageLimit, queryDecisionPage, queryFindingPage, readFlowPage, filterSql, type Filter, type KeysetFetch } from './paging.js';
import { opQueue } from './queue.js';
import { assembleReportAggregates, checkReportQuery, REPORT_BUCKET_MS, type ReportAggregates, type ReportQuery } from './report.js';
import {
  AUDIT_COLUMNS,
  DEAD_LETTER_COLUMNS,
  DECISION_COLUMNS,
  FINDING_COLUMNS,
  auditRow,
  deadLetterRow,
  decisionRow,
  findingRow,
  mergeFinding,
  rowToAudit,
  rowToDeadLetter,
  rowToDecision,
  toNumber,
  type Row,
} from './rows.js';
import type { DeadLetterRow, DecisionQuery, DecisionWrite, FindingQuery, GapQuery, GapSummary, GapSummaryQuery, Page, Store, StoredFinding } from './store.js';
import {
  attachTriage,
  CURRENT_TRIAGE_SELECT,
  MARK_COLUMNS,
  markRow,
  NEVER_BLOCK_COLUMNS,
  neverBlockRow,
  rowToNeverBlock,
  rowToSuppression,
  rowToTriage,
  SUPPRESSION_COLUMNS,
  suppressionRow,
  TRIAGE_COLUMNS,
  triageRow,
} from './triage.js';
import {
  API_AUDIT_COLUMNS,
  API_TOKEN_COLUMNS,
  apiAuditRow,
  apiTokenRow,
  checkApiToken,
  queryApiAuditPage,
  rowToApiToken,
  type ApiAuditEntry,
  type ApiAuditQuery,
  type ApiTokenRecord,
} from './access.js';

/** Options of the DuckDB store. */
export interface DuckDbStoreOptions {
  /** Database file (its folder is created when missing), or `:memory:`. */
  path: string;
  /**
   * DuckDB worker threads; absent or 0: `defaultDuckDbThreads()` (one fewer than the cores, at
   * least 1). The embedded store shares its process with the event loop that parses, classifies
   * and detects; with as many DuckDB threads as cores, the two compete for the same cores and the
   * flow inserts cost about a quarter more CPU for no more throughput (bench/README.md).
   */
  threads?: number;
}

/** One fewer DuckDB thread than the machine has cores (os.availableParallelism), at least 1. */
export function defaultDuckDbThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export { AUDIT_LIMIT, PAGE_LIMIT } from './paging.js';
export { flowDedupKey } from './dedup.js';

/**
 * FlowRecord fields in `flows` column order (migration 1) after `dedup_key`, each with the
 * column's DuckDB type: the structure `json_transform` reads a batch with.
 */
const FLOW_FIELDS: ReadonlyArray<readonly [keyof FlowRecord, string]> = [
  ['schema', 'UTINYINT'],
  ['observedAt', 'BIGINT'],
  ['start', 'BIGINT'],
  ['end', 'BIGINT'],
  ['node', 'VARCHAR'],
  ['source', 'VARCHAR'],
  ['event', 'VARCHAR'],
  ['family', 'UTINYINT'],
  ['protocol', 'USMALLINT'],
  ['srcAddr', 'VARCHAR'],
  ['dstAddr', 'VARCHAR'],
  ['srcPort', 'INTEGER'],
  ['dstPort', 'INTEGER'],
  ['icmpType', 'SMALLINT'],
  ['icmpCode', 'SMALLINT'],
  ['replySrcAddr', 'VARCHAR'],
  ['replyDstAddr', 'VARCHAR'],
  ['replySrcPort', 'INTEGER'],
  ['replyDstPort', 'INTEGER'],
  ['bytesOrig', 'UBIGINT'],
  ['packetsOrig', 'UBIGINT'],
  ['bytesReply', 'UBIGINT'],
  ['packetsReply', 'UBIGINT'],
  ['state', 'VARCHAR'],
  ['assured', 'BOOLEAN'],
  ['unreplied', 'BOOLEAN'],
  ['zone', 'INTEGER'],
  ['mark', 'UBIGINT'],
  ['ctId', 'VARCHAR'],
  ['logPrefix', 'VARCHAR'],
  ['verdict', 'VARCHAR'],
  ['inIface', 'VARCHAR'],
  ['outIface', 'VARCHAR'],
  ['direction', 'VARCHAR'],
  ['srcMeta', 'VARCHAR'],
  ['dstMeta', 'VARCHAR'],
];

/**
 * The bulk path, step 1: parameter 1 holds a batch's flows as one JSON array (FlowRecords,
 * srcMeta/dstMeta as JSON text). DuckDB parses it (`json_transform`) and computes each row's
 * dedup key (DuckDB's `hash()` of the key fields, duckdb-key.ts) on its own threads; the event
 * loop makes one JSON.stringify call per batch.
 */
const INSERT_FLOWS_JSON_SQL = `INSERT INTO flows SELECT ${KEY_OF_FIELDS_SQL}, ${FLOW_FIELDS.map(([f]) => `"${f}"`).join(', ')}
  FROM (SELECT unnest(json_transform($1::VARCHAR, '${JSON.stringify([Object.fromEntries(FLOW_FIELDS)])}'), recursive := true))`;

/**
 * The bulk path, step 2, in the same transaction: of the rows that are the same flow, keep the
 * first stored (lowest rowid) and delete the others — a replayed flow stored earlier, or a repeat
 * inside the batch. A stored duplicate has the same `observed_at` (a key field), so only rows
 * within the batch's [least, greatest] `observed_at` (parameters 1 and 2) are compared; zone maps
 * skip the rest of the table. Keys that occur more than once are found by a hash aggregate (GROUP
 * BY … HAVING count(*) > 1, no sort); only their rows are then grouped by every key field, so a
 * 64-bit key shared by two different flows deletes neither. Without duplicates, the usual case,
 * nothing else happens.
 */
const DEDUP_FLOWS_SQL = `DELETE FROM flows WHERE rowid IN (
    SELECT rowid FROM (
      SELECT rowid, row_number() OVER (PARTITION BY ${KEY_PARTITION_SQL} ORDER BY rowid) AS n
      FROM flows
      WHERE observed_at BETWEEN $1 AND $2
        AND dedup_key IN (SELECT dedup_key FROM flows WHERE observed_at BETWEEN $1 AND $2 GROUP BY dedup_key HAVING count(*) > 1)
    ) WHERE n > 1)`;

/**
 * A flows cursor's key: the decimal text of a stored UBIGINT key (the query casts it).
 * @throws StoreError FLOE_STORE_BAD_CURSOR for anything else (a forged cursor, one of an older store).
 */
function keyOfCursor(k: string): string {
  if (!/^\d{1,20}$/.test(k) || BigInt(k) > 0xffff_ffff_ffff_ffffn) {
    throw new StoreError(STORE_ERROR_CODES.BAD_CURSOR, 'invalid paging cursor: not a flows cursor of this store; pass back the `next` of the previous page');
  }
  return k;
}

/**
 * Recomputes every stored key when DuckDB's `hash()` is not the one they were made with (its
 * probe value changed: a DuckDB upgrade), so later batches still find their stored duplicates.
 * Returns the rows rekeyed (0 when the probe matches).
 */
async function rekeyIfHashChanged(c: DuckDBConnection, log: Logger): Promise<number> {
  const r = (await c.runAndReadAll(`SELECT (SELECT probe FROM flow_key_probe) = ${KEY_PROBE_SQL} AS same`)).getRowObjectsJS();
  if (r[0]?.same === true) return 0;
  await c.run('BEGIN TRANSACTION');
  try {
    const n = (await c.runAndReadAll(`UPDATE flows SET dedup_key = ${KEY_OF_COLUMNS_SQL} RETURNING 1`)).getRowObjectsJS().length;
    await c.run('DELETE FROM flow_key_probe');
    await c.run(`INSERT INTO flow_key_probe SELECT ${KEY_PROBE_SQL}`);
    await c.run('COMMIT');
    log.warn({ rows: n }, "DuckDB's hash() differs from the one the stored flow keys were made with (a DuckDB upgrade): every key recomputed");
    return n;
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** A flow as the bulk JSON array holds it: srcMeta/dstMeta as JSON text. */
function flowForJson(f: FlowRecord): object {
  if (f.srcMeta === undefined && f.dstMeta === undefined) return f;
  return { ...f, srcMeta: f.srcMeta === undefined ? undefined : JSON.stringify(f.srcMeta), dstMeta: f.dstMeta === undefined ? undefined : JSON.stringify(f.dstMeta) };
}

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

/**
 * A decision replaces the row of its target: DELETE then INSERT in one transaction (upsertDecision).
 * DuckDB's `INSERT OR REPLACE` costs about 2.5 times as much per row (4.1 against 1.6 ms measured,
 * one decision per transaction): at a few hundred decisions per scan it was the store's bottleneck.
 */
const DELETE_DECISION_SQL = 'DELETE FROM decisions WHERE target = ?';
const INSERT_DECISION_SQL = `INSERT INTO decisions (${DECISION_COLUMNS.join(', ')}) VALUES (${DECISION_COLUMNS.map(() => '?').join(', ')})`;
const INSERT_DEAD_LETTER_SQL = `INSERT INTO dead_letters (${DEAD_LETTER_COLUMNS.join(', ')}) VALUES (${DEAD_LETTER_COLUMNS.map(() => '?').join(', ')})`;
/** A gap already stored (same gap_key) is left as it is: redelivery stores nothing twice. */
const INSERT_GAP_SQL = `INSERT INTO data_gaps (${GAP_COLUMNS.join(', ')}) VALUES (${GAP_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (gap_key) DO NOTHING`;
const INSERT_AUDIT_SQL = `INSERT INTO decision_audit (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`;
/** One more row of a multi-row INSERT_DECISION_SQL / INSERT_AUDIT_SQL (writeDecisions), and rows per statement. */
const DECISION_ROW = `(${DECISION_COLUMNS.map(() => '?').join(', ')})`;
const AUDIT_ROW = `(${AUDIT_COLUMNS.map(() => '?').join(', ')})`;
const DECISION_CHUNK = 100;

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
    for (const f of filters) w.add(f.expr ?? filterSql(f), f.value);
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
 * Writes: `insertFlows` serialises the batch as one JSON array and, in one transaction (rolled
 * back whole on error), inserts it with one prepared statement that parses it and computes each
 * row's dedup key on DuckDB's threads (`json_transform`, DuckDB's `hash()` of the key fields:
 * duckdb-key.ts), then deletes the rows of the batch's `observed_at` range that an earlier row
 * equals in every key field (a replay, a repeat inside the batch; the key finds the candidates). Flows must be valid FlowRecords (the processor's decode step
 * checks them): a field of the wrong type is stored as NULL, a missing required field fails the
 * batch (NOT NULL). `flows` has no index on the key since migration 2; operations on one store
 * run one at a time and DuckDB locks the file to one process, so no other writer races the
 * check. Findings upsert by id (first_seen = min, the later last_seen wins the rest);
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
  /** The bulk path's two statements, prepared once per connection (planning json_transform each time costs more than small batches do). */
  let flowStmts: { insert: DuckDBPreparedStatement; dedup: DuckDBPreparedStatement } | undefined;
  /** upsertDecision's three statements, prepared once per connection. */
  let decisionStmts: { remove: DuckDBPreparedStatement; insert: DuckDBPreparedStatement; audit: DuckDBPreparedStatement } | undefined;
  /** One connection, one operation at a time. */
  const queue = opQueue<DuckDBConnection>('duckdb', () => conn);
  const serial = queue.run;
  /**
   * The flows bulk path has a connection and queue of its own: only it writes `flows`, so its
   * transactions never conflict with the other tables' (DuckDB's optimistic concurrency), and a
   * batch of flows neither waits behind decision upserts nor delays them.
   */
  let flowConn: DuckDBConnection | undefined;
  const flowQueue = opQueue<DuckDBConnection>('duckdb', () => flowConn);

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

  /** Whether a finding with id `id` is stored (triage of an unknown finding is refused). */
  async function findingExists(c: DuckDBConnection, id: string): Promise<boolean> {
    return (await rows(c, 'SELECT 1 AS x FROM findings WHERE id = ?', [id])).length > 0;
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

  const store: Store = {
    name: 'duckdb',

    start(): Promise<void> {
      starting ??= (async () => {
        if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
        try {
          instance = await DuckDBInstance.create(opts.path, { threads: String(opts.threads !== undefined && opts.threads > 0 ? opts.threads : defaultDuckDbThreads()) });
        } catch (e) {
          // locked by another process, a newer storage version, a file that changed since the check
          throw new StoreError(STORE_ERROR_CODES.BAD_PATH, `store path ${opts.path}: DuckDB cannot open it: ${(e as Error).message}`, { cause: e });
        }
        const c = await instance.connect();
        await migrate(c);
        await rekeyIfHashChanged(c, log);
        const fc = await instance.connect();
        flowStmts = { insert: await fc.prepare(INSERT_FLOWS_JSON_SQL), dedup: await fc.prepare(DEDUP_FLOWS_SQL) };
        decisionStmts = { remove: await c.prepare(DELETE_DECISION_SQL), insert: await c.prepare(INSERT_DECISION_SQL), audit: await c.prepare(INSERT_AUDIT_SQL) };
        conn = c;
        flowConn = fc;
        log.info({ path: opts.path }, 'duckdb store opened');
      })();
      return starting;
    },

    async stop(): Promise<void> {
      if (starting) await starting.catch(() => undefined);
      await Promise.all([queue.idle(), flowQueue.idle()]);
      flowStmts?.insert.destroySync();
      flowStmts?.dedup.destroySync();
      flowStmts = undefined;
      for (const st of Object.values(decisionStmts ?? {})) st.destroySync();
      decisionStmts = undefined;
      conn?.closeSync();
      flowConn?.closeSync();
      instance?.closeSync();
      conn = undefined;
      flowConn = undefined;
      instance = undefined;
    },

    insertFlows(flows: FlowRecord[]): Promise<void> {
      if (flows.length === 0) return flowQueue.run(async () => undefined);
      // Serialising runs before the operation queue: it only needs the event loop, so the
      // connection keeps working on earlier operations meanwhile.
      let lo = Infinity;
      let hi = -Infinity;
      let meta = false;
      for (const f of flows) {
        if (f.observedAt < lo) lo = f.observedAt;
        if (f.observedAt > hi) hi = f.observedAt;
        if (f.srcMeta !== undefined || f.dstMeta !== undefined) meta = true;
      }
      let data: string | undefined = JSON.stringify(meta ? flows.map(flowForJson) : flows);
      return flowQueue.run((c) =>
        tx(c, async () => {
          const { insert, dedup } = flowStmts!;
          insert.bind([data as string]);
          data = undefined;
          try {
            await insert.run();
          } finally {
            insert.clearBindings(); // do not hold the batch's JSON until the next insert
          }
          dedup.bind([BigInt(lo), BigInt(hi)]);
          await dedup.run();
        }),
      );
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
          const { remove, insert, audit: addAudit } = decisionStmts!;
          remove.bind([decision.target]);
          await remove.run();
          insert.bind(decisionValues(decision));
          await insert.run();
          addAudit.bind(auditValues(audit));
          await addAudit.run();
        }),
      );
    },

    writeDecisions(items: ReadonlyArray<DecisionWrite>): Promise<void> {
      return serial(async (c) => {
        if (items.length === 0) return;
        // The last decision per target, then one DELETE, one INSERT and one audit INSERT of many rows.
        const last = new Map<string, Decision>();
        for (const it of items) if (it.decision) last.set(it.decision.target, it.decision);
        const decisions = [...last.values()];
        await tx(c, async () => {
          for (let i = 0; i < decisions.length; i += DECISION_CHUNK) {
            const chunk = decisions.slice(i, i + DECISION_CHUNK);
            await c.run(
              `DELETE FROM decisions WHERE target IN (${chunk.map(() => '?').join(', ')})`,
              chunk.map((d) => d.target),
            );
            await c.run(`${INSERT_DECISION_SQL}${`, ${DECISION_ROW}`.repeat(chunk.length - 1)}`, chunk.flatMap(decisionValues));
          }
          for (let i = 0; i < items.length; i += DECISION_CHUNK) {
            const chunk = items.slice(i, i + DECISION_CHUNK);
            await c.run(
              `${INSERT_AUDIT_SQL}${`, ${AUDIT_ROW}`.repeat(chunk.length - 1)}`,
              chunk.flatMap((it) => auditValues(it.audit)),
            );
          }
        });
      });
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

    async queryFindings(q: FindingQuery): Promise<Page<StoredFinding>> {
      const page = await queryFindingPage(q, fetchPage);
      if (page.items.length === 0) return page;
      const ids = page.items.map((f) => f.id);
      const inList = `(${ids.map(() => '?').join(', ')})`;
      return serial(async (c) => {
        const triage = await rows(c, `${CURRENT_TRIAGE_SELECT} WHERE finding_id IN ${inList} GROUP BY finding_id`, ids);
        const marks = await rows(c, `SELECT ${MARK_COLUMNS.join(', ')} FROM finding_suppressions WHERE finding_id IN ${inList}`, ids);
        return attachTriage(page, triage, marks);
      });
    },

    triageFinding(t) {
      return serial((c) =>
        tx(c, async () => {
          if (!(await findingExists(c, t.findingId))) return false;
          const r = triageRow(t);
          await c.run(
            `INSERT INTO finding_triage (${TRIAGE_COLUMNS.join(', ')}) VALUES (${TRIAGE_COLUMNS.map(() => '?').join(', ')})`,
            TRIAGE_COLUMNS.map((k) => r[k]),
          );
          return true;
        }),
      );
    },

    triageHistory(findingId) {
      return serial(async (c) => {
        if (!(await findingExists(c, findingId))) return undefined;
        return (await rows(c, 'SELECT * FROM finding_triage WHERE finding_id = ? ORDER BY seq', [findingId])).map(rowToTriage);
      });
    },

    markSuppressed(marks) {
      return serial(async (c) => {
        if (marks.length === 0) return;
        await tx(c, async () => {
          for (const m of marks) {
            const r = markRow(m);
            await c.run(
              `INSERT INTO finding_suppressions (${MARK_COLUMNS.join(', ')}) VALUES (?, ?, ?)
               ON CONFLICT (finding_id) DO UPDATE SET rule_id = excluded.rule_id, at_ms = excluded.at_ms WHERE excluded.at_ms >= finding_suppressions.at_ms`,
              MARK_COLUMNS.map((k) => r[k]),
            );
          }
        });
      });
    },

    putSuppression(rule) {
      const r = suppressionRow(rule);
      return serial(async (c) => {
        await c.run(
          `INSERT OR REPLACE INTO suppressions (${SUPPRESSION_COLUMNS.join(', ')}) VALUES (${SUPPRESSION_COLUMNS.map(() => '?').join(', ')})`,
          SUPPRESSION_COLUMNS.map((k) => r[k]),
        );
      });
    },

    deleteSuppression(id) {
      return serial(async (c) => (await rows(c, 'DELETE FROM suppressions WHERE id = ? RETURNING id', [id])).length > 0);
    },

    listSuppressions(q = {}) {
      const w = new Where();
      if (q.activeAt !== undefined) w.add('s.expires_at > ?', q.activeAt);
      return serial(async (c) =>
        (
          await rows(
            c,
            `SELECT s.*, coalesce(m.n, 0) AS suppressed, m.last AS last_match FROM suppressions s
             LEFT JOIN (SELECT rule_id, count(*) AS n, max(at_ms) AS last FROM finding_suppressions GROUP BY rule_id) m ON m.rule_id = s.id
             ${w.sql()} ORDER BY s.created_at DESC, s.id DESC`,
            w.params,
          )
        ).map(rowToSuppression),
      );
    },

    putNeverBlock(entry) {
      const r = neverBlockRow(entry);
      return serial(async (c) => {
        await c.run(
          `INSERT OR REPLACE INTO never_block (${NEVER_BLOCK_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?)`,
          NEVER_BLOCK_COLUMNS.map((k) => r[k]),
        );
      });
    },

    deleteNeverBlock(cidr) {
      return serial(async (c) => (await rows(c, 'DELETE FROM never_block WHERE cidr = ? RETURNING cidr', [cidr])).length > 0);
    },

    listNeverBlock() {
      return serial(async (c) => (await rows(c, 'SELECT * FROM never_block ORDER BY created_at, cidr', [])).map(rowToNeverBlock));
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

    insertDeadLetters(list: DeadLetterRow[]): Promise<void> {
      return serial(async (c) => {
        if (list.length === 0) return;
        await tx(c, async () => {
          for (const d of list) {
            const r = deadLetterRow(d);
            await c.run(
              INSERT_DEAD_LETTER_SQL,
              DEAD_LETTER_COLUMNS.map((k) => r[k] as DuckDBValue),
            );
          }
        });
      });
    },

    queryDeadLetters(q: { reason?: string; limit?: number }): Promise<DeadLetterRow[]> {
      const limit = pageLimit(q.limit, AUDIT_LIMIT.max, AUDIT_LIMIT.default);
      const w = new Where();
      if (q.reason !== undefined) w.add('reason = ?', q.reason);
      return serial(async (c) => {
        const got = await rows(c, `SELECT * FROM dead_letters ${w.sql()} ORDER BY seq DESC LIMIT ?`, [...w.params, limit]);
        return got.map(rowToDeadLetter);
      });
    },

    insertGaps(list: DataGap[]): Promise<void> {
      return serial(async (c) => {
        if (list.length === 0) return;
        await tx(c, async () => {
          for (const g of list) {
            const r = gapRow(g);
            await c.run(
              INSERT_GAP_SQL,
              GAP_COLUMNS.map((k) => r[k]),
            );
          }
        });
      });
    },

    queryGaps(q: GapQuery): Promise<Page<DataGap>> {
      return queryGapPage(q, fetchPage);
    },

    async gapSummary(q: GapSummaryQuery): Promise<GapSummary> {
      const w = Where.of(gapFilters(q));
      const { lo, hi } = clipWindow(q);
      return serial(async (c) => {
        const got = await rows(
          c,
          `SELECT node, source, kind, count(*) AS gaps, coalesce(sum(count), 0) AS count,
             coalesce(sum(greatest(0, least(to_ms, ?) - greatest(from_ms, ?))), 0) AS ms
           FROM data_gaps ${w.sql()} GROUP BY node, source, kind`,
          [hi, lo, ...w.params],
        );
        return summaryOf(got);
      });
    },

    readFlows(q) {
      return readFlowPage(q, (filters, after, limit) =>
        serial(async (c) => {
          const w = Where.of(filters);
          const a = after ? '(observed_at > ? OR (observed_at = ? AND dedup_key > CAST(? AS UBIGINT)))' : undefined;
          const params = after ? [...w.params, after.s, after.s, keyOfCursor(after.k)] : [...w.params];
          return rows(c, `SELECT * FROM flows ${w.sql(a)} ORDER BY observed_at, dedup_key LIMIT ?`, [...params, limit]);
        }),
      );
    },

    async reportAggregates(q: ReportQuery): Promise<ReportAggregates> {
      const r = checkReportQuery(q);
      const fw = new Where();
      fw.add('observed_at >= ?', r.from);
      fw.add('observed_at < ?', r.to);
      const inList = (n: number) => `(${Array.from({ length: n }, () => '?').join(', ')})`;
      if (r.namespaces.length) fw.add(`(src_ns IN ${inList(r.namespaces.length)} OR dst_ns IN ${inList(r.namespaces.length)})`, ...r.namespaces, ...r.namespaces);
      if (r.zones.length) fw.add(`(src_zone IN ${inList(r.zones.length)} OR dst_zone IN ${inList(r.zones.length)})`, ...r.zones, ...r.zones);
      // the scoped flows: namespaces and zones read from the srcMeta/dstMeta JSON text
      const scoped = `(SELECT observed_at, src_addr, dst_addr, protocol, dst_port, direction,
          coalesce(bytes_orig, 0) + coalesce(bytes_reply, 0) AS bytes,
          nullif(json_extract_string(src_meta, '$.namespace'), '') AS src_ns, nullif(json_extract_string(dst_meta, '$.namespace'), '') AS dst_ns,
          nullif(json_extract_string(src_meta, '$.zone'), '') AS src_zone, nullif(json_extract_string(dst_meta, '$.zone'), '') AS dst_zone
        FROM flows WHERE observed_at >= ? AND observed_at < ?) AS s ${fw.sql()}`;
      const sp = [r.from, r.to, ...fw.params];
      const keys = 'src_addr, dst_addr, protocol, dst_port, direction, src_ns, dst_ns, src_zone, dst_zone';
      const fiw = new Where();
      fiw.add('first_seen < ?', r.to);
      fiw.add('last_seen >= ?', r.from);
      if (r.namespaces.length) fiw.add(`entity_namespace IN ${inList(r.namespaces.length)}`, ...r.namespaces);
      return serial(async (c) => {
        const tot = (await rows(c, `SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b, min(observed_at) AS first, max(observed_at) AS last FROM ${scoped}`, sp))[0];
        const hours = await rows(c, `SELECT (observed_at // ${REPORT_BUCKET_MS}) * ${REPORT_BUCKET_MS} AS hour, count(*) AS n FROM ${scoped} GROUP BY hour`, sp);
        const dirs = await rows(c, `SELECT coalesce(direction, 'unknown') AS d, count(*) AS n FROM ${scoped} GROUP BY d`, sp);
        const groupsTotal = toNumber((await rows(c, `SELECT count(*) AS n FROM (SELECT 1 FROM ${scoped} GROUP BY ${keys})`, sp))[0].n);
        const groups = await rows(
          c,
          `SELECT ${keys}, count(*) AS flows, sum(bytes) AS bytes FROM ${scoped} GROUP BY ${keys}
           ORDER BY flows DESC, src_addr, dst_addr, protocol, coalesce(dst_port, -1), coalesce(direction, ''), coalesce(src_ns, ''), coalesce(dst_ns, ''),
             coalesce(src_zone, ''), coalesce(dst_zone, '') LIMIT ?`,
          [...sp, r.groupLimit],
        );
        const fc = await rows(
          c,
          `SELECT severity, detector, count(*) AS findings, count(*) FILTER (WHERE id IN (SELECT origin FROM decisions)) AS blocked FROM findings ${fiw.sql()} GROUP BY severity, detector`,
          fiw.params,
        );
        // the same findings by current triage state (latest change; never triaged = open) and suppression mark
        const tr = await rows(
          c,
          `SELECT count(*) FILTER (WHERE coalesce(t.state, 'open') = 'open') AS open, count(*) FILTER (WHERE t.state = 'acknowledged') AS acknowledged,
             count(*) FILTER (WHERE t.state = 'resolved') AS resolved, count(*) FILTER (WHERE t.state = 'false_positive') AS false_positive,
             count(*) FILTER (WHERE id IN (SELECT finding_id FROM finding_suppressions)) AS suppressed
           FROM findings LEFT JOIN (SELECT finding_id, arg_max(state, seq) AS state FROM finding_triage GROUP BY finding_id) AS t ON t.finding_id = findings.id ${fiw.sql()}`,
          fiw.params,
        );
        const dec = (
          await rows(
            c,
            `SELECT count(*) AS n, count(*) FILTER (WHERE dry_run) AS dry, coalesce(sum(duration_ms), 0) AS s, coalesce(min(duration_ms), 0) AS mn,
               coalesce(max(duration_ms), 0) AS mx FROM decisions WHERE created_at >= ? AND created_at < ?`,
            [r.from, r.to],
          )
        )[0];
        const dh = await rows(
          c,
          `SELECT (created_at // ${REPORT_BUCKET_MS}) * ${REPORT_BUCKET_MS} AS hour, count(*) AS n FROM decisions WHERE created_at >= ? AND created_at < ? GROUP BY hour`,
          [r.from, r.to],
        );
        const dl = toNumber((await rows(c, 'SELECT count(*) AS n FROM dead_letters WHERE at_ms >= ? AND at_ms < ?', [r.from, r.to]))[0].n);
        return assembleReportAggregates({ tot, hours, dirs, groups, groupsTotal, findings: fc, triage: tr[0], decisions: dec, decisionHours: dh, deadLetters: dl });
      });
    },

    async insertApiToken(t: ApiTokenRecord): Promise<void> {
      checkApiToken(t);
      const r = apiTokenRow(t);
      return serial(async (c) => {
        if ((await rows(c, 'SELECT id FROM api_tokens WHERE id = ?', [t.id])).length) throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `api token ${t.id} exists already`);
        await c.run(
          `INSERT INTO api_tokens (${API_TOKEN_COLUMNS.join(', ')}) VALUES (${API_TOKEN_COLUMNS.map(() => '?').join(', ')})`,
          API_TOKEN_COLUMNS.map((k) => r[k] as DuckDBValue),
        );
      });
    },

    getApiToken(id: string): Promise<ApiTokenRecord | undefined> {
      return serial(async (c) => {
        const got = await rows(c, 'SELECT * FROM api_tokens WHERE id = ?', [id]);
        return got.length ? rowToApiToken(got[0]) : undefined;
      });
    },

    listApiTokens(): Promise<ApiTokenRecord[]> {
      return serial(async (c) => (await rows(c, 'SELECT * FROM api_tokens ORDER BY created_at DESC, id', [])).map(rowToApiToken));
    },

    revokeApiToken(id: string, at: number): Promise<boolean> {
      return serial(async (c) => (await rows(c, 'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id', [at, id])).length > 0);
    },

    appendApiAudit(entry: ApiAuditEntry): Promise<void> {
      const r = apiAuditRow(entry);
      return serial(async (c) => {
        await c.run(
          `INSERT INTO api_audit (${API_AUDIT_COLUMNS.join(', ')}) VALUES (${API_AUDIT_COLUMNS.map(() => '?').join(', ')})`,
          API_AUDIT_COLUMNS.map((k) => r[k] as DuckDBValue),
        );
      });
    },

    queryApiAudit(q: ApiAuditQuery): Promise<Page<ApiAuditEntry>> {
      return queryApiAuditPage(q, fetchPage);
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
