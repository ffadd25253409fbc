import type { Decision, Finding } from '@floe/flow';
import { normalizeAddr, normalizeCidr, SEVERITIES, severityRank } from '@floe/flow';
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import { rowToDecision, rowToFinding, rowToFlow, toNumber, type Row } from './rows.js';
import { TRIAGE_STATES, type DecisionQuery, type FindingQuery, type FlowScanQuery, type Page } from './store.js';
import type { FlowRecord } from '@floe/flow';

/**
 * Query checks, filters, keyset cursors and pages shared by the DuckDB and ClickHouse adapters,
 * so both accept and reject the same queries and produce the same cursors. Each adapter renders
 * the filters in its own SQL dialect. Internal to @floe/store, except the limits (re-exported by
 * duckdb.ts).
 */

/** Default and largest page size of queryFindings/queryDecisions. */
export const PAGE_LIMIT = Object.freeze({ default: 100, max: 1000 });
/** Default and largest row count of queryAudit. */
export const AUDIT_LIMIT = Object.freeze({ default: 100, max: 10_000 });

/** Default and largest page of readFlows (rows). */
export const FLOW_SCAN_LIMIT = Object.freeze({ default: 10_000, max: 100_000 });

/**
 * Fetches up to `limit` flows rows matching `filters`, after (`observed_at`, `dedup_key`) = `after`
 * when given, ordered by both ascending: each adapter's own SQL, in its operation queue.
 */
export type FlowScanFetch = (filters: Filter[], after: { s: number; k: string } | undefined, limit: number) => Promise<Row[]>;

/**
 * One page of readFlows, shared by the adapters: checks the query, fetches `limit + 1` rows to
 * know whether a next page exists, and makes its cursor from the last row returned.
 * @throws StoreError FLOE_STORE_BAD_QUERY (limit, times), FLOE_STORE_BAD_CURSOR.
 */
export async function readFlowPage(q: FlowScanQuery, fetch: FlowScanFetch): Promise<{ items: FlowRecord[]; next?: string }> {
  const limit = pageLimit(q.limit, FLOW_SCAN_LIMIT.max, FLOW_SCAN_LIMIT.default);
  const filters: Filter[] = [];
  const since = queryTime('since', q.since);
  const until = queryTime('until', q.until);
  if (since !== undefined) filters.push({ column: 'observed_at', op: '>=', type: 'Int64', value: since });
  if (until !== undefined) filters.push({ column: 'observed_at', op: '<', type: 'Int64', value: until });
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, 'l');
  const rows = await fetch(filters, after, limit + 1);
  const page = rows.slice(0, limit);
  const out: { items: FlowRecord[]; next?: string } = { items: page.map(rowToFlow) };
  if (rows.length > limit) {
    const last = page[page.length - 1];
    out.next = encodeCursor({ t: 'l', s: toNumber(last.observed_at), k: String(last.dedup_key) });
  }
  return out;
}

/** Cursor payloads: `t` tells the query kind, `s` the sort time (ms), `k` the tie-breaking key. */
export interface CursorData {
  t: 'f' | 'd' | 'g' | 'l' | 'a';
  s: number;
  k: string;
}

/**
 * Bounds of a cursor's fields: `s` an integer within the ECMAScript Date range (±8.64e15 ms, so
 * it fits Int64 and a JS number exactly); `k` 1..256 printable ASCII characters (finding ids
 * and decision targets are); the whole cursor text at most 1024 characters.
 */
export const CURSOR_LIMITS = Object.freeze({ maxAbsTime: 8.64e15, maxKeyLength: 256, maxTextLength: 1024 });

/** The opaque cursor text of `c`: base64url of its JSON. */
export function encodeCursor(c: CursorData): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/**
 * The payload of a cursor made by encodeCursor for query kind `kind`. Anything else — not
 * base64url, not JSON, another kind, a time that is not an integer in CURSOR_LIMITS (`1e300`,
 * `1.5`, a string), a key that is not printable ASCII — is refused, never handed to SQL.
 * @throws StoreError FLOE_STORE_BAD_CURSOR when it is not such a cursor.
 */
export function decodeCursor(cursor: string, kind: CursorData['t']): CursorData {
  const bad = (why: string) => new StoreError(STORE_ERROR_CODES.BAD_CURSOR, `invalid paging cursor: ${why}; pass back the \`next\` of the previous page`);
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > CURSOR_LIMITS.maxTextLength || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('not base64url text');
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor');
  }
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw bad('not a cursor');
  const o = c as Record<string, unknown>;
  if (o.t !== kind) throw bad('made for another query');
  const s = o.s;
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || Math.abs(s) > CURSOR_LIMITS.maxAbsTime) throw bad('time out of range');
  const k = o.k;
  if (typeof k !== 'string' || k.length === 0 || k.length > CURSOR_LIMITS.maxKeyLength || !/^[\x20-\x7e]+$/.test(k)) throw bad('bad key');
  return { t: kind, s, k };
}

/**
 * The row limit of a query: `dflt` when absent.
 * @throws StoreError FLOE_STORE_BAD_QUERY unless an integer in 1..max.
 */
export function pageLimit(limit: number | undefined, max: number, dflt: number): number {
  if (limit === undefined) return dflt;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `limit must be an integer in 1..${max}, got ${String(limit)}`);
  }
  return limit;
}

/**
 * A query time (ms since epoch) truncated to an integer; undefined stays undefined.
 * @throws StoreError FLOE_STORE_BAD_QUERY naming `name` when not finite.
 */
export function queryTime(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v)) throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `${name} must be a finite time in ms since epoch`);
  return Math.trunc(v);
}

/**
 * One filter of a query: `column op value`. `type` is the column's ClickHouse type, used for its
 * `{name:Type}` parameter (DuckDB binds the value as it is).
 */
export interface Filter {
  column: string;
  op: '=' | '<' | '<=' | '>' | '>=';
  type: 'Int64' | 'String' | 'UInt8';
  value: number | string;
  /**
   * Constant SQL (the same in both dialects) replacing `column op ?`; its one `?` is where the
   * value's parameter goes. For filters on another table (a finding's triage state).
   */
  expr?: string;
  /**
   * `origin-finding`: the condition is on the `findings` row the decision came from, rendered
   * `origin IN (SELECT id FROM findings WHERE column op ?)` (decisions by the namespace, pod or
   * workload their finding names).
   */
  via?: 'origin-finding';
}

/** The SQL text of one filter with `?` for its value (both adapters; constant text, never input). */
export function filterSql(f: Filter): string {
  const cond = `${f.column} ${f.op} ?`;
  return f.via === 'origin-finding' ? `origin IN (SELECT id FROM findings WHERE ${cond})` : cond;
}

/** Kubernetes identity filters of findings and decisions (FindingQuery / DecisionQuery namespace, pod, workload) and their `findings` columns. */
const ENTITY_FILTERS = [
  ['namespace', 'entity_namespace'],
  ['pod', 'entity_pod'],
  ['workload', 'entity_workload'],
] as const;

function entityFilters(q: { namespace?: string; pod?: string; workload?: string }, via?: 'origin-finding'): Filter[] {
  const out: Filter[] = [];
  for (const [key, column] of ENTITY_FILTERS) {
    const v = q[key];
    if (v !== undefined) out.push({ column, op: '=', type: 'String', value: v, ...(via ? { via } : {}) });
  }
  return out;
}

/**
 * The filters of a finding query, checked: lastSeen in [from, to), detector, entity address
 * (normalised by @floe/flow's normalizeAddr when it is an address, as stored findings are;
 * other text is matched as it is), severity_rank >= rank of minSeverity, and the entity's
 * Kubernetes namespace, pod and workload.
 * @throws StoreError FLOE_STORE_BAD_QUERY for a non-finite time or an unknown severity.
 */
export function findingFilters(q: FindingQuery): Filter[] {
  const out: Filter[] = [];
  const from = queryTime('from', q.from);
  const to = queryTime('to', q.to);
  if (from !== undefined) out.push({ column: 'last_seen', op: '>=', type: 'Int64', value: from });
  if (to !== undefined) out.push({ column: 'last_seen', op: '<', type: 'Int64', value: to });
  if (q.detector !== undefined) out.push({ column: 'detector', op: '=', type: 'String', value: q.detector });
  if (q.entity !== undefined) out.push({ column: 'entity_addr', op: '=', type: 'String', value: normalizeAddr(q.entity)?.addr ?? q.entity });
  if (q.minSeverity !== undefined) {
    if (!SEVERITIES.includes(q.minSeverity)) {
      throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `unknown severity ${JSON.stringify(q.minSeverity)}`);
    }
    out.push({ column: 'severity_rank', op: '>=', type: 'UInt8', value: severityRank(q.minSeverity) });
  }
  if (q.state !== undefined) {
    if (!TRIAGE_STATES.includes(q.state)) throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `unknown triage state ${JSON.stringify(q.state)}`);
    out.push({ column: 'id', op: '=', type: 'String', value: q.state, expr: q.state === 'open' ? TRIAGE_OPEN_SQL : TRIAGE_STATE_SQL });
  }
  if (q.suppressed !== undefined) {
    out.push({ column: 'id', op: '=', type: 'String', value: '', expr: q.suppressed ? SUPPRESSED_SQL : NOT_SUPPRESSED_SQL });
  }
  out.push(...entityFilters(q));
  return out;
}

/**
 * A finding's current triage state is that of its latest `finding_triage` row (highest `seq`);
 * `argMax` is ClickHouse's name and a DuckDB alias of `arg_max`. Never triaged = open, so
 * `open` matches findings with no row or a latest row saying open.
 */
const TRIAGE_STATE_SQL = 'id IN (SELECT finding_id FROM finding_triage GROUP BY finding_id HAVING argMax(state, seq) = ?)';
const TRIAGE_OPEN_SQL = 'id NOT IN (SELECT finding_id FROM finding_triage GROUP BY finding_id HAVING argMax(state, seq) <> ?)';
/** Suppressed or not (the value is unused: `? = ''` keeps one parameter per filter). */
const SUPPRESSED_SQL = "(id IN (SELECT finding_id FROM finding_suppressions) AND ? = '')";
const NOT_SUPPRESSED_SQL = "(id NOT IN (SELECT finding_id FROM finding_suppressions) AND ? = '')";

/**
 * The filters of a decision query, checked: active at `activeAt` (expires_at > it), expired at
 * `expiredAt` (expires_at <= it), target (normalised by @floe/flow's normalizeCidr when it is
 * an address or prefix, as stored decisions are; other text is matched as it is), origin,
 * updatedAt in [from, to), and the namespace, pod and workload of the finding the decision came from.
 * @throws StoreError FLOE_STORE_BAD_QUERY for a non-finite time.
 */
export function decisionFilters(q: DecisionQuery): Filter[] {
  const out: Filter[] = [];
  const activeAt = queryTime('activeAt', q.activeAt);
  const expiredAt = queryTime('expiredAt', q.expiredAt);
  const from = queryTime('from', q.from);
  const to = queryTime('to', q.to);
  if (activeAt !== undefined) out.push({ column: 'expires_at', op: '>', type: 'Int64', value: activeAt });
  if (expiredAt !== undefined) out.push({ column: 'expires_at', op: '<=', type: 'Int64', value: expiredAt });
  if (q.target !== undefined) out.push({ column: 'target', op: '=', type: 'String', value: normalizeCidr(q.target) ?? q.target });
  if (q.origin !== undefined) out.push({ column: 'origin', op: '=', type: 'String', value: q.origin });
  if (from !== undefined) out.push({ column: 'updated_at', op: '>=', type: 'Int64', value: from });
  if (to !== undefined) out.push({ column: 'updated_at', op: '<', type: 'Int64', value: to });
  out.push(...entityFilters(q, 'origin-finding'));
  return out;
}

/**
 * The checked arguments of a page query of kind `kind` ('f' findings, 'd' decisions, 'g' gaps): its limit
 * (PAGE_LIMIT), its filters from `filtersOf`, its cursor's payload, checked in that order.
 * @throws StoreError FLOE_STORE_BAD_QUERY, FLOE_STORE_BAD_CURSOR.
 */
export function pageArgs<Q extends { limit?: number; cursor?: string }>(
  q: Q,
  kind: CursorData['t'],
  filtersOf: (q: Q) => Filter[],
): { limit: number; filters: Filter[]; cursor: CursorData | undefined } {
  const limit = pageLimit(q.limit, PAGE_LIMIT.max, PAGE_LIMIT.default);
  const filters = filtersOf(q);
  const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor, kind);
  return { limit, filters, cursor };
}

/**
 * A page from the rows of a keyset query that asked for `limit + 1` rows: the first `limit`
 * mapped by `map`, `total`, and `next` (the cursor of the last item) when a row was left over.
 */
export function toPage<R, T>(got: R[], limit: number, total: number, map: (r: R) => T, cursorOf: (last: T) => CursorData): Page<T> {
  const items = got.slice(0, limit).map(map);
  const page: Page<T> = { items, total };
  if (got.length > limit) page.next = encodeCursor(cursorOf(items[items.length - 1]));
  return page;
}

/** Cursor of the last finding of a page (findings sort by lastSeen, then id). */
export const findingCursor = (f: { lastSeen: number; id: string }): CursorData => ({ t: 'f', s: f.lastSeen, k: f.id });
/** Cursor of the last decision of a page (decisions sort by updatedAt, then target). */
export const decisionCursor = (d: { updatedAt: number; target: string }): CursorData => ({ t: 'd', s: d.updatedAt, k: d.target });

/** Where a keyset page is read: the table, its sort column (ms since epoch) and its tie-breaking key column. */
export interface KeysetSource {
  table: 'findings' | 'decisions' | 'data_gaps' | 'api_audit';
  sort: 'last_seen' | 'updated_at' | 'from_ms' | 'at_ms';
  key: 'id' | 'target' | 'gap_key';
}

/**
 * An adapter's keyset read: the count of `src.table` rows matching `filters`, and up to
 * `limit + 1` of them after `cursor` (sort < cursor.s, or equal and key < cursor.k), ordered
 * by (sort, key) descending.
 */
export type KeysetFetch = (src: KeysetSource, filters: Filter[], cursor: CursorData | undefined, limit: number) => Promise<{ total: number; rows: Row[] }>;

const FINDINGS: KeysetSource = Object.freeze({ table: 'findings', sort: 'last_seen', key: 'id' });
const DECISIONS: KeysetSource = Object.freeze({ table: 'decisions', sort: 'updated_at', key: 'target' });

/**
 * Store.queryFindings over an adapter's keyset read: newest lastSeen first, ties by id.
 * @throws StoreError FLOE_STORE_BAD_QUERY, FLOE_STORE_BAD_CURSOR (as a rejection).
 */
export async function queryFindingPage(q: FindingQuery, fetch: KeysetFetch): Promise<Page<Finding>> {
  const { limit, filters, cursor } = pageArgs(q, 'f', findingFilters);
  const got = await fetch(FINDINGS, filters, cursor, limit);
  return toPage(got.rows, limit, got.total, rowToFinding, findingCursor);
}

/**
 * Store.queryDecisions over an adapter's keyset read: newest updatedAt first, ties by target.
 * @throws StoreError FLOE_STORE_BAD_QUERY, FLOE_STORE_BAD_CURSOR (as a rejection).
 */
export async function queryDecisionPage(q: DecisionQuery, fetch: KeysetFetch): Promise<Page<Decision>> {
  const { limit, filters, cursor } = pageArgs(q, 'd', decisionFilters);
  const got = await fetch(DECISIONS, filters, cursor, limit);
  return toPage(got.rows, limit, got.total, rowToDecision, decisionCursor);
}
