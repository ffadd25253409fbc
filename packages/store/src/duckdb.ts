import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBAppender, DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { Decision, DecisionAudit, Finding, FlowRecord } from '@floe/flow';
import { SEVERITIES, severityRank } from '@floe/flow';
import { flowDedupKey } from './dedup.js';
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import { migrate } from './migrations.js';
import type { DecisionQuery, FindingQuery, Page, Store } from './store.js';

/** Options of the DuckDB store. */
export interface DuckDbStoreOptions {
  /** Database file (its folder is created when missing), or `:memory:`. */
  path: string;
}

/** Default and largest page size of queryFindings/queryDecisions. */
export const PAGE_LIMIT = Object.freeze({ default: 100, max: 1000 });
/** Default and largest row count of queryAudit. */
export const AUDIT_LIMIT = Object.freeze({ default: 100, max: 10_000 });

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

const FINDING_COLUMNS = [
  'id', 'schema_version', 'first_seen', 'last_seen', 'detector', 'kind', 'severity', 'severity_rank', 'score',
  'entity_addr', 'entity_namespace', 'entity_pod', 'entity_workload', 'peers', 'summary', 'evidence', 'mitre', 'produced_by',
] as const;

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

const DECISION_COLUMNS = [
  'target', 'schema_version', 'action', 'scope', 'duration_ms', 'expires_at', 'origin', 'reason', 'count', 'dry_run',
  'created_at', 'updated_at',
] as const;

const UPSERT_DECISION_SQL = `INSERT OR REPLACE INTO decisions (${DECISION_COLUMNS.join(', ')}) VALUES (${DECISION_COLUMNS.map(() => '?').join(', ')})`;
const INSERT_AUDIT_SQL = 'INSERT INTO decision_audit (at_ms, target, change, origin, reason, decision) VALUES (?, ?, ?, ?, ?, ?)';

type Row = Record<string, unknown>;

/** Cursor payloads: `t` tells the query kind, `s` the sort time, `k` the tie-breaking key. */
interface CursorData {
  t: 'f' | 'd';
  s: number;
  k: string;
}

function encodeCursor(c: CursorData): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(cursor: string, kind: 'f' | 'd'): CursorData {
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    c = undefined;
  }
  const o = c as Partial<CursorData> | undefined;
  if (!o || typeof o !== 'object' || o.t !== kind || typeof o.s !== 'number' || !Number.isFinite(o.s) || typeof o.k !== 'string') {
    throw new StoreError(STORE_ERROR_CODES.BAD_CURSOR, 'invalid paging cursor');
  }
  return { t: kind, s: o.s, k: o.k };
}

function pageLimit(limit: number | undefined, max: number, dflt: number): number {
  if (limit === undefined) return dflt;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `limit must be an integer in 1..${max}, got ${String(limit)}`);
  }
  return limit;
}

function time(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v)) throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `${name} must be a finite time in ms since epoch`);
  return Math.trunc(v);
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));

function rowToFinding(r: Row): Finding {
  const entity: Finding['entity'] = { addr: r.entity_addr as string };
  if (r.entity_namespace !== null) entity.namespace = r.entity_namespace as string;
  if (r.entity_pod !== null) entity.pod = r.entity_pod as string;
  if (r.entity_workload !== null) entity.workload = r.entity_workload as string;
  const f: Finding = {
    id: r.id as string,
    schema: 1,
    firstSeen: num(r.first_seen),
    lastSeen: num(r.last_seen),
    detector: r.detector as string,
    kind: r.kind as Finding['kind'],
    severity: r.severity as Finding['severity'],
    score: num(r.score),
    entity,
    peers: JSON.parse(r.peers as string) as string[],
    summary: r.summary as string,
    evidence: JSON.parse(r.evidence as string) as Finding['evidence'],
    producedBy: r.produced_by as string,
  };
  if (r.mitre !== null) f.mitre = r.mitre as string;
  return f;
}

function rowToDecision(r: Row): Decision {
  return {
    schema: 1,
    target: r.target as string,
    action: 'block',
    scope: JSON.parse(r.scope as string) as Decision['scope'],
    durationMs: num(r.duration_ms),
    expiresAt: num(r.expires_at),
    origin: r.origin as string,
    reason: r.reason as string,
    count: num(r.count),
    dryRun: r.dry_run as boolean,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function findingValues(f: Finding): DuckDBValue[] {
  return [
    f.id, f.schema, f.firstSeen, f.lastSeen, f.detector, f.kind, f.severity, severityRank(f.severity), f.score,
    f.entity.addr, f.entity.namespace ?? null, f.entity.pod ?? null, f.entity.workload ?? null,
    JSON.stringify(f.peers), f.summary, JSON.stringify(f.evidence), f.mitre ?? null, f.producedBy,
  ];
}

function decisionValues(d: Decision): DuckDBValue[] {
  return [
    d.target, d.schema, d.action, JSON.stringify(d.scope), d.durationMs, d.expiresAt, d.origin, d.reason, d.count,
    d.dryRun, d.createdAt, d.updatedAt,
  ];
}

function auditValues(a: DecisionAudit): DuckDBValue[] {
  return [a.at, a.target, a.change, a.origin, a.reason, a.decision === undefined ? null : JSON.stringify(a.decision)];
}

/** Filter clauses (constant SQL text) and their parameters. */
class Where {
  readonly clauses: string[] = [];
  readonly params: DuckDBValue[] = [];
  add(sql: string, ...params: DuckDBValue[]): void {
    this.clauses.push(sql);
    this.params.push(...params);
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
 * Writes: `insertFlows` appends to a temporary staging table with a DuckDB appender, then
 * moves the rows with `INSERT … ON CONFLICT DO NOTHING` on `dedup_key` (flowDedupKey), in one
 * transaction. Findings upsert by id (first_seen = min, the later last_seen wins the rest);
 * decisions by target, with their audit row in the same transaction. All statements take
 * parameters; no user value is ever part of SQL text.
 *
 * Reads page newest first — findings by (lastSeen, id), decisions by (updatedAt, target), both
 * descending — with an opaque base64url keyset cursor; `total` counts every match of the
 * filters. Operations on one store run one at a time (one connection).
 *
 * @throws StoreError FLOE_STORE_NOT_STARTED before start/after stop, FLOE_STORE_BAD_CURSOR,
 *   FLOE_STORE_BAD_QUERY (limit, severity, times), FLOE_STORE_MIGRATION_FAILED from start.
 */
export function createDuckDbStore(opts: DuckDbStoreOptions): Store {
  let instance: DuckDBInstance | undefined;
  let conn: DuckDBConnection | undefined;
  let starting: Promise<void> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier operation: one connection, one operation at a time. */
  function serial<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = queue.then(() => {
      if (!conn) throw new StoreError(STORE_ERROR_CODES.NOT_STARTED, 'duckdb store: not started');
      return fn(conn);
    });
    queue = run.catch(() => undefined);
    return run;
  }

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

  return {
    name: 'duckdb',

    start(): Promise<void> {
      starting ??= (async () => {
        if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
        instance = await DuckDBInstance.create(opts.path);
        const c = await instance.connect();
        await migrate(c);
        await c.run('CREATE TEMP TABLE IF NOT EXISTS flows_stage AS SELECT * FROM flows LIMIT 0');
        conn = c;
      })();
      return starting;
    },

    async stop(): Promise<void> {
      if (starting) await starting.catch(() => undefined);
      await queue;
      conn?.closeSync();
      instance?.closeSync();
      conn = undefined;
      instance = undefined;
    },

    insertFlows(flows: FlowRecord[]): Promise<void> {
      return serial(async (c) => {
        if (flows.length === 0) return;
        const seen = new Set<string>();
        const a = await c.createAppender('flows_stage', null, 'temp');
        try {
          for (const f of flows) {
            const key = flowDedupKey(f);
            if (seen.has(key)) continue;
            seen.add(key);
            appendFlow(a, key, f);
          }
          a.flushSync();
        } finally {
          a.closeSync();
        }
        await tx(c, async () => {
          await c.run('INSERT INTO flows SELECT * FROM flows_stage ON CONFLICT DO NOTHING');
          await c.run('DELETE FROM flows_stage');
        });
      });
    },

    insertFindings(findings: Finding[]): Promise<void> {
      return serial(async (c) => {
        if (findings.length === 0) return;
        // Merge repeats of one id inside the batch first: one statement may not update a row twice.
        const byId = new Map<string, Finding>();
        for (const f of findings) {
          const prev = byId.get(f.id);
          if (!prev) byId.set(f.id, f);
          else {
            const later = f.lastSeen >= prev.lastSeen ? f : prev;
            byId.set(f.id, { ...later, firstSeen: Math.min(prev.firstSeen, f.firstSeen) });
          }
        }
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

    async queryFindings(q: FindingQuery): Promise<Page<Finding>> {
      const limit = pageLimit(q.limit, PAGE_LIMIT.max, PAGE_LIMIT.default);
      const w = new Where();
      const from = time('from', q.from);
      const to = time('to', q.to);
      if (from !== undefined) w.add('last_seen >= ?', from);
      if (to !== undefined) w.add('last_seen < ?', to);
      if (q.detector !== undefined) w.add('detector = ?', q.detector);
      if (q.entity !== undefined) w.add('entity_addr = ?', q.entity);
      if (q.minSeverity !== undefined) {
        if (!SEVERITIES.includes(q.minSeverity)) {
          throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `unknown severity ${JSON.stringify(q.minSeverity)}`);
        }
        w.add('severity_rank >= ?', severityRank(q.minSeverity));
      }
      const cur = q.cursor === undefined ? undefined : decodeCursor(q.cursor, 'f');
      return serial(async (c) => {
        const total = num((await rows(c, `SELECT count(*) AS n FROM findings ${w.sql()}`, w.params))[0].n);
        const keyset = cur ? '(last_seen < ? OR (last_seen = ? AND id < ?))' : undefined;
        const params = cur ? [...w.params, cur.s, cur.s, cur.k] : [...w.params];
        const got = await rows(c, `SELECT * FROM findings ${w.sql(keyset)} ORDER BY last_seen DESC, id DESC LIMIT ?`, [...params, limit + 1]);
        const items = got.slice(0, limit).map(rowToFinding);
        const page: Page<Finding> = { items, total };
        if (got.length > limit) {
          const last = items[items.length - 1];
          page.next = encodeCursor({ t: 'f', s: last.lastSeen, k: last.id });
        }
        return page;
      });
    },

    async queryDecisions(q: DecisionQuery): Promise<Page<Decision>> {
      const limit = pageLimit(q.limit, PAGE_LIMIT.max, PAGE_LIMIT.default);
      const w = new Where();
      const activeAt = time('activeAt', q.activeAt);
      const expiredAt = time('expiredAt', q.expiredAt);
      const from = time('from', q.from);
      const to = time('to', q.to);
      if (activeAt !== undefined) w.add('expires_at > ?', activeAt);
      if (expiredAt !== undefined) w.add('expires_at <= ?', expiredAt);
      if (q.target !== undefined) w.add('target = ?', q.target);
      if (q.origin !== undefined) w.add('origin = ?', q.origin);
      if (from !== undefined) w.add('updated_at >= ?', from);
      if (to !== undefined) w.add('updated_at < ?', to);
      const cur = q.cursor === undefined ? undefined : decodeCursor(q.cursor, 'd');
      return serial(async (c) => {
        const total = num((await rows(c, `SELECT count(*) AS n FROM decisions ${w.sql()}`, w.params))[0].n);
        const keyset = cur ? '(updated_at < ? OR (updated_at = ? AND target < ?))' : undefined;
        const params = cur ? [...w.params, cur.s, cur.s, cur.k] : [...w.params];
        const got = await rows(c, `SELECT * FROM decisions ${w.sql(keyset)} ORDER BY updated_at DESC, target DESC LIMIT ?`, [...params, limit + 1]);
        const items = got.slice(0, limit).map(rowToDecision);
        const page: Page<Decision> = { items, total };
        if (got.length > limit) {
          const last = items[items.length - 1];
          page.next = encodeCursor({ t: 'd', s: last.updatedAt, k: last.target });
        }
        return page;
      });
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
        return got.map((r) => {
          const a: DecisionAudit = {
            at: num(r.at_ms),
            target: r.target as string,
            change: r.change as DecisionAudit['change'],
            origin: r.origin as string,
            reason: r.reason as string,
          };
          if (r.decision !== null) a.decision = JSON.parse(r.decision as string) as Decision;
          return a;
        });
      });
    },

    countFlows(): Promise<{ flows: number; bytes: number }> {
      return serial(async (c) => {
        const r = (await rows(c, 'SELECT count(*) AS n, coalesce(sum(coalesce(bytes_orig, 0) + coalesce(bytes_reply, 0)), 0) AS b FROM flows', []))[0];
        return { flows: num(r.n), bytes: num(r.b) };
      });
    },
  };
}
