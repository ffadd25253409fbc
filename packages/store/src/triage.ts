/**
 * Rows of the triage and suppression tables (`finding_triage`, `finding_suppressions`,
 * `suppressions`, `never_block`: DuckDB migration 5, ClickHouse migration 4) ↔ objects, and the
 * attaching of triage and suppression marks to a page of findings. Shared by both adapters, which
 * keep their own SQL. Internal to @floe/store.
 */
import type { Finding } from '@floe/flow';
import { toNumber, type Row } from './rows.js';
import type { FindingTriage, NeverBlockEntry, Page, StoredFinding, SuppressionMark, SuppressionRule, SuppressionRuleStats, TriageState } from './store.js';

/** Columns written for one triage change (`seq` is filled by the database). */
export const TRIAGE_COLUMNS = ['finding_id', 'state', 'reason', 'by_user', 'at_ms'] as const;
/** Columns of `finding_suppressions`. */
export const MARK_COLUMNS = ['finding_id', 'rule_id', 'at_ms'] as const;
/** Columns of `suppressions` (without ClickHouse's `version`/`is_deleted`). */
export const SUPPRESSION_COLUMNS = ['id', 'detector', 'entity', 'namespace', 'port', 'expires_at', 'reason', 'created_by', 'created_at'] as const;
/** Columns of `never_block` (without ClickHouse's `version`/`is_deleted`). */
export const NEVER_BLOCK_COLUMNS = ['cidr', 'reason', 'created_by', 'created_at'] as const;

type Cell = string | number | null;

/** The `finding_triage` row of a change. */
export function triageRow(t: FindingTriage): Record<(typeof TRIAGE_COLUMNS)[number], Cell> {
  return { finding_id: t.findingId, state: t.state, reason: t.reason ?? null, by_user: t.by, at_ms: t.at };
}

/** The change of a `finding_triage` row (a `null` reason becomes absent). */
export function rowToTriage(r: Row): FindingTriage {
  const t: FindingTriage = { findingId: String(r.finding_id), state: r.state as TriageState, by: String(r.by_user), at: toNumber(r.at_ms) };
  if (r.reason !== null && r.reason !== undefined) t.reason = String(r.reason);
  return t;
}

/** The `finding_suppressions` row of a mark. */
export function markRow(m: SuppressionMark): Record<(typeof MARK_COLUMNS)[number], Cell> {
  return { finding_id: m.findingId, rule_id: m.ruleId, at_ms: m.at };
}

/** The `suppressions` row of a rule (absent fields as null). */
export function suppressionRow(s: SuppressionRule): Record<(typeof SUPPRESSION_COLUMNS)[number], Cell> {
  return {
    id: s.id,
    detector: s.detector ?? null,
    entity: s.entity ?? null,
    namespace: s.namespace ?? null,
    port: s.port ?? null,
    expires_at: s.expiresAt,
    reason: s.reason,
    created_by: s.createdBy,
    created_at: s.createdAt,
  };
}

/** A rule and its counts from a `suppressions` row joined with `suppressed` and `last_match`. */
export function rowToSuppression(r: Row): SuppressionRuleStats {
  const s: SuppressionRuleStats = {
    id: String(r.id),
    expiresAt: toNumber(r.expires_at),
    reason: String(r.reason),
    createdBy: String(r.created_by),
    createdAt: toNumber(r.created_at),
    suppressed: toNumber(r.suppressed ?? 0),
  };
  if (r.detector !== null && r.detector !== undefined) s.detector = String(r.detector);
  if (r.entity !== null && r.entity !== undefined) s.entity = String(r.entity);
  if (r.namespace !== null && r.namespace !== undefined) s.namespace = String(r.namespace);
  if (r.port !== null && r.port !== undefined) s.port = toNumber(r.port);
  const last = r.last_match === null || r.last_match === undefined ? 0 : toNumber(r.last_match);
  if (s.suppressed > 0 && last > 0) s.lastMatchAt = last;
  return s;
}

/** The `never_block` row of an entry. */
export function neverBlockRow(e: NeverBlockEntry): Record<(typeof NEVER_BLOCK_COLUMNS)[number], Cell> {
  return { cidr: e.cidr, reason: e.reason, created_by: e.createdBy, created_at: e.createdAt };
}

/** The entry of a `never_block` row. */
export function rowToNeverBlock(r: Row): NeverBlockEntry {
  return { cidr: String(r.cidr), reason: String(r.reason), createdBy: String(r.created_by), createdAt: toNumber(r.created_at) };
}

/**
 * Current triage per finding: the latest row (highest `seq`) of each id, as `SELECT finding_id,
 * argMax(state, seq) AS state, …` returns it.
 */
export const CURRENT_TRIAGE_SELECT =
  'SELECT finding_id, argMax(state, seq) AS state, argMax(reason, seq) AS reason, argMax(by_user, seq) AS by_user, argMax(at_ms, seq) AS at_ms FROM finding_triage';

/**
 * A page of findings with their current triage and suppression mark attached (from rows of
 * {@link CURRENT_TRIAGE_SELECT} and of `finding_suppressions` for the page's ids).
 */
export function attachTriage(page: Page<Finding>, triage: Row[], marks: Row[]): Page<StoredFinding> {
  const t = new Map(triage.map((r) => [String(r.finding_id), rowToTriage(r)]));
  const m = new Map<string, SuppressionMark>();
  for (const r of marks) {
    const mark = { findingId: String(r.finding_id), ruleId: String(r.rule_id), at: toNumber(r.at_ms) };
    const prev = m.get(mark.findingId);
    if (!prev || prev.at <= mark.at) m.set(mark.findingId, mark);
  }
  const items = page.items.map((f): StoredFinding => {
    const out: StoredFinding = { ...f };
    const tr = t.get(f.id);
    if (tr) {
      const { findingId: _, ...rest } = tr;
      out.triage = rest;
    }
    const mk = m.get(f.id);
    if (mk) out.suppression = { ruleId: mk.ruleId, at: mk.at };
    return out;
  });
  return { ...page, items };
}
