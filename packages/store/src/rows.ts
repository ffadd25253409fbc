import type { Decision, DecisionAudit, Finding, FlowRecord } from '@floe/flow';
import type { DeadLetterRow } from './store.js';
import { severityRank } from '@floe/flow';

/**
 * Table rows ↔ Finding / Decision / DecisionAudit, shared by the DuckDB and ClickHouse adapters
 * (both schemas use the same column names: migrations.ts, clickhouse-migrations.ts). Internal to
 * @floe/store (not exported by index.ts).
 */

/** A row as a driver returns it: column name → value. */
export type Row = Record<string, unknown>;

/** A column value as both adapters write it (JSON-encoded text for objects, `null` for absent). */
export type Cell = string | number | boolean | null;

/**
 * A number read from a row. DuckDB returns BIGINT columns as `bigint`; ClickHouse returns 64-bit
 * integers as JSON strings on some servers. Other values pass through as numbers.
 */
export const toNumber = (v: unknown): number => (typeof v === 'bigint' || typeof v === 'string' ? Number(v) : (v as number));

/** Columns of `findings` written for one finding (insert order of the DuckDB upsert). */
export const FINDING_COLUMNS = [
  'id',
  'schema_version',
  'first_seen',
  'last_seen',
  'detector',
  'kind',
  'severity',
  'severity_rank',
  'score',
  'entity_addr',
  'entity_namespace',
  'entity_pod',
  'entity_workload',
  'peers',
  'summary',
  'evidence',
  'mitre',
  'produced_by',
] as const;

/** Columns of `decisions` written for one decision (without ClickHouse's `version`/`is_deleted`). */
export const DECISION_COLUMNS = [
  'target',
  'schema_version',
  'action',
  'scope',
  'duration_ms',
  'expires_at',
  'origin',
  'reason',
  'count',
  'dry_run',
  'created_at',
  'updated_at',
] as const;

/** Columns of `decision_audit` written for one audit entry (`seq` is filled by the database). */
export const AUDIT_COLUMNS = ['at_ms', 'target', 'change', 'origin', 'reason', 'decision'] as const;

/** The `findings` row of a finding: peers and evidence as JSON text, severity_rank 0 info .. 4 critical. */
export function findingRow(f: Finding): Record<(typeof FINDING_COLUMNS)[number], Cell> {
  return {
    id: f.id,
    schema_version: f.schema,
    first_seen: f.firstSeen,
    last_seen: f.lastSeen,
    detector: f.detector,
    kind: f.kind,
    severity: f.severity,
    severity_rank: severityRank(f.severity),
    score: f.score,
    entity_addr: f.entity.addr,
    entity_namespace: f.entity.namespace ?? null,
    entity_pod: f.entity.pod ?? null,
    entity_workload: f.entity.workload ?? null,
    peers: JSON.stringify(f.peers),
    summary: f.summary,
    evidence: JSON.stringify(f.evidence),
    mitre: f.mitre ?? null,
    produced_by: f.producedBy,
  };
}

/** The `decisions` row of a decision: scope as JSON text, times in ms since epoch. */
export function decisionRow(d: Decision): Record<(typeof DECISION_COLUMNS)[number], Cell> {
  return {
    target: d.target,
    schema_version: d.schema,
    action: d.action,
    scope: JSON.stringify(d.scope),
    duration_ms: d.durationMs,
    expires_at: d.expiresAt,
    origin: d.origin,
    reason: d.reason,
    count: d.count,
    dry_run: d.dryRun,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

/** The `decision_audit` row of an audit entry: the decision as JSON text, or `null`. */
export function auditRow(a: DecisionAudit): Record<(typeof AUDIT_COLUMNS)[number], Cell> {
  return {
    at_ms: a.at,
    target: a.target,
    change: a.change,
    origin: a.origin,
    reason: a.reason,
    decision: a.decision === undefined ? null : JSON.stringify(a.decision),
  };
}

/** The Finding of a `findings` row; `null` optional columns become absent fields. */
export function rowToFinding(r: Row): Finding {
  const entity: Finding['entity'] = { addr: r.entity_addr as string };
  if (r.entity_namespace !== null) entity.namespace = r.entity_namespace as string;
  if (r.entity_pod !== null) entity.pod = r.entity_pod as string;
  if (r.entity_workload !== null) entity.workload = r.entity_workload as string;
  const f: Finding = {
    id: r.id as string,
    schema: 1,
    firstSeen: toNumber(r.first_seen),
    lastSeen: toNumber(r.last_seen),
    detector: r.detector as string,
    kind: r.kind as Finding['kind'],
    severity: r.severity as Finding['severity'],
    score: toNumber(r.score),
    entity,
    peers: JSON.parse(r.peers as string) as string[],
    summary: r.summary as string,
    evidence: JSON.parse(r.evidence as string) as Finding['evidence'],
    producedBy: r.produced_by as string,
  };
  if (r.mitre !== null) f.mitre = r.mitre as string;
  return f;
}

/** The Decision of a `decisions` row; `dry_run` may come back as a boolean, 0/1 or `'true'`. */
export function rowToDecision(r: Row): Decision {
  return {
    schema: 1,
    target: r.target as string,
    action: 'block',
    scope: JSON.parse(r.scope as string) as Decision['scope'],
    durationMs: toNumber(r.duration_ms),
    expiresAt: toNumber(r.expires_at),
    origin: r.origin as string,
    reason: r.reason as string,
    count: toNumber(r.count),
    dryRun: r.dry_run === true || r.dry_run === 1 || r.dry_run === 'true',
    createdAt: toNumber(r.created_at),
    updatedAt: toNumber(r.updated_at),
  };
}

/** The DecisionAudit of a `decision_audit` row; a `null` decision becomes an absent field. */
export function rowToAudit(r: Row): DecisionAudit {
  const a: DecisionAudit = {
    at: toNumber(r.at_ms),
    target: r.target as string,
    change: r.change as DecisionAudit['change'],
    origin: r.origin as string,
    reason: r.reason as string,
  };
  if (r.decision !== null) a.decision = JSON.parse(r.decision as string) as Decision;
  return a;
}

/**
 * Two versions of one finding (same id) merged as both adapters store them: the earlier
 * firstSeen, everything else from the one with the later lastSeen (a tie goes to `next`).
 * `prev` undefined returns `next`.
 */
export function mergeFinding(prev: Finding | undefined, next: Finding): Finding {
  if (!prev) return next;
  const later = next.lastSeen >= prev.lastSeen ? next : prev;
  return { ...later, firstSeen: Math.min(prev.firstSeen, next.firstSeen) };
}

/** Columns of `dead_letters` written by both adapters, in table order after `seq`. */
export const DEAD_LETTER_COLUMNS = ['at_ms', 'reason', 'detail', 'topic', 'partition_no', 'offset_no', 'msg_key', 'record_no', 'payload', 'group_id', 'step'] as const;

/** The `dead_letters` row of a dead letter (absent record index as null). */
export function deadLetterRow(d: DeadLetterRow): Row {
  return {
    at_ms: d.at,
    reason: d.reason,
    detail: d.detail,
    topic: d.topic,
    partition_no: d.partition,
    offset_no: d.offset,
    msg_key: d.key,
    record_no: d.record ?? null,
    payload: d.payload,
    group_id: d.group,
    step: d.step,
  };
}

/** The dead letter of a `dead_letters` row (either adapter). */
export function rowToDeadLetter(r: Row): DeadLetterRow {
  const d: DeadLetterRow = {
    schema: 1,
    reason: String(r.reason),
    detail: String(r.detail),
    topic: String(r.topic),
    partition: toNumber(r.partition_no),
    offset: String(r.offset_no),
    key: String(r.msg_key),
    payload: String(r.payload),
    group: String(r.group_id),
    step: String(r.step),
    at: toNumber(r.at_ms),
  };
  if (r.record_no !== null && r.record_no !== undefined) d.record = toNumber(r.record_no);
  return d;
}

/** `flows` columns and the FlowRecord field each holds (both adapters; the text columns src_meta/dst_meta hold JSON). */
export const FLOW_COLUMN_FIELDS: ReadonlyArray<readonly [string, keyof FlowRecord, 'n' | 's' | 'b' | 'j']> = [
  ['observed_at', 'observedAt', 'n'],
  ['start_ms', 'start', 'n'],
  ['end_ms', 'end', 'n'],
  ['node', 'node', 's'],
  ['source', 'source', 's'],
  ['event', 'event', 's'],
  ['family', 'family', 'n'],
  ['protocol', 'protocol', 'n'],
  ['src_addr', 'srcAddr', 's'],
  ['dst_addr', 'dstAddr', 's'],
  ['src_port', 'srcPort', 'n'],
  ['dst_port', 'dstPort', 'n'],
  ['icmp_type', 'icmpType', 'n'],
  ['icmp_code', 'icmpCode', 'n'],
  ['reply_src_addr', 'replySrcAddr', 's'],
  ['reply_dst_addr', 'replyDstAddr', 's'],
  ['reply_src_port', 'replySrcPort', 'n'],
  ['reply_dst_port', 'replyDstPort', 'n'],
  ['bytes_orig', 'bytesOrig', 'n'],
  ['packets_orig', 'packetsOrig', 'n'],
  ['bytes_reply', 'bytesReply', 'n'],
  ['packets_reply', 'packetsReply', 'n'],
  ['state', 'state', 's'],
  ['assured', 'assured', 'b'],
  ['unreplied', 'unreplied', 'b'],
  ['zone', 'zone', 'n'],
  ['mark', 'mark', 'n'],
  ['ct_id', 'ctId', 's'],
  ['log_prefix', 'logPrefix', 's'],
  ['verdict', 'verdict', 's'],
  ['in_iface', 'inIface', 's'],
  ['out_iface', 'outIface', 's'],
  ['direction', 'direction', 's'],
  ['src_meta', 'srcMeta', 'j'],
  ['dst_meta', 'dstMeta', 'j'],
];

/** The FlowRecord of a `flows` row: NULL columns stay absent; booleans may come back as 0/1 or `'true'`. */
export function rowToFlow(r: Row): FlowRecord {
  const f: Record<string, unknown> = { schema: 1 };
  for (const [col, field, kind] of FLOW_COLUMN_FIELDS) {
    const v = r[col];
    if (v === null || v === undefined) continue;
    f[field] = kind === 'n' ? toNumber(v) : kind === 'b' ? v === true || v === 1 || v === 'true' : kind === 'j' ? JSON.parse(v as string) : v;
  }
  return f as unknown as FlowRecord;
}
