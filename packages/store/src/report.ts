import { SEVERITIES, type FlowDirection, type Severity } from '@floe/flow';
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import { queryTime } from './paging.js';
import { toNumber, type Row } from './rows.js';

/**
 * Aggregates for compliance reports (@floe/report), shared by the DuckDB and ClickHouse adapters:
 * the query check, the scope and the row mapping. Each adapter counts in its own SQL (GROUP BY),
 * so no flow is loaded into JavaScript; both give the same numbers (contract suite).
 */

/** One hour (ms): the bucket of the hourly series. */
export const REPORT_BUCKET_MS = 3_600_000;
/** Default and largest number of flow groups reportAggregates returns (the busiest first). */
export const REPORT_GROUP_LIMIT = Object.freeze({ default: 50_000, max: 200_000 });
/** Most namespaces or zones one scope may name. */
export const REPORT_SCOPE_MAX = 100;

/** What reportAggregates counts: times ms since epoch, `from` inclusive, `to` exclusive. */
export interface ReportQuery {
  from: number;
  to: number;
  /**
   * Only flows whose source or destination namespace (srcMeta/dstMeta.namespace) is one of
   * these, and findings whose entity namespace is; absent or empty: every flow and finding.
   */
  namespaces?: string[];
  /** Only flows whose source or destination zone (srcMeta/dstMeta.zone) is one of these; absent or empty: all. */
  zones?: string[];
  /** Most flow groups returned (default 50 000, 1..200 000); `groupsTotal` says how many there were. */
  groupLimit?: number;
}

/**
 * Flows of one (source, destination, protocol, destination port, direction, namespaces, zones):
 * what a policy needs to judge them, with how many flow records and bytes (orig + reply).
 */
export interface ReportFlowGroup {
  srcAddr: string;
  dstAddr: string;
  protocol: number;
  dstPort?: number;
  direction?: FlowDirection;
  srcNamespace?: string;
  dstNamespace?: string;
  srcZone?: string;
  dstZone?: string;
  /** Flow records (rows of `flows`). */
  flows: number;
  /** Sum of bytesOrig + bytesReply (absent counters as 0). */
  bytes: number;
}

/** Findings of one severity and detector. */
export interface ReportFindingCount {
  severity: Severity;
  detector: string;
  findings: number;
  /** Of them, findings a stored block decision names as its origin (the finding was acted on). */
  blocked: number;
}

/**
 * How the findings of a report's period were handled (issue 8 triage): each finding counted once
 * by its current triage state (never triaged = open), and those a suppression rule marked.
 */
export interface ReportTriageCounts {
  open: number;
  acknowledged: number;
  resolved: number;
  falsePositive: number;
  suppressed: number;
}

/** Triage counts from the one row `open, acknowledged, resolved, false_positive, suppressed` of both adapters' query. */
export function triageCounts(row: Row | undefined): ReportTriageCounts {
  return {
    open: toNumber(row?.open ?? 0),
    acknowledged: toNumber(row?.acknowledged ?? 0),
    resolved: toNumber(row?.resolved ?? 0),
    falsePositive: toNumber(row?.false_positive ?? 0),
    suppressed: toNumber(row?.suppressed ?? 0),
  };
}

/** What reportAggregates returns. */
export interface ReportAggregates {
  flows: {
    /** Flow records with observedAt in [from, to) in scope. */
    flows: number;
    bytes: number;
    /** observedAt of the first and last of them (absent when none). */
    first?: number;
    last?: number;
    /** Flow records per hour (start of the hour, ms), hours with flows only, ascending. */
    hourly: Array<{ hour: number; flows: number }>;
    /** Flow records per direction (`unknown` when the flow has none). */
    byDirection: Record<string, number>;
    /** Groups (see ReportFlowGroup), most flows first, ties by addresses, protocol and port. */
    groups: ReportFlowGroup[];
    /** Groups in all (groups.length is smaller when the limit cut them). */
    groupsTotal: number;
  };
  findings: {
    /** Findings active in the period (firstSeen < to and lastSeen >= from) in scope. */
    total: number;
    /** Per severity and detector, severity descending then detector. */
    counts: ReportFindingCount[];
    /** The same findings by current triage state, and how many a suppression rule marked. */
    triage: ReportTriageCounts;
  };
  /**
   * Messages and records the processor dead-lettered (could not handle: undecodable, invalid,
   * a step failed) with `at` in [from, to): input lost to the period's data. Not scoped.
   */
  deadLetters: number;
  decisions: {
    /** Block decisions created in [from, to) (the latest row of each target). */
    total: number;
    dryRun: number;
    /** Sum, shortest and longest durationMs (0 when none). */
    totalDurationMs: number;
    minDurationMs: number;
    maxDurationMs: number;
    /** Blocks per hour of createdAt (start of the hour, ms), ascending. */
    hourly: Array<{ hour: number; blocks: number }>;
  };
}

/** The checked query: integer times, the group limit, scope lists (deduplicated, empty = none). */
export interface CheckedReportQuery {
  from: number;
  to: number;
  namespaces: string[];
  zones: string[];
  groupLimit: number;
}

/**
 * Checks a report query.
 * @throws StoreError FLOE_STORE_BAD_QUERY: a missing or non-finite time, `from >= to`, a group limit
 *   outside 1..200 000, more than 100 namespaces or zones, an empty or non-string name.
 */
export function checkReportQuery(q: ReportQuery): CheckedReportQuery {
  const bad = (m: string): never => {
    throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, m);
  };
  const from = queryTime('from', q.from);
  const to = queryTime('to', q.to);
  if (from === undefined || to === undefined) return bad('a report needs from and to (ms since epoch)');
  if (from >= to) bad(`from (${from}) must be before to (${to})`);
  const limit = q.groupLimit ?? REPORT_GROUP_LIMIT.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > REPORT_GROUP_LIMIT.max) bad(`groupLimit must be an integer 1..${REPORT_GROUP_LIMIT.max}`);
  const list = (name: string, v: string[] | undefined): string[] => {
    const out = [...new Set(v ?? [])];
    if (out.length > REPORT_SCOPE_MAX) bad(`at most ${REPORT_SCOPE_MAX} ${name}`);
    for (const s of out) if (typeof s !== 'string' || s.length === 0 || s.length > 253) bad(`${name} must be names of 1..253 characters`);
    return out;
  };
  return { from, to, namespaces: list('namespaces', q.namespaces), zones: list('zones', q.zones), groupLimit: limit };
}

const opt = (v: unknown): string | undefined => (v === null || v === undefined || v === '' ? undefined : String(v));

/** A flow group row (`src_addr, dst_addr, protocol, dst_port, direction, src_ns, dst_ns, src_zone, dst_zone, flows, bytes`). */
export function rowToGroup(r: Row): ReportFlowGroup {
  const g: ReportFlowGroup = { srcAddr: String(r.src_addr), dstAddr: String(r.dst_addr), protocol: toNumber(r.protocol), flows: toNumber(r.flows), bytes: toNumber(r.bytes) };
  if (r.dst_port !== null && r.dst_port !== undefined) g.dstPort = toNumber(r.dst_port);
  const dir = opt(r.direction);
  if (dir !== undefined) g.direction = dir as FlowDirection;
  const sn = opt(r.src_ns);
  const dn = opt(r.dst_ns);
  const sz = opt(r.src_zone);
  const dz = opt(r.dst_zone);
  if (sn !== undefined) g.srcNamespace = sn;
  if (dn !== undefined) g.dstNamespace = dn;
  if (sz !== undefined) g.srcZone = sz;
  if (dz !== undefined) g.dstZone = dz;
  return g;
}

/** Sort of groups both adapters share: flows descending, then src, dst, protocol, port. */
export function compareGroups(a: ReportFlowGroup, b: ReportFlowGroup): number {
  return (
    b.flows - a.flows ||
    cmp(a.srcAddr, b.srcAddr) ||
    cmp(a.dstAddr, b.dstAddr) ||
    a.protocol - b.protocol ||
    (a.dstPort ?? -1) - (b.dstPort ?? -1) ||
    cmp(a.direction ?? '', b.direction ?? '') ||
    cmp(a.srcNamespace ?? '', b.srcNamespace ?? '') ||
    cmp(a.dstNamespace ?? '', b.dstNamespace ?? '') ||
    cmp(a.srcZone ?? '', b.srcZone ?? '') ||
    cmp(a.dstZone ?? '', b.dstZone ?? '')
  );
}

/** Finding counts from rows `severity, detector, findings, blocked`, severity descending then detector. */
export function findingCounts(rows: Row[], triage?: Row): ReportAggregates['findings'] {
  const counts = rows
    .map((r) => ({ severity: String(r.severity) as Severity, detector: String(r.detector), findings: toNumber(r.findings), blocked: toNumber(r.blocked) }))
    .sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || cmp(a.detector, b.detector));
  return { total: counts.reduce((n, c) => n + c.findings, 0), counts, triage: triageCounts(triage) };
}

/** Hourly series from rows `hour, n`, ascending. */
export function hourly<K extends string>(rows: Row[], key: K): Array<{ hour: number } & Record<K, number>> {
  return rows.map((r) => ({ hour: toNumber(r.hour), [key]: toNumber(r.n) }) as { hour: number } & Record<K, number>).sort((a, b) => a.hour - b.hour);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The rows of both adapters' report queries, as one ReportAggregates: `tot` (n, b, first, last),
 * `hours` and `decisionHours` (hour, n), `dirs` (d, n), flow `groups` (rowToGroup) and their
 * total, `findings` (severity, detector, findings, blocked) with the one `triage` row
 * (findingCounts), the one `decisions` row (n, dry, s, mn, mx) and the dead letters counted.
 * `first`/`last` are set only when flows were counted (min/max of no rows are NULL in DuckDB, 0
 * in ClickHouse).
 */
export function assembleReportAggregates(q: {
  tot: Row;
  hours: Row[];
  dirs: Row[];
  groups: Row[];
  groupsTotal: number;
  findings: Row[];
  triage: Row | undefined;
  decisions: Row;
  decisionHours: Row[];
  deadLetters: number;
}): ReportAggregates {
  const n = toNumber(q.tot.n);
  const flows: ReportAggregates['flows'] = {
    flows: n,
    bytes: toNumber(q.tot.b),
    hourly: hourly(q.hours, 'flows'),
    byDirection: Object.fromEntries(q.dirs.map((d) => [String(d.d), toNumber(d.n)])),
    groups: q.groups.map(rowToGroup).sort(compareGroups),
    groupsTotal: q.groupsTotal,
  };
  if (n > 0) {
    flows.first = toNumber(q.tot.first);
    flows.last = toNumber(q.tot.last);
  }
  const d = q.decisions;
  return {
    flows,
    findings: findingCounts(q.findings, q.triage),
    deadLetters: q.deadLetters,
    decisions: {
      total: toNumber(d.n),
      dryRun: toNumber(d.dry),
      totalDurationMs: toNumber(d.s),
      minDurationMs: toNumber(d.mn),
      maxDurationMs: toNumber(d.mx),
      hourly: hourly(q.decisionHours, 'blocks'),
    },
  };
}
