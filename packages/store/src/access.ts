/**
 * API access records shared by the DuckDB and ClickHouse adapters (issue 8 part 2): API tokens
 * (only a SHA-256 hash of the secret is stored) and the API audit log (every mutating call: who,
 * what, when, from where, result). Types, row mapping and query checks live here so both adapters
 * store and page them the same way; each adapter has its own SQL.
 */
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import { pageArgs, queryTime, toPage, type Filter, type KeysetFetch, type KeysetSource } from './paging.js';
import type { Page } from './store.js';
import { toNumber, type Row } from './rows.js';

/**
 * One API token as stored. `hash` is the lowercase hex SHA-256 of the whole token text; the
 * secret itself is never stored. Times are ms since epoch.
 */
export interface ApiTokenRecord {
  /** Public id (`[a-z0-9]{8,32}`), part of the token text and the key of the row. */
  id: string;
  /** Free label (1..128 printable characters), e.g. `grafana` or `soc-laptop`. */
  name: string;
  /** `viewer`, `analyst` or `admin` (@floe/api checks the value). */
  role: string;
  /** Hex SHA-256 of the token text (64 characters). */
  hash: string;
  createdAt: number;
  /** Who made it: `cli:<user>` or the subject of the admin who called POST /v1/tokens. */
  createdBy: string;
  /** After this instant the token is refused; absent = no expiry. */
  expiresAt?: number;
  /** When it was revoked; absent = not revoked. */
  revokedAt?: number;
}

/** One API audit entry: a mutating call (POST, PUT, PATCH, DELETE) and how it ended. */
export interface ApiAuditEntry {
  /** Unique id (random hex), tie-breaker of the order. */
  id: string;
  /** When the answer was sent, ms since epoch. */
  at: number;
  /** The authenticated identity (`token:<id>`, `config:api.token`, an OIDC `sub`), or `anonymous`. */
  subject: string;
  /** How the identity was established: `token`, `oidc` or `anonymous`. */
  via: string;
  /** The identity's role, absent for a caller without one. */
  role?: string;
  method: string;
  /** Route pattern (`/v1/decisions/:target`), or `unmatched`. */
  route: string;
  /** Request path without the query (escaped, at most 200 characters). */
  path: string;
  /** HTTP status answered. */
  status: number;
  /** Client address as the server saw it. */
  ip: string;
  /** What the handler did (`block`, `unblock`, `token.create`…), when it said (auditMutation). */
  action?: string;
  /** What it acted on (a CIDR, a token id…), when it said. */
  target?: string;
  /** fastify request id. */
  requestId: string;
}

/** Filters and paging of queryApiAudit (times ms since epoch; `from` inclusive, `to` exclusive). */
export interface ApiAuditQuery {
  from?: number;
  to?: number;
  subject?: string;
  method?: string;
  /** Exact HTTP status. */
  status?: number;
  action?: string;
  limit?: number;
  cursor?: string;
}

/**
 * The part of the Store port that holds API access records (DuckDB migration 6, ClickHouse migration 5):
 * tokens and the API audit log.
 */
export interface ApiAccessStore {
  /**
   * Stores a new token. @throws StoreError FLOE_STORE_BAD_QUERY for a malformed record or an id
   * already stored.
   */
  insertApiToken(t: ApiTokenRecord): Promise<void>;
  /** The token with this id (revoked and expired ones included), or undefined. */
  getApiToken(id: string): Promise<ApiTokenRecord | undefined>;
  /** Every token, newest createdAt first (revoked and expired ones included). */
  listApiTokens(): Promise<ApiTokenRecord[]>;
  /** Marks a token revoked at `at` (ms); false when there is no such token or it was revoked already. */
  revokeApiToken(id: string, at: number): Promise<boolean>;
  /** Appends one audit entry (never de-duplicated). */
  appendApiAudit(entry: ApiAuditEntry): Promise<void>;
  /**
   * Audit entries matching the filters, newest first, in pages of `limit` (1..1000, default 100).
   * @throws StoreError FLOE_STORE_BAD_QUERY, FLOE_STORE_BAD_CURSOR.
   */
  queryApiAudit(q: ApiAuditQuery): Promise<Page<ApiAuditEntry>>;
}

/** Column order of `api_tokens` (DuckDB migration 6, ClickHouse migration 5). */
export const API_TOKEN_COLUMNS = ['id', 'name', 'role', 'hash', 'created_at', 'created_by', 'expires_at', 'revoked_at'] as const;
/** Column order of `api_audit` (DuckDB migration 6, ClickHouse migration 5). */
export const API_AUDIT_COLUMNS = ['id', 'at_ms', 'subject', 'via', 'role', 'method', 'route', 'path', 'status', 'ip', 'action', 'target', 'request_id'] as const;

/** The row of a token record. */
export function apiTokenRow(t: ApiTokenRecord): Row {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    hash: t.hash,
    created_at: t.createdAt,
    created_by: t.createdBy,
    expires_at: t.expiresAt ?? null,
    revoked_at: t.revokedAt ?? null,
  };
}

/** The token record of a row (absent optional columns stay absent). */
export function rowToApiToken(r: Row): ApiTokenRecord {
  const t: ApiTokenRecord = {
    id: String(r.id),
    name: String(r.name),
    role: String(r.role),
    hash: String(r.hash),
    createdAt: toNumber(r.created_at),
    createdBy: String(r.created_by),
  };
  if (r.expires_at !== null && r.expires_at !== undefined) t.expiresAt = toNumber(r.expires_at);
  if (r.revoked_at !== null && r.revoked_at !== undefined) t.revokedAt = toNumber(r.revoked_at);
  return t;
}

/** The row of an audit entry. */
export function apiAuditRow(a: ApiAuditEntry): Row {
  return {
    id: a.id,
    at_ms: a.at,
    subject: a.subject,
    via: a.via,
    role: a.role ?? null,
    method: a.method,
    route: a.route,
    path: a.path,
    status: a.status,
    ip: a.ip,
    action: a.action ?? null,
    target: a.target ?? null,
    request_id: a.requestId,
  };
}

/** The audit entry of a row. */
export function rowToApiAudit(r: Row): ApiAuditEntry {
  const a: ApiAuditEntry = {
    id: String(r.id),
    at: toNumber(r.at_ms),
    subject: String(r.subject),
    via: String(r.via),
    method: String(r.method),
    route: String(r.route),
    path: String(r.path),
    status: toNumber(r.status),
    ip: String(r.ip),
    requestId: String(r.request_id),
  };
  if (r.role !== null && r.role !== undefined) a.role = String(r.role);
  if (r.action !== null && r.action !== undefined) a.action = String(r.action);
  if (r.target !== null && r.target !== undefined) a.target = String(r.target);
  return a;
}

/** Token ids: lowercase letters and digits, 8..32 characters. */
export const API_TOKEN_ID_RE = /^[a-z0-9]{8,32}$/;

/**
 * Checks a token record before it is stored.
 * @throws StoreError FLOE_STORE_BAD_QUERY naming the field.
 */
export function checkApiToken(t: ApiTokenRecord): void {
  const bad = (why: string) => new StoreError(STORE_ERROR_CODES.BAD_QUERY, `api token: ${why}`);
  if (!API_TOKEN_ID_RE.test(t.id)) throw bad('id must be 8..32 lowercase letters or digits');
  if (!/^[0-9a-f]{64}$/.test(t.hash)) throw bad('hash must be 64 hex digits (SHA-256)');
  if (typeof t.name !== 'string' || t.name.length < 1 || t.name.length > 128) throw bad('name must be 1..128 characters');
  if (!Number.isSafeInteger(t.createdAt)) throw bad('createdAt must be ms since epoch');
  if (t.expiresAt !== undefined && !Number.isSafeInteger(t.expiresAt)) throw bad('expiresAt must be ms since epoch');
}

/**
 * The checked filters of an audit query: at_ms in [from, to), subject, method, status, action.
 * @throws StoreError FLOE_STORE_BAD_QUERY for a non-finite time or a status outside 100..599.
 */
export function apiAuditFilters(q: ApiAuditQuery): Filter[] {
  const out: Filter[] = [];
  const from = queryTime('from', q.from);
  const to = queryTime('to', q.to);
  if (from !== undefined) out.push({ column: 'at_ms', op: '>=', type: 'Int64', value: from });
  if (to !== undefined) out.push({ column: 'at_ms', op: '<', type: 'Int64', value: to });
  if (q.subject !== undefined) out.push({ column: 'subject', op: '=', type: 'String', value: q.subject });
  if (q.method !== undefined) out.push({ column: 'method', op: '=', type: 'String', value: q.method });
  if (q.action !== undefined) out.push({ column: 'action', op: '=', type: 'String', value: q.action });
  if (q.status !== undefined) {
    if (!Number.isInteger(q.status) || q.status < 100 || q.status > 599) throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, 'status must be an integer 100..599');
    out.push({ column: 'status', op: '=', type: 'Int64', value: q.status });
  }
  return out;
}

const API_AUDIT: KeysetSource = Object.freeze({ table: 'api_audit', sort: 'at_ms', key: 'id' });

/**
 * Store.queryApiAudit over an adapter's keyset read: newest first (at, then id), `total` counts
 * every match, `next` is the cursor of the following page.
 * @throws StoreError FLOE_STORE_BAD_QUERY, FLOE_STORE_BAD_CURSOR (as a rejection).
 */
export async function queryApiAuditPage(q: ApiAuditQuery, fetch: KeysetFetch): Promise<Page<ApiAuditEntry>> {
  const { limit, filters, cursor } = pageArgs(q, 'a', apiAuditFilters);
  const got = await fetch(API_AUDIT, filters, cursor, limit);
  return toPage(got.rows, limit, got.total, rowToApiAudit, (a) => ({ t: 'a', s: a.at, k: a.id }));
}
