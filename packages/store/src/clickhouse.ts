import { createHash, randomBytes } from 'node:crypto';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { DataGap, Decision, DecisionAudit, Finding, FlowRecord } from '@floe/flow';
import { noopLogger } from '@floe/telemetry/lite';
import { CLICKHOUSE_MIGRATIONS, migrateClickHouse } from './clickhouse-migrations.js';
import { flowDedupKey } from './dedup.js';
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import { clipWindow, gapFilters, gapRow, queryGapPage, summaryOf } from './gaps.js';
import { instrumentStore } from './instrument.js';
import { createStoreMetrics, type StoreDeps } from './metrics.js';
import { AUDIT_LIMIT, pageLimit, queryDecisionPage, queryFindingPage, readFlowPage, filterSql, type Filter, type KeysetFetch } from './paging.js';
import { opQueue } from './queue.js';
import { assembleReportAggregates, checkReportQuery, REPORT_BUCKET_MS, type ReportAggregates, type ReportQuery } from './report.js';
import { auditRow, deadLetterRow, decisionRow, findingRow, mergeFinding, rowToAudit, rowToDeadLetter, rowToDecision, rowToFinding, toNumber, type Row } from './rows.js';
import type { DeadLetterRow, DecisionQuery, DecisionWrite, FindingQuery, GapQuery, GapSummary, GapSummaryQuery, Page, Store, StoredFinding } from './store.js';
import { attachTriage, CURRENT_TRIAGE_SELECT, markRow, neverBlockRow, rowToNeverBlock, rowToSuppression, rowToTriage, suppressionRow, triageRow } from './triage.js';
import { apiAuditRow, apiTokenRow, checkApiToken, queryApiAuditPage, rowToApiToken, type ApiAuditEntry, type ApiAuditQuery, type ApiTokenRecord } from './access.js';

/** Options of the ClickHouse store. */
export interface ClickHouseStoreOptions {
  /** HTTP(S) endpoint, e.g. `http://127.0.0.1:8123`. */
  url: string;
  /** Database (created when missing); letters, digits and `_`, not starting with a digit. */
  database: string;
  /**
   * Days a flow (and its rollup row) is kept after its observedAt; default 30, integer 1..3650
   * (ClickHouse DateTime ends in 2106: a TTL past it wraps around and expires rows at once).
   */
  retentionDays?: number;
  username?: string;
  password?: string;
  /** Largest number of flows per INSERT; larger `insertFlows` batches are split. Default 50 000. */
  flushRows?: number;
}

/** Default retention (days) and flush size (rows) of the ClickHouse store. */
export const CLICKHOUSE_DEFAULTS = Object.freeze({ retentionDays: 30, flushRows: 50_000 });

/** Ids per `IN {ids:Array(String)}` lookup: query parameters travel in the URL, keep it short. */
const LOOKUP_CHUNK = 200;
/** Insert settings: synchronous inserts (so a resolved insertFlows is readable), block dedup on. */
const INSERT_SETTINGS: ClickHouseSettings = { async_insert: 0, insert_deduplicate: 1 };
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Filter clauses (constant SQL text with `{pN:Type}` placeholders) and their parameter values. */
class Where {
  readonly clauses: string[] = [];
  readonly params: Record<string, unknown> = {};
  private n = 0;
  /** `expr` is constant SQL with `?` where the typed placeholder goes. */
  add(expr: string, type: string, value: unknown): void {
    const name = `p${this.n++}`;
    this.params[name] = value;
    this.clauses.push(expr.replace('?', `{${name}:${type}}`));
  }
  /** Adds each filter as `column op {pN:type}`. */
  static of(filters: Filter[]): Where {
    const w = new Where();
    for (const f of filters) w.add(f.expr ?? filterSql(f), f.type, f.value);
    return w;
  }
  sql(extra?: string): string {
    const all = extra ? [...this.clauses, extra] : this.clauses;
    return all.length ? `WHERE ${all.join(' AND ')}` : '';
  }
}

/** Columns of the staging table (= `flows` without MATERIALIZED ones), in order: the JSONCompactEachRow layout. */
const FLOW_STAGE_COLUMNS = [
  'dedup_key',
  'schema_version',
  'observed_at',
  'start_ms',
  'end_ms',
  'node',
  'source',
  'event',
  'family',
  'protocol',
  'src_addr',
  'dst_addr',
  'src_port',
  'dst_port',
  'icmp_type',
  'icmp_code',
  'reply_src_addr',
  'reply_dst_addr',
  'reply_src_port',
  'reply_dst_port',
  'bytes_orig',
  'packets_orig',
  'bytes_reply',
  'packets_reply',
  'state',
  'assured',
  'unreplied',
  'zone',
  'mark',
  'ct_id',
  'log_prefix',
  'verdict',
  'in_iface',
  'out_iface',
  'direction',
  'src_meta',
  'dst_meta',
] as const;

/** One flow as a JSONCompactEachRow row (values in FLOW_STAGE_COLUMNS order, absent as null): no column names per row. */
function flowCompactRow(key: string, f: FlowRecord): unknown[] {
  const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
  return [
    key,
    f.schema,
    f.observedAt,
    n(f.start),
    n(f.end),
    n(f.node),
    f.source,
    f.event,
    f.family,
    f.protocol,
    f.srcAddr,
    f.dstAddr,
    n(f.srcPort),
    n(f.dstPort),
    n(f.icmpType),
    n(f.icmpCode),
    n(f.replySrcAddr),
    n(f.replyDstAddr),
    n(f.replySrcPort),
    n(f.replyDstPort),
    n(f.bytesOrig),
    n(f.packetsOrig),
    n(f.bytesReply),
    n(f.packetsReply),
    n(f.state),
    n(f.assured),
    n(f.unreplied),
    n(f.zone),
    n(f.mark),
    n(f.ctId),
    n(f.logPrefix),
    n(f.verdict),
    n(f.inIface),
    n(f.outIface),
    n(f.direction),
    f.srcMeta === undefined ? null : JSON.stringify(f.srcMeta),
    f.dstMeta === undefined ? null : JSON.stringify(f.dstMeta),
  ];
}

function validate(opts: ClickHouseStoreOptions): { retentionDays: number; flushRows: number } {
  const bad = (msg: string): never => {
    throw new StoreError(STORE_ERROR_CODES.BAD_CONFIG, `clickhouse store: ${msg}`);
  };
  if (typeof opts.url !== 'string' || !URL.canParse(opts.url)) bad(`url must be an http(s) URL, got ${JSON.stringify(opts.url)}`);
  if (typeof opts.database !== 'string' || !DATABASE_NAME.test(opts.database)) {
    bad(`database must match ${String(DATABASE_NAME)}, got ${JSON.stringify(opts.database)}`);
  }
  const retentionDays = opts.retentionDays ?? CLICKHOUSE_DEFAULTS.retentionDays;
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) {
    bad(`retentionDays must be an integer in 1..3650, got ${String(retentionDays)}`);
  }
  const flushRows = opts.flushRows ?? CLICKHOUSE_DEFAULTS.flushRows;
  if (!Number.isInteger(flushRows) || flushRows < 1) bad(`flushRows must be a positive integer, got ${String(flushRows)}`);
  return { retentionDays, flushRows };
}

/**
 * Creates the ClickHouse store (`@clickhouse/client` over HTTP), the scale-out adapter of the
 * Store port. Inert until `start()`, which runs `CREATE DATABASE IF NOT EXISTS`, the versioned
 * migrations (clickhouse-migrations.ts), sets the flows/rollup TTL to `retentionDays` with
 * `ALTER TABLE … MODIFY TTL` when it differs, and creates this instance's staging table.
 *
 * Flows: each chunk of at most `flushRows` distinct flows (key: flowDedupKey) goes in one
 * JSONCompactEachRow insert (one JSON array of values per row, no column names: the compact
 * bulk format) into a per-instance Memory staging table, then one
 * `INSERT INTO flows SELECT … WHERE dedup_key NOT IN (keys already stored in the chunk's time
 * range)` with `insert_deduplication_token` = hash of the chunk's keys. So a sequential replay
 * writes nothing (flows and the `flows_1m` rollup stay exact), an identical chunk retried
 * concurrently is dropped by the token (flows and rollup), and whatever still gets through a
 * race (two writers inserting overlapping new flows at the same instant) collapses in the
 * ReplacingMergeTree; `countFlows` reads `FINAL`, so it is exact in every case, while the rollup
 * may then over-count (documented limit).
 *
 * Findings: read the stored row (FINAL) for each id, merge like the DuckDB adapter (first_seen =
 * min, the later lastSeen wins the rest; a tie goes to the new row), write one row per id;
 * ReplacingMergeTree(last_seen) keeps the winner. Decisions: ReplacingMergeTree(version,
 * is_deleted) with version = max(updatedAt, stored version), so the last write wins as in DuckDB;
 * delete writes a tombstone. Audit rows are written before the decision row (no transactions in
 * ClickHouse: a failure leaves an audit row for a change that may not have happened, never a
 * change without its audit row). Reads use FINAL and page newest first with the same keyset
 * order as duckdb.ts. Every value travels as a `{name:Type}` query parameter or as insert data.
 * Operations of one store run one at a time.
 *
 * @throws StoreError FLOE_STORE_BAD_CONFIG at creation (url, database, retentionDays, flushRows);
 *   FLOE_STORE_NOT_STARTED before start/after stop; FLOE_STORE_BAD_CURSOR; FLOE_STORE_BAD_QUERY;
 *   FLOE_STORE_MIGRATION_FAILED from start. Server errors propagate as `@clickhouse/client` errors.
 *
 * Logs through a child of `deps.logger` (`{ component: 'store', adapter: 'clickhouse' }`); every
 * call is measured in the `floe_store_*` metrics on `deps.metrics` (instrument.ts).
 */
export function createClickHouseStore(opts: ClickHouseStoreOptions, deps: StoreDeps = {}): Store {
  const { retentionDays, flushRows } = validate(opts);
  const log = (deps.logger ?? noopLogger).child({ component: 'store', adapter: 'clickhouse' });
  const stage = `flows_stage_${randomBytes(6).toString('hex')}`;
  let client: ClickHouseClient | undefined;
  let starting: Promise<void> | undefined;
  const makeClient = (database: string): ClickHouseClient =>
    createClient({
      url: opts.url,
      database,
      username: opts.username,
      password: opts.password,
      request_timeout: 60_000,
      clickhouse_settings: { async_insert: 0 },
    });

  const queue = opQueue<ClickHouseClient>('clickhouse', () => client);
  const serial = queue.run;

  async function rows(c: ClickHouseClient, query: string, params: Record<string, unknown> = {}, settings?: ClickHouseSettings): Promise<Row[]> {
    const res = await c.query({ query, format: 'JSONEachRow', query_params: params, clickhouse_settings: settings });
    return res.json<Row>();
  }

  /** Whether a finding with id `id` is stored (triage of an unknown finding is refused). */
  async function findingExists(c: ClickHouseClient, id: string): Promise<boolean> {
    const found = await rows(c, 'SELECT count() AS n FROM findings WHERE id = {id:String}', { id });
    return toNumber(found[0]?.n ?? 0) > 0;
  }

  async function insert(c: ClickHouseClient, table: string, values: Row[], settings: ClickHouseSettings = INSERT_SETTINGS): Promise<void> {
    if (values.length === 0) return;
    await c.insert({ table, values, format: 'JSONEachRow', clickhouse_settings: settings });
  }

  /**
   * The KeysetFetch of this adapter (paging.ts), run in the operation queue: the count of `table`
   * rows (FINAL) matching `filters`, and up to `limit + 1` of them after `cursor`, by (`sort`, `key`) descending.
   */
  const fetchPage: KeysetFetch = ({ table, sort, key }, filters, cursor, limit) =>
    serial(async (c) => {
      const w = Where.of(filters);
      const total = toNumber((await rows(c, `SELECT count() AS n FROM ${table} FINAL ${w.sql()}`, w.params))[0].n);
      const after = cursor ? `(${sort} < {cs:Int64} OR (${sort} = {cs:Int64} AND ${key} < {ck:String}))` : undefined;
      const params = cursor ? { ...w.params, cs: cursor.s, ck: cursor.k, lim: limit + 1 } : { ...w.params, lim: limit + 1 };
      const got = await rows(c, `SELECT * FROM ${table} FINAL ${w.sql(after)} ORDER BY ${sort} DESC, ${key} DESC LIMIT {lim:UInt32}`, params);
      return { total, rows: got };
    });

  /** Sets the TTL of `table` to `retentionDays` when the stored DDL says otherwise. */
  async function reconcileTtl(c: ClickHouseClient, table: 'flows' | 'flows_1m', expr: string): Promise<void> {
    const got = await rows(c, 'SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = {t:String}', { t: table });
    const m = /toIntervalDay\((\d+)\)/.exec(String(got[0]?.q ?? ''));
    if (m && Number(m[1]) === retentionDays) return;
    // retentionDays is a validated integer from the configuration, not user input. It is written as a
    // literal: a `{days:UInt32}` parameter would be stored in the DDL as `_CAST(7, 'UInt32')`.
    await c.command({ query: `ALTER TABLE ${table} MODIFY TTL ${expr} + toIntervalDay(${retentionDays})` });
    log.info({ table, retentionDays, was: m ? Number(m[1]) : undefined }, 'clickhouse store: TTL changed');
  }

  async function insertChunk(c: ClickHouseClient, chunk: Array<[string, FlowRecord]>): Promise<void> {
    let lo = Infinity;
    let hi = -Infinity;
    for (const [, f] of chunk) {
      if (f.observedAt < lo) lo = f.observedAt;
      if (f.observedAt > hi) hi = f.observedAt;
    }
    const token = createHash('sha256')
      .update(
        chunk
          .map(([k]) => k)
          .sort()
          .join(','),
      )
      .digest('hex');
    await c.command({ query: 'TRUNCATE TABLE {stage:Identifier}', query_params: { stage } });
    await c.insert({
      table: stage,
      columns: [...FLOW_STAGE_COLUMNS],
      format: 'JSONCompactEachRow',
      clickhouse_settings: INSERT_SETTINGS,
      values: chunk.map(([k, f]) => flowCompactRow(k, f)),
    });
    await c.command({
      query: `INSERT INTO flows SELECT * FROM {stage:Identifier}
        WHERE dedup_key NOT IN (
          SELECT dedup_key FROM flows
          WHERE observed BETWEEN fromUnixTimestamp64Milli({lo:Int64}, 'UTC') AND fromUnixTimestamp64Milli({hi:Int64}, 'UTC'))`,
      query_params: { stage, lo, hi },
      clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: token, deduplicate_blocks_in_dependent_materialized_views: 1 },
    });
  }

  /** Stored findings (merged view) for `ids`. */
  async function storedFindings(c: ClickHouseClient, ids: string[]): Promise<Map<string, Finding>> {
    const out = new Map<string, Finding>();
    for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
      const got = await rows(c, 'SELECT * FROM findings FINAL WHERE id IN {ids:Array(String)}', { ids: ids.slice(i, i + LOOKUP_CHUNK) });
      for (const r of got) out.set(r.id as string, rowToFinding(r));
    }
    return out;
  }

  async function maxDecisionVersion(c: ClickHouseClient, target: string): Promise<{ version: number; live: boolean }> {
    const got = await rows(c, 'SELECT max(version) AS v, (SELECT count() FROM decisions FINAL WHERE target = {t:String}) AS live FROM decisions WHERE target = {t:String}', {
      t: target,
    });
    return { version: toNumber(got[0]?.v ?? 0), live: toNumber(got[0]?.live ?? 0) > 0 };
  }

  /** Highest stored version of a key in a ReplacingMergeTree(version, is_deleted) table, and whether it is live (FINAL). */
  async function keyVersion(c: ClickHouseClient, table: 'suppressions' | 'never_block', column: 'id' | 'cidr', key: string): Promise<{ version: number; live: boolean }> {
    const got = await rows(c, `SELECT max(version) AS v, (SELECT count() FROM ${table} FINAL WHERE ${column} = {k:String}) AS live FROM ${table} WHERE ${column} = {k:String}`, {
      k: key,
    });
    return { version: toNumber(got[0]?.v ?? 0), live: toNumber(got[0]?.live ?? 0) > 0 };
  }

  const store: Store = {
    name: 'clickhouse',

    start(): Promise<void> {
      starting ??= (async () => {
        const boot = makeClient('default');
        try {
          await boot.command({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', query_params: { db: opts.database } });
        } finally {
          await boot.close();
        }
        const c = makeClient(opts.database);
        try {
          const applied = await migrateClickHouse(c, CLICKHOUSE_MIGRATIONS);
          if (applied.length) log.info({ database: opts.database, applied }, 'clickhouse store: migrations applied');
          await reconcileTtl(c, 'flows', 'toDateTime(observed)');
          await reconcileTtl(c, 'flows_1m', 'minute');
          await c.command({ query: 'CREATE TABLE IF NOT EXISTS {stage:Identifier} ENGINE = Memory AS SELECT * FROM flows LIMIT 0', query_params: { stage } });
        } catch (err) {
          await c.close();
          throw err;
        }
        client = c;
      })().catch((err: unknown) => {
        starting = undefined; // a later start() may retry (server not up yet)
        throw err;
      });
      return starting;
    },

    async stop(): Promise<void> {
      if (starting) await starting.catch(() => undefined);
      await queue.idle();
      const c = client;
      client = undefined;
      starting = undefined;
      if (!c) return;
      try {
        await c.command({ query: 'DROP TABLE IF EXISTS {stage:Identifier}', query_params: { stage } });
      } catch (err) {
        log.warn({ err, stage }, 'clickhouse store: staging table not dropped');
      } finally {
        await c.close();
      }
    },

    insertFlows(flows: FlowRecord[]): Promise<void> {
      return serial(async (c) => {
        if (flows.length === 0) return;
        const byKey = new Map<string, FlowRecord>();
        for (const f of flows) {
          const key = flowDedupKey(f);
          if (!byKey.has(key)) byKey.set(key, f);
        }
        const all = [...byKey];
        for (let i = 0; i < all.length; i += flushRows) await insertChunk(c, all.slice(i, i + flushRows));
      });
    },

    insertFindings(findings: Finding[]): Promise<void> {
      return serial(async (c) => {
        if (findings.length === 0) return;
        const byId = new Map<string, Finding>();
        for (const f of findings) byId.set(f.id, mergeFinding(byId.get(f.id), f));
        const stored = await storedFindings(c, [...byId.keys()]);
        const out: Row[] = [];
        for (const [id, f] of byId) {
          const prev = stored.get(id);
          out.push(findingRow(mergeFinding(prev, f)));
        }
        await insert(c, 'findings', out);
      });
    },

    upsertDecision(decision: Decision, audit: DecisionAudit): Promise<void> {
      return serial(async (c) => {
        const { version } = await maxDecisionVersion(c, decision.target);
        await insert(c, 'decision_audit', [auditRow(audit)]);
        await insert(c, 'decisions', [{ ...decisionRow(decision), version: Math.max(version, decision.updatedAt), is_deleted: 0 }]);
      });
    },

    writeDecisions(items: ReadonlyArray<DecisionWrite>): Promise<void> {
      return serial(async (c) => {
        if (items.length === 0) return;
        // The last decision per target, versioned above what the table holds; then one insert per table.
        const last = new Map<string, Decision>();
        for (const it of items) if (it.decision) last.set(it.decision.target, it.decision);
        const rows: Row[] = [];
        for (const d of last.values()) {
          const { version } = await maxDecisionVersion(c, d.target);
          rows.push({ ...decisionRow(d), version: Math.max(version, d.updatedAt), is_deleted: 0 });
        }
        await insert(
          c,
          'decision_audit',
          items.map((it) => auditRow(it.audit)),
        );
        if (rows.length) await insert(c, 'decisions', rows);
      });
    },

    deleteDecision(target: string, audit: DecisionAudit): Promise<boolean> {
      return serial(async (c) => {
        const { version, live } = await maxDecisionVersion(c, target);
        if (!live) return false;
        await insert(c, 'decision_audit', [auditRow(audit)]);
        await insert(c, 'decisions', [
          {
            target,
            schema_version: 1,
            action: 'block',
            scope: '"all"',
            duration_ms: 0,
            expires_at: 0,
            origin: audit.origin,
            reason: audit.reason,
            count: 0,
            dry_run: false,
            created_at: audit.at,
            updated_at: audit.at,
            version: Math.max(version, audit.at),
            is_deleted: 1,
          },
        ]);
        return true;
      });
    },

    appendAudit(audit: DecisionAudit): Promise<void> {
      return serial((c) => insert(c, 'decision_audit', [auditRow(audit)]));
    },

    async queryFindings(q: FindingQuery): Promise<Page<StoredFinding>> {
      const page = await queryFindingPage(q, fetchPage);
      if (page.items.length === 0) return page;
      const ids = page.items.map((f) => f.id);
      return serial(async (c) => {
        const triage = await rows(c, `${CURRENT_TRIAGE_SELECT} WHERE finding_id IN {ids:Array(String)} GROUP BY finding_id`, { ids });
        const marks = await rows(c, 'SELECT finding_id, rule_id, at_ms FROM finding_suppressions FINAL WHERE finding_id IN {ids:Array(String)}', { ids });
        return attachTriage(page, triage, marks);
      });
    },

    triageFinding(t) {
      return serial(async (c) => {
        if (!(await findingExists(c, t.findingId))) return false;
        await insert(c, 'finding_triage', [triageRow(t)]);
        return true;
      });
    },

    triageHistory(findingId) {
      return serial(async (c) => {
        if (!(await findingExists(c, findingId))) return undefined;
        return (await rows(c, 'SELECT finding_id, state, reason, by_user, at_ms FROM finding_triage WHERE finding_id = {id:String} ORDER BY seq', { id: findingId })).map(
          rowToTriage,
        );
      });
    },

    markSuppressed(marks) {
      return serial((c) => insert(c, 'finding_suppressions', marks.map(markRow)));
    },

    putSuppression(rule) {
      return serial(async (c) => {
        const { version } = await keyVersion(c, 'suppressions', 'id', rule.id);
        await insert(c, 'suppressions', [{ ...suppressionRow(rule), version: version + 1, is_deleted: 0 }]);
      });
    },

    deleteSuppression(id) {
      return serial(async (c) => {
        const { version, live } = await keyVersion(c, 'suppressions', 'id', id);
        if (!live) return false;
        await insert(c, 'suppressions', [
          { id, detector: null, entity: null, namespace: null, port: null, expires_at: 0, reason: '', created_by: '', created_at: 0, version: version + 1, is_deleted: 1 },
        ]);
        return true;
      });
    },

    listSuppressions(q = {}) {
      const w = new Where();
      if (q.activeAt !== undefined) w.add('s.expires_at > ?', 'Int64', q.activeAt);
      return serial(async (c) =>
        (
          await rows(
            c,
            `SELECT s.id AS id, s.detector AS detector, s.entity AS entity, s.namespace AS namespace, s.port AS port, s.expires_at AS expires_at,
               s.reason AS reason, s.created_by AS created_by, s.created_at AS created_at, m.n AS suppressed, m.last AS last_match
             FROM suppressions AS s FINAL
             LEFT JOIN (SELECT rule_id, count() AS n, max(at_ms) AS last FROM finding_suppressions FINAL GROUP BY rule_id) AS m ON m.rule_id = s.id
             ${w.sql()} ORDER BY s.created_at DESC, s.id DESC`,
            w.params,
          )
        ).map(rowToSuppression),
      );
    },

    putNeverBlock(entry) {
      return serial(async (c) => {
        const { version } = await keyVersion(c, 'never_block', 'cidr', entry.cidr);
        await insert(c, 'never_block', [{ ...neverBlockRow(entry), version: version + 1, is_deleted: 0 }]);
      });
    },

    deleteNeverBlock(cidr) {
      return serial(async (c) => {
        const { version, live } = await keyVersion(c, 'never_block', 'cidr', cidr);
        if (!live) return false;
        await insert(c, 'never_block', [{ cidr, reason: '', created_by: '', created_at: 0, version: version + 1, is_deleted: 1 }]);
        return true;
      });
    },

    listNeverBlock() {
      return serial(async (c) => (await rows(c, 'SELECT cidr, reason, created_by, created_at FROM never_block FINAL ORDER BY created_at, cidr')).map(rowToNeverBlock));
    },

    queryDecisions(q: DecisionQuery): Promise<Page<Decision>> {
      return queryDecisionPage(q, fetchPage);
    },

    getDecision(target: string): Promise<Decision | undefined> {
      return serial(async (c) => {
        const got = await rows(c, 'SELECT * FROM decisions FINAL WHERE target = {t:String}', { t: target });
        return got.length ? rowToDecision(got[0]) : undefined;
      });
    },

    async queryAudit(q: { target?: string; limit?: number }): Promise<DecisionAudit[]> {
      const limit = pageLimit(q.limit, AUDIT_LIMIT.max, AUDIT_LIMIT.default);
      const w = new Where();
      if (q.target !== undefined) w.add('target = ?', 'String', q.target);
      return serial(async (c) => {
        const got = await rows(c, `SELECT at_ms, target, change, origin, reason, decision FROM decision_audit ${w.sql()} ORDER BY seq DESC LIMIT {lim:UInt32}`, {
          ...w.params,
          lim: limit,
        });
        return got.map(rowToAudit);
      });
    },

    insertDeadLetters(list: DeadLetterRow[]): Promise<void> {
      return serial((c) => insert(c, 'dead_letters', list.map(deadLetterRow)));
    },

    queryDeadLetters(q: { reason?: string; limit?: number }): Promise<DeadLetterRow[]> {
      const limit = pageLimit(q.limit, AUDIT_LIMIT.max, AUDIT_LIMIT.default);
      const w = new Where();
      if (q.reason !== undefined) w.add('reason = ?', 'String', q.reason);
      return serial(async (c) => {
        const got = await rows(c, `SELECT * FROM dead_letters ${w.sql()} ORDER BY at_ms DESC, seq DESC LIMIT {lim:UInt32}`, { ...w.params, lim: limit });
        return got.map(rowToDeadLetter);
      });
    },

    insertGaps(list: DataGap[]): Promise<void> {
      return serial(async (c) => {
        if (list.length === 0) return;
        const byKey = new Map<string, Row>();
        for (const g of list) {
          const r = gapRow(g);
          byKey.set(r.gap_key as string, r);
        }
        // Skip keys already stored (a redelivery writes nothing); a race between two writers
        // collapses in the ReplacingMergeTree, and reads use FINAL.
        const keys = [...byKey.keys()];
        for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
          const got = await rows(c, 'SELECT gap_key FROM data_gaps WHERE gap_key IN {keys:Array(String)}', { keys: keys.slice(i, i + LOOKUP_CHUNK) });
          for (const r of got) byKey.delete(String(r.gap_key));
        }
        await insert(c, 'data_gaps', [...byKey.values()]);
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
          `SELECT node, source, kind, count() AS gaps, sum(count) AS count,
             sum(greatest(toInt64(0), least(to_ms, {hi:Int64}) - greatest(from_ms, {lo:Int64}))) AS ms
           FROM data_gaps FINAL ${w.sql()} GROUP BY node, source, kind`,
          { ...w.params, hi, lo },
        );
        return summaryOf(got);
      });
    },

    readFlows(q) {
      return readFlowPage(q, (filters, after, limit) =>
        serial(async (c) => {
          const w = Where.of(filters);
          const a = after ? '(observed_at > {as:Int64} OR (observed_at = {as:Int64} AND dedup_key > {ak:String}))' : undefined;
          const params = after ? { ...w.params, as: after.s, ak: after.k, lim: limit } : { ...w.params, lim: limit };
          return rows(c, `SELECT * FROM flows FINAL ${w.sql(a)} ORDER BY observed_at, dedup_key LIMIT {lim:UInt32}`, params, { do_not_merge_across_partitions_select_final: 1 });
        }),
      );
    },

    async reportAggregates(q: ReportQuery): Promise<ReportAggregates> {
      const r = checkReportQuery(q);
      const extra: string[] = [];
      if (r.namespaces.length) extra.push('(has({ns:Array(String)}, src_ns) OR has({ns:Array(String)}, dst_ns))');
      if (r.zones.length) extra.push('(has({zones:Array(String)}, src_zone) OR has({zones:Array(String)}, dst_zone))');
      // the scoped flows (FINAL: one row per dedup key); namespaces and zones from the srcMeta/dstMeta JSON text
      const scoped = `(SELECT observed_at, src_addr, dst_addr, protocol, dst_port, direction,
          ifNull(bytes_orig, 0) + ifNull(bytes_reply, 0) AS bytes,
          nullIf(JSONExtractString(ifNull(src_meta, ''), 'namespace'), '') AS src_ns, nullIf(JSONExtractString(ifNull(dst_meta, ''), 'namespace'), '') AS dst_ns,
          nullIf(JSONExtractString(ifNull(src_meta, ''), 'zone'), '') AS src_zone, nullIf(JSONExtractString(ifNull(dst_meta, ''), 'zone'), '') AS dst_zone
        FROM flows FINAL WHERE observed_at >= {from:Int64} AND observed_at < {to:Int64}) AS s ${extra.length ? `WHERE ${extra.join(' AND ')}` : ''}`;
      const params: Record<string, unknown> = { from: r.from, to: r.to, ns: r.namespaces, zones: r.zones, lim: r.groupLimit };
      const final: ClickHouseSettings = { do_not_merge_across_partitions_select_final: 1 };
      const keys = 'src_addr, dst_addr, protocol, dst_port, direction, src_ns, dst_ns, src_zone, dst_zone';
      const fNs = r.namespaces.length ? ' AND has({ns:Array(String)}, entity_namespace)' : '';
      return serial(async (c) => {
        const tot = (await rows(c, `SELECT count() AS n, sum(bytes) AS b, min(observed_at) AS first, max(observed_at) AS last FROM ${scoped}`, params, final))[0];
        const hours = await rows(c, `SELECT intDiv(observed_at, ${REPORT_BUCKET_MS}) * ${REPORT_BUCKET_MS} AS hour, count() AS n FROM ${scoped} GROUP BY hour`, params, final);
        const dirs = await rows(c, `SELECT ifNull(direction, 'unknown') AS d, count() AS n FROM ${scoped} GROUP BY d`, params, final);
        const groupsTotal = toNumber((await rows(c, `SELECT count() AS n FROM (SELECT 1 FROM ${scoped} GROUP BY ${keys})`, params, final))[0].n);
        const groups = await rows(
          c,
          `SELECT ${keys}, count() AS flows, sum(bytes) AS bytes FROM ${scoped} GROUP BY ${keys}
           ORDER BY flows DESC, src_addr, dst_addr, protocol, ifNull(dst_port, -1), ifNull(direction, ''), ifNull(src_ns, ''), ifNull(dst_ns, ''),
             ifNull(src_zone, ''), ifNull(dst_zone, '') LIMIT {lim:UInt32}`,
          params,
          final,
        );
        const fc = await rows(
          c,
          `SELECT severity, detector, count() AS findings, countIf(id IN (SELECT origin FROM decisions FINAL WHERE is_deleted = 0)) AS blocked FROM findings FINAL WHERE first_seen < {to:Int64} AND last_seen >= {from:Int64}${fNs} GROUP BY severity, detector`,
          params,
        );
        // the same findings by current triage state (latest change; never triaged = open, '' when the LEFT JOIN finds none) and suppression mark
        const tr = await rows(
          c,
          `SELECT countIf(t.state IN ('', 'open')) AS open, countIf(t.state = 'acknowledged') AS acknowledged, countIf(t.state = 'resolved') AS resolved,
             countIf(t.state = 'false_positive') AS false_positive, countIf(findings.id IN (SELECT finding_id FROM finding_suppressions FINAL)) AS suppressed
           FROM findings FINAL LEFT JOIN (SELECT finding_id, argMax(state, seq) AS state FROM finding_triage GROUP BY finding_id) AS t ON t.finding_id = findings.id
           WHERE first_seen < {to:Int64} AND last_seen >= {from:Int64}${fNs}`,
          params,
        );
        const dec = (
          await rows(
            c,
            `SELECT count() AS n, countIf(dry_run) AS dry, sum(duration_ms) AS s, if(count() = 0, 0, min(duration_ms)) AS mn, if(count() = 0, 0, max(duration_ms)) AS mx
             FROM decisions FINAL WHERE is_deleted = 0 AND created_at >= {from:Int64} AND created_at < {to:Int64}`,
            params,
          )
        )[0];
        const dh = await rows(
          c,
          `SELECT intDiv(created_at, ${REPORT_BUCKET_MS}) * ${REPORT_BUCKET_MS} AS hour, count() AS n FROM decisions FINAL
           WHERE is_deleted = 0 AND created_at >= {from:Int64} AND created_at < {to:Int64} GROUP BY hour`,
          params,
        );
        const dl = toNumber((await rows(c, 'SELECT count() AS n FROM dead_letters WHERE at_ms >= {from:Int64} AND at_ms < {to:Int64}', params))[0].n);
        return assembleReportAggregates({ tot, hours, dirs, groups, groupsTotal, findings: fc, triage: tr[0], decisions: dec, decisionHours: dh, deadLetters: dl });
      });
    },

    async insertApiToken(t: ApiTokenRecord): Promise<void> {
      checkApiToken(t);
      return serial(async (c) => {
        if ((await rows(c, 'SELECT id FROM api_tokens WHERE id = {id:String}', { id: t.id })).length)
          throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `api token ${t.id} exists already`);
        await insert(c, 'api_tokens', [{ ...apiTokenRow(t), version: 1 }]);
      });
    },

    getApiToken(id: string): Promise<ApiTokenRecord | undefined> {
      return serial(async (c) => {
        const got = await rows(c, 'SELECT * FROM api_tokens FINAL WHERE id = {id:String}', { id });
        return got.length ? rowToApiToken(got[0]) : undefined;
      });
    },

    listApiTokens(): Promise<ApiTokenRecord[]> {
      return serial(async (c) => (await rows(c, 'SELECT * FROM api_tokens FINAL ORDER BY created_at DESC, id')).map(rowToApiToken));
    },

    revokeApiToken(id: string, at: number): Promise<boolean> {
      // A new version of the row with revoked_at set; the ReplacingMergeTree keeps the highest.
      return serial(async (c) => {
        const got = await rows(c, 'SELECT *, toUInt64(version) AS v FROM api_tokens FINAL WHERE id = {id:String}', { id });
        if (got.length === 0) return false;
        const t = rowToApiToken(got[0]);
        if (t.revokedAt !== undefined) return false;
        await insert(c, 'api_tokens', [{ ...apiTokenRow({ ...t, revokedAt: at }), version: toNumber(got[0].v) + 1 }]);
        return true;
      });
    },

    appendApiAudit(entry: ApiAuditEntry): Promise<void> {
      return serial((c) => insert(c, 'api_audit', [apiAuditRow(entry)]));
    },

    queryApiAudit(q: ApiAuditQuery): Promise<Page<ApiAuditEntry>> {
      return queryApiAuditPage(q, fetchPage);
    },

    countFlows(): Promise<{ flows: number; bytes: number }> {
      return serial(async (c) => {
        const r = (
          await rows(
            c,
            'SELECT count() AS n, sum(ifNull(bytes_orig, 0) + ifNull(bytes_reply, 0)) AS b FROM flows FINAL',
            {},
            // A dedup key never spans two days, so FINAL need not merge across partitions.
            { do_not_merge_across_partitions_select_final: 1 },
          )
        )[0];
        return { flows: toNumber(r.n), bytes: toNumber(r.b) };
      });
    },
  };
  return instrumentStore(store, createStoreMetrics(deps.metrics));
}
