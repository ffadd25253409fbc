import type { ReportAggregates, ReportQuery } from './report.js';
import type { ApiAccessStore } from './access.js';
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

/** One outcome to store: a decision with its audit row, or an audit row alone (a refusal). */
export interface DecisionWrite {
  decision?: Decision;
  audit: DecisionAudit;
}

export interface Store extends ApiAccessStore {
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
  /**
   * Several outcomes at once, in order (the processor's decide step, per chunk of a batch): each
   * item with a `decision` is upsertDecision(decision, audit), each without one appendAudit(audit);
   * a target named twice ends with its later decision. DuckDB writes them in one transaction
   * (all or none); ClickHouse in order, each idempotent for a retry.
   */
  writeDecisions(items: ReadonlyArray<DecisionWrite>): Promise<void>;
  /**
   * Findings newest lastSeen first; each carries its current triage (`triage`, absent while
   * never triaged: state open) and its suppression mark (`suppression`) when it has them.
   */
  queryFindings(q: FindingQuery): Promise<Page<StoredFinding>>;
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
  /**
   * Records a triage change of a finding (table `finding_triage`, append-only: the history is
   * kept; the latest row is the current state). Returns false, writing nothing, when no finding
   * has that id.
   */
  triageFinding(t: FindingTriage): Promise<boolean>;
  /**
   * Every triage change of a finding, oldest first (empty when never triaged); undefined when no
   * finding has that id (as triageFinding refuses it).
   */
  triageHistory(findingId: string): Promise<FindingTriage[] | undefined>;
  /**
   * Marks findings as suppressed by a rule (table `finding_suppressions`, one row per finding:
   * a later mark replaces an earlier one). Idempotent.
   */
  markSuppressed(marks: SuppressionMark[]): Promise<void>;
  /** Stores a suppression rule (table `suppressions`), replacing one with the same id. */
  putSuppression(rule: SuppressionRule): Promise<void>;
  /** Deletes a suppression rule; false when there was none. Its marks on findings stay. */
  deleteSuppression(id: string): Promise<boolean>;
  /**
   * Suppression rules, newest first, each with how much it suppressed (findings marked with
   * its id, and the latest mark's time). `activeAt`: only rules expiring after it (ms).
   */
  listSuppressions(q?: { activeAt?: number }): Promise<SuppressionRuleStats[]>;
  /** Adds (or replaces) an entry of the run-time never-block list (table `never_block`). */
  putNeverBlock(entry: NeverBlockEntry): Promise<void>;
  /** Removes a run-time never-block entry by its CIDR; false when there was none. */
  deleteNeverBlock(cidr: string): Promise<boolean>;
  /** The run-time never-block list, oldest first. */
  listNeverBlock(): Promise<NeverBlockEntry[]>;
  /**
   * Counts for a compliance report over [from, to) in a scope (namespaces, zones): flow records,
   * bytes, per hour and direction, and flow groups a policy can judge; findings by severity and
   * detector; block decisions and their durations. Counted in SQL (report.ts), never by loading flows.
   * @throws StoreError FLOE_STORE_BAD_QUERY (times, from >= to, scope lists, groupLimit).
   */
  reportAggregates(q: ReportQuery): Promise<ReportAggregates>;
}

/** Triage states of a finding: `open` until someone triages it. */
export const TRIAGE_STATES = ['open', 'acknowledged', 'resolved', 'false_positive'] as const;
/** One of {@link TRIAGE_STATES}. */
export type TriageState = (typeof TRIAGE_STATES)[number];

/** One triage change: who set which state of which finding, when (ms since epoch) and why. */
export interface FindingTriage {
  findingId: string;
  state: TriageState;
  /** Why (required by the API for false_positive); absent when none was given. */
  reason?: string;
  /** The identity that made the change (API user or token subject). */
  by: string;
  at: number;
}

/** A finding suppressed by a rule at a time (ms since epoch): no alert and no block came of it. */
export interface SuppressionMark {
  findingId: string;
  ruleId: string;
  at: number;
}

/** A finding as the store returns it: with its current triage and suppression mark when it has them. */
export interface StoredFinding extends Finding {
  triage?: Omit<FindingTriage, 'findingId'>;
  suppression?: Omit<SuppressionMark, 'findingId'>;
}

/**
 * A suppression rule: a finding matching every field given (at least one of detector, entity,
 * namespace, port) raises no alert and no block until `expiresAt`. See @floe/respond suppress.ts.
 */
export interface SuppressionRule {
  id: string;
  /** Detector or policy rule id, exactly (`portscan.vertical`). */
  detector?: string;
  /** Address or CIDR (normalised) containing the finding's entity address. */
  entity?: string;
  /** Kubernetes namespace of the finding's entity (or of its flows' source/destination). */
  namespace?: string;
  /** Destination port (1..65535): every destination port in the finding's evidence must be it. */
  port?: number;
  /** ms since epoch. */
  expiresAt: number;
  reason: string;
  createdBy: string;
  createdAt: number;
}

/** A suppression rule with what it suppressed: findings marked with its id, and the latest mark (ms). */
export interface SuppressionRuleStats extends SuppressionRule {
  suppressed: number;
  lastMatchAt?: number;
}

/** An entry of the never-block list added at run time (merged with the policy's `respond.neverBlock`). */
export interface NeverBlockEntry {
  /** Normalised CIDR (`10.0.0.7/32`). */
  cidr: string;
  reason: string;
  createdBy: string;
  createdAt: number;
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
  /** Current triage state (a finding never triaged is `open`). */
  state?: TriageState;
  /** true: only findings marked suppressed; false: only the others. */
  suppressed?: boolean;
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
