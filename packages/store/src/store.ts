import type { DataGap, DataGapKind, DeadLetter, Decision, DecisionAudit, Finding, FlowRecord, Severity } from '@floe/flow';

/**
 * Store port: flows, findings, decisions and the decision audit (ARCHITECTURE.md).
 * Adapters: DuckDB (`duckdb.ts`, embedded default) and ClickHouse (`clickhouse.ts`, later).
 * Writes are idempotent: inserting the same finding id or decision target twice keeps one row.
 * Times are ms since epoch.
 */
/** readFlows' query: times in ms since epoch. */
export interface FlowScanQuery {
  since?: number;
  until?: number;
  limit?: number;
  cursor?: string;
}

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
  /**
   * Stored flows with `observedAt` in [since, until) (ms), oldest first (by observedAt, then the
   * dedup key), `limit` per page (default 10 000, 1..100 000) after `cursor`; `next` is the cursor
   * of the following page, absent on the last. For retraining the model (`floe train --from-store`).
   * @throws StoreError FLOE_STORE_BAD_CURSOR, FLOE_STORE_BAD_QUERY (limit, times).
   */
  readFlows(q: FlowScanQuery): Promise<{ items: FlowRecord[]; next?: string }>;
  /** Appends dead-lettered messages and records (table `dead_letters`); never de-duplicated. */
  insertDeadLetters(rows: DeadLetterRow[]): Promise<void>;
  /** Dead letters, latest first; `limit` default 100 (1..10000); `reason` filters. */
  queryDeadLetters(q: { reason?: string; limit?: number }): Promise<DeadLetterRow[]>;
  /**
   * Stores DataGap v1 records (table `data_gaps`), idempotent by `gapKey` (node, source, kind,
   * from, to, count, reasons): a redelivered gap is stored once. Gaps must be valid DataGaps (the
   * processor checks them first).
   */
  insertGaps(gaps: DataGap[]): Promise<void>;
  /**
   * Gaps that overlap [from, to) (gap.to >= from and gap.from < to; a gap of one instant at
   * `from` is included), newest `from` first, ties by key; `limit` default 100 (1..1000).
   * @throws StoreError FLOE_STORE_BAD_QUERY (limit, times, unknown kind), FLOE_STORE_BAD_CURSOR.
   */
  queryGaps(q: GapQuery): Promise<Page<DataGap>>;
  /**
   * The completeness of the data in [from, to) (same overlap rule as queryGaps, same filters but
   * no paging): gaps, counts and time lost per node, source and kind, and the totals.
   * @throws StoreError FLOE_STORE_BAD_QUERY (times, unknown kind).
   */
  gapSummary(q: GapSummaryQuery): Promise<GapSummary>;
}

/** Filters of gapSummary (times ms since epoch; `from` inclusive, `to` exclusive). */
export interface GapSummaryQuery {
  from?: number;
  to?: number;
  node?: string;
  source?: string;
  kind?: DataGapKind;
}

/** Filters and paging of queryGaps. */
export interface GapQuery extends GapSummaryQuery {
  limit?: number;
  cursor?: string;
}

/** Gaps of one node, source and kind in a period. */
export interface GapGroup {
  node: string;
  source: string;
  kind: DataGapKind;
  /** Gap records. */
  gaps: number;
  /** Sum of their `count` (enobufs: ENOBUFS warnings; rejected: lines; silent: 0). */
  count: number;
  /** Time they cover inside the period (ms; each gap clipped to [from, to) when given). */
  ms: number;
}

/** What gapSummary returns: how complete the data of a period is. */
export interface GapSummary {
  /** Gap records overlapping the period. */
  gaps: number;
  /** ENOBUFS warnings: the kernel dropped conntrack events (how many each time is not known). */
  enobufsWarnings: number;
  /** Input lines the parsers rejected. */
  rejectedLines: number;
  /** Time live sources were silent, clipped to the period (ms; overlapping silences of two sources both count). */
  silentMs: number;
  /** Per node, source and kind, sorted by node, source, kind. */
  groups: GapGroup[];
}

/**
 * A row of the `dead_letters` table: a DeadLetter (@floe/flow: reason, detail, topic, partition,
 * offset, key, record, payload base64, group, step, at in ms since epoch) whose reason is read
 * back as text (rows written by a newer version may carry reasons this one does not know).
 */
export type DeadLetterRow = Omit<DeadLetter, 'reason'> & { reason: string };

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
  /** Kubernetes namespace, pod and workload of the entity (exact match; set by enrichment). */
  namespace?: string;
  pod?: string;
  workload?: string;
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
  /** Namespace, pod and workload named by the finding the decision came from (its `origin`); a manual block has none and never matches. */
  namespace?: string;
  pod?: string;
  workload?: string;
  /** Inclusive lower and exclusive upper bound on updatedAt (ms since epoch). */
  from?: number;
  to?: number;
  limit?: number;
  cursor?: string;
}
