import type { Decision, DecisionAudit, Finding, FlowRecord, Severity } from '@floe/flow';

/**
 * Store port: flows, findings, decisions and the decision audit (ARCHITECTURE.md).
 * Adapters: DuckDB (`duckdb.ts`, embedded default) and ClickHouse (`clickhouse.ts`, later).
 * Writes are idempotent: inserting the same finding id or decision target twice keeps one row.
 * Times are ms since epoch.
 */
export interface Store {
  readonly name: string;
  /** Opens the database and applies pending migrations. Safe twice. */
  start(): Promise<void>;
  stop(): Promise<void>;
  insertFlows(flows: FlowRecord[]): Promise<void>;
  insertFindings(findings: Finding[]): Promise<void>;
  /** Insert or replace the decision for its target, and append an audit row. */
  upsertDecision(decision: Decision, audit: DecisionAudit): Promise<void>;
  /** Remove the decision for a target (unblock) and append an audit row. Returns false when none existed. */
  deleteDecision(target: string, audit: DecisionAudit): Promise<boolean>;
  /** Append an audit row alone (refusals). */
  appendAudit(audit: DecisionAudit): Promise<void>;
  queryFindings(q: FindingQuery): Promise<Page<Finding>>;
  queryDecisions(q: DecisionQuery): Promise<Page<Decision>>;
  getDecision(target: string): Promise<Decision | undefined>;
  /** Audit rows, latest appended first; `limit` default 100 (1..10000). */
  queryAudit(q: { target?: string; limit?: number }): Promise<DecisionAudit[]>;
  /** Counts for summaries and tests. */
  countFlows(): Promise<{ flows: number; bytes: number }>;
}

/** Page of results; `next` is an opaque cursor for the following page, absent on the last. */
export interface Page<T> {
  items: T[];
  next?: string;
  total: number;
}

export interface FindingQuery {
  /** Inclusive lower and exclusive upper bound on lastSeen (ms since epoch). */
  from?: number;
  to?: number;
  detector?: string;
  entity?: string;
  minSeverity?: Severity;
  limit?: number;
  cursor?: string;
}

export interface DecisionQuery {
  /** Only decisions whose expiresAt is after this time (ms since epoch): the active ones. */
  activeAt?: number;
  /** Only decisions whose expiresAt is at or before this time (ms since epoch): the expired ones. Optional addition. */
  expiredAt?: number;
  target?: string;
  origin?: string;
  /** Inclusive lower and exclusive upper bound on updatedAt (ms since epoch). */
  from?: number;
  to?: number;
  limit?: number;
  cursor?: string;
}
