import { randomBytes } from 'node:crypto';
import { PROTO, SEVERITIES, type FlowRecord, type Severity } from '@floe/flow';
import { BUILTIN_ZONES, CidrSet, type CompiledPolicy } from '@floe/policy';
import type { ReportFlowGroup, Store } from '@floe/store';
import { CONTROLS } from './controls.js';
import { REPORT_ERROR_CODES, ReportError } from './errors.js';
import { EVIDENCE_KINDS, type Completeness, type ControlResult, type Evidence, type EvidenceKind, type Figure, type Report, type ReportScope } from './model.js';

/** Longest period one report covers (ms): 366 days. */
export const MAX_REPORT_RANGE_MS = 366 * 86_400_000;

/**
 * Cloud instance metadata API addresses counted as attempts whatever the policy says: AWS/GCP/Azure
 * 169.254.169.254 (also what metadata.google.internal resolves to: Google Compute Engine
 * "About VM metadata"), and the AWS IPv6 endpoint fd00:ec2::254 (Amazon EC2 User Guide, "Instance
 * metadata service"). The policy's rules.metadataApi.addrs join them.
 */
export const METADATA_API_ADDRS = Object.freeze(['169.254.169.254', 'fd00:ec2::254']);
/** etcd client and peer ports (TCP), Kubernetes "Ports and Protocols". */
export const ETCD_PORTS = Object.freeze([2379, 2380]);
/** Control-plane TCP ports besides etcd: kube-apiserver 6443, kubelet 10250, kube-controller-manager 10257, kube-scheduler 10259 (Kubernetes "Ports and Protocols"). */
export const CONTROL_PLANE_PORTS = Object.freeze([6443, 10250, 10257, 10259]);

/** Figure keys whose non-zero value is an exception to a control. */
const EXCEPTION_FIGURES = new Set([
  'flows.inbound_not_allowed',
  'flows.egress_not_allowed',
  'flows.namespace_boundary',
  'flows.metadata_api_violations',
  'flows.control_plane_ports_outside',
  'flows.etcd_outside',
]);
const EVIDENCE_FIGURE: Record<EvidenceKind, [string, string]> = {
  inbound: ['flows.inbound', 'inbound flow records (untrusted to trusted)'],
  inboundNotAllowed: ['flows.inbound_not_allowed', 'inbound to ports outside the allowed set'],
  outbound: ['flows.outbound', 'outbound flow records (trusted to untrusted)'],
  egressNotAllowed: ['flows.egress_not_allowed', 'egress outside the allow-list'],
  namespaceBoundary: ['flows.namespace_boundary', 'across namespace trust boundaries (not allowed)'],
  zoneCrossings: ['flows.zone_crossings', 'across zones (informational)'],
  metadataApi: ['flows.metadata_api', 'cloud metadata API attempts'],
  metadataApiViolations: ['flows.metadata_api_violations', 'metadata API attempts the policy forbids'],
  controlPlanePortsOutside: ['flows.control_plane_ports_outside', 'control-plane ports from outside the control plane'],
  etcdOutside: ['flows.etcd_outside', 'etcd (2379/2380) from outside the control plane'],
};

/** What buildReport needs besides the store. */
export interface BuildReportOptions {
  /** Period [from, to), ms since epoch. */
  from: number;
  to: number;
  scope?: Partial<ReportScope>;
  /** The compiled policy that judges the flows (its networks, allowed ports, egress allow-list, namespace rules). */
  policy: CompiledPolicy;
  title?: string;
  /** Most flow groups read from the store (default 50 000); more makes the report `incomplete`. */
  groupLimit?: number;
  now?: () => number;
  /** Called before each step (progress on long work). */
  onProgress?: (step: string) => void;
}

/**
 * Checks a period.
 * @throws ReportError FLOE_REPORT_BAD_RANGE: a time that is not finite, from not before to, longer than 366 days.
 */
export function checkRange(from: number, to: number): void {
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new ReportError(REPORT_ERROR_CODES.BAD_RANGE, 'the period needs a from and a to time');
  if (from >= to) throw new ReportError(REPORT_ERROR_CODES.BAD_RANGE, `from (${iso(from)}) must be before to (${iso(to)})`);
  if (to - from > MAX_REPORT_RANGE_MS) throw new ReportError(REPORT_ERROR_CODES.BAD_RANGE, `the period is longer than 366 days (${iso(from)} .. ${iso(to)})`);
}

/**
 * Builds the compliance report of [from, to) in a scope: the store counts (reportAggregates,
 * gapSummary: SQL aggregates, no flow loaded), the policy judges each flow group (one
 * classify/evaluate per group, however many flows it holds), and the controls get their evidence.
 * @throws ReportError FLOE_REPORT_BAD_RANGE, FLOE_REPORT_BAD_SCOPE (a zone the policy does not
 *   define, scope lists the store refuses); store errors propagate.
 */
export async function buildReport(store: Store, o: BuildReportOptions): Promise<Report> {
  checkRange(o.from, o.to);
  const scope: ReportScope = { namespaces: [...new Set(o.scope?.namespaces ?? [])].sort(), zones: [...new Set(o.scope?.zones ?? [])].sort() };
  if (o.scope?.cluster !== undefined) scope.cluster = o.scope.cluster;
  const p = o.policy.policy;
  const known = new Set<string>([...BUILTIN_ZONES, ...Object.keys(p.networks.zones)]);
  for (const z of scope.zones)
    if (!known.has(z)) throw new ReportError(REPORT_ERROR_CODES.BAD_SCOPE, `zone ${JSON.stringify(z).slice(0, 80)} is not one the policy defines (${[...known].join(', ')})`);
  const progress = o.onProgress ?? (() => undefined);

  progress('counting flows, findings and blocks in the store');
  let agg: Awaited<ReturnType<Store['reportAggregates']>>;
  try {
    agg = await store.reportAggregates({ from: o.from, to: o.to, namespaces: scope.namespaces, zones: scope.zones, groupLimit: o.groupLimit });
  } catch (e) {
    if ((e as { code?: string }).code === 'FLOE_STORE_BAD_QUERY') throw new ReportError(REPORT_ERROR_CODES.BAD_SCOPE, (e as Error).message, { cause: e });
    throw e;
  }
  progress('reading the data completeness (gaps)');
  const gaps = await store.gapSummary({ from: o.from, to: o.to });

  progress(`judging ${agg.flows.groups.length} flow groups against policy ${o.policy.version}`);
  const networksDefined = [p.networks.pods, p.networks.services, p.networks.nodes, p.networks.controlPlane, ...Object.values(p.networks.zones)].some((l) => l.length > 0);
  const controlPlane = new CidrSet();
  for (const c of p.networks.controlPlane) controlPlane.add(c);
  const loopback = new CidrSet().add('127.0.0.0/8').add('::1/128');
  const metadata = new CidrSet();
  for (const a of [...METADATA_API_ADDRS, ...p.rules.metadataApi.addrs]) metadata.add(a);

  const acc = Object.fromEntries(EVIDENCE_KINDS.map((k) => [k, [] as ReportFlowGroup[]])) as Record<EvidenceKind, ReportFlowGroup[]>;
  const namespaces = new Set<string>();
  let bothNamespaces = 0;
  for (const g of agg.flows.groups) {
    if (g.srcNamespace !== undefined) namespaces.add(g.srcNamespace);
    if (g.dstNamespace !== undefined) namespaces.add(g.dstNamespace);
    if (g.srcNamespace !== undefined && g.dstNamespace !== undefined) bothNamespaces += g.flows;
    const flow = o.policy.classify(groupFlow(g, o.from));
    const rules = new Set(o.policy.evaluate(flow).map((f) => f.detector));
    const sz = flow.srcMeta?.zone;
    const dz = flow.dstMeta?.zone;
    const fromOutsideCp = !controlPlane.has(g.srcAddr) && !loopback.has(g.srcAddr);
    const tcpPort = g.protocol === PROTO.tcp ? g.dstPort : undefined;
    if (flow.direction === 'ingress') acc.inbound.push(g);
    if (rules.has('policy.ingress-port')) acc.inboundNotAllowed.push(g);
    if (flow.direction === 'egress') acc.outbound.push(g);
    if (rules.has('policy.egress-not-allowed')) acc.egressNotAllowed.push(g);
    if (rules.has('policy.namespace-boundary')) acc.namespaceBoundary.push(g);
    if (sz !== undefined && dz !== undefined && sz !== dz) acc.zoneCrossings.push(g);
    if (metadata.has(g.dstAddr)) acc.metadataApi.push(g);
    if (rules.has('policy.metadata-api')) acc.metadataApiViolations.push(g);
    if (tcpPort !== undefined && CONTROL_PLANE_PORTS.includes(tcpPort) && fromOutsideCp) acc.controlPlanePortsOutside.push(g);
    if (tcpPort !== undefined && ETCD_PORTS.includes(tcpPort) && fromOutsideCp) acc.etcdOutside.push(g);
  }
  const noNetworks = 'the policy defines no networks, so no flow is inbound, outbound or in a zone';
  const why: Partial<Record<EvidenceKind, string>> = {};
  if (!networksDefined) for (const k of ['inbound', 'inboundNotAllowed', 'outbound', 'egressNotAllowed', 'zoneCrossings'] as const) why[k] = noNetworks;
  if (networksDefined && p.egress.allow.length === 0) why.egressNotAllowed = 'the policy has no egress allow-list';
  if (!p.namespaces.enabled) why.namespaceBoundary = 'namespace boundaries are off in the policy (namespaces.enabled: false)';
  else if (bothNamespaces === 0) why.namespaceBoundary = 'no flow carries a namespace at both ends (no enrichment or inventory)';
  if (!p.rules.metadataApi.enabled) why.metadataApiViolations = 'rules.metadataApi is off in the policy';
  const evidence = Object.fromEntries(
    EVIDENCE_KINDS.map((k) => {
      const list = acc[k];
      const e: Evidence = { flows: list.reduce((n, g) => n + g.flows, 0), groups: list.length, top: list.slice(0, 10) };
      if (why[k] !== undefined) e.notEvaluable = why[k];
      return [k, e];
    }),
  ) as Record<EvidenceKind, Evidence>;

  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const c of agg.findings.counts) bySeverity[c.severity] += c.findings;
  const groupsTruncated = agg.flows.groupsTotal > agg.flows.groups.length;
  const completeness = completenessOf(agg.flows.flows, gaps, agg.deadLetters, groupsTruncated);
  const blocks = { ...agg.decisions, enforced: agg.decisions.total - agg.decisions.dryRun };

  const figures: Figure[] = [
    { key: 'flows.total', label: 'flow records in scope', value: agg.flows.flows },
    { key: 'flows.bytes', label: 'bytes (original + reply)', value: agg.flows.bytes },
    ...EVIDENCE_KINDS.map((k) => ({ key: EVIDENCE_FIGURE[k][0], label: EVIDENCE_FIGURE[k][1], value: evidence[k].flows })),
    { key: 'namespaces.seen', label: 'namespaces seen in flows', value: namespaces.size },
    { key: 'findings.total', label: 'findings active in the period', value: agg.findings.total },
    ...[...SEVERITIES].reverse().map((s) => ({ key: `findings.${s}`, label: `${s} findings`, value: bySeverity[s] })),
    { key: 'findings.blocked', label: 'findings acted on with a block', value: agg.findings.counts.reduce((n, c) => n + c.blocked, 0) },
    { key: 'findings.open', label: 'findings not triaged yet (open)', value: agg.findings.triage.open },
    { key: 'findings.acknowledged', label: 'findings acknowledged', value: agg.findings.triage.acknowledged },
    { key: 'findings.resolved', label: 'findings resolved', value: agg.findings.triage.resolved },
    { key: 'findings.false_positive', label: 'findings marked false positive', value: agg.findings.triage.falsePositive },
    { key: 'findings.suppressed', label: 'findings a suppression rule kept from alerts and blocks', value: agg.findings.triage.suppressed },
    { key: 'blocks.total', label: 'block decisions taken', value: blocks.total },
    { key: 'blocks.enforced', label: 'blocks enforced', value: blocks.enforced },
    { key: 'blocks.dry_run', label: 'blocks in dry-run', value: blocks.dryRun },
    { key: 'blocks.duration_ms_total', label: 'block time ordered (ms)', value: blocks.totalDurationMs },
    { key: 'blocks.duration_ms_max', label: 'longest block (ms)', value: blocks.maxDurationMs },
    { key: 'gaps.records', label: 'data gap records', value: gaps.gaps },
    { key: 'gaps.rejected_lines', label: 'input records rejected', value: gaps.rejectedLines },
    { key: 'gaps.dead_letters', label: 'records the processor could not handle', value: agg.deadLetters },
    { key: 'gaps.enobufs_warnings', label: 'kernel event loss (ENOBUFS) warnings', value: gaps.enobufsWarnings },
    { key: 'gaps.silent_ms', label: 'collector silence (ms)', value: gaps.silentMs },
  ];
  const value = new Map(figures.map((f) => [f.key, f.value]));
  const controls = CONTROLS.map((c): ControlResult => {
    const ev = c.figures.map((key) => ({ key, value: value.get(key) ?? 0 }));
    const kinds = EVIDENCE_KINDS.filter((k) => c.figures.includes(EVIDENCE_FIGURE[k][0]));
    let status: ControlResult['status'];
    if (agg.flows.flows === 0) status = 'no-data';
    else if (ev.some((e) => EXCEPTION_FIGURES.has(e.key) && e.value > 0 && !evidence[kindOf(e.key)]?.notEvaluable)) status = 'exceptions';
    // not evaluable: flows cannot show it (CIS 5.3), or the policy can judge none of its exception kinds
    else if (c.framework === 'CIS Kubernetes Benchmark' || (kinds.length > 0 && kinds.every((k) => evidence[k].notEvaluable !== undefined))) status = 'not-evaluable';
    else if (exceptionKinds(kinds).length > 0 && exceptionKinds(kinds).every((k) => evidence[k].notEvaluable !== undefined)) status = 'not-evaluable';
    else status = 'no-exceptions';
    return { framework: c.framework, id: c.id, title: c.title, source: c.source, status, evidence: ev, limits: c.limits };
  });

  const generatedAt = (o.now ?? Date.now)();
  const report: Report = {
    schema: 1,
    id: `rpt-${compact(o.from)}-${compact(o.to)}-${randomBytes(4).toString('hex')}`,
    title: o.title ?? 'floe network compliance report',
    generatedAt,
    period: { from: o.from, to: o.to },
    scope,
    policy: {
      version: o.policy.version,
      networksDefined,
      controlPlaneDefined: p.networks.controlPlane.length > 0,
      egressAllowList: p.egress.allow.length > 0,
    },
    completeness,
    traffic: { flows: agg.flows.flows, bytes: agg.flows.bytes, hourly: agg.flows.hourly, byDirection: agg.flows.byDirection },
    evidence,
    findings: { total: agg.findings.total, bySeverity, counts: agg.findings.counts, blocked: agg.findings.counts.reduce((n, c) => n + c.blocked, 0), triage: agg.findings.triage },
    blocks,
    namespaces: [...namespaces].sort(),
    controls,
    figures,
  };
  if (p.name !== undefined) report.policy.name = p.name;
  if (agg.flows.first !== undefined) report.traffic.first = agg.flows.first;
  if (agg.flows.last !== undefined) report.traffic.last = agg.flows.last;
  return report;
}

function exceptionKinds(kinds: EvidenceKind[]): EvidenceKind[] {
  return kinds.filter((k) => EXCEPTION_FIGURES.has(EVIDENCE_FIGURE[k][0]));
}

function kindOf(figure: string): EvidenceKind {
  return EVIDENCE_KINDS.find((k) => EVIDENCE_FIGURE[k][0] === figure) as EvidenceKind;
}

function completenessOf(flows: number, g: Awaited<ReturnType<Store['gapSummary']>>, deadLetters: number, groupsTruncated: boolean): Completeness {
  const base = { gaps: g.gaps, rejectedLines: g.rejectedLines, deadLetters, enobufsWarnings: g.enobufsWarnings, silentMs: g.silentMs, gapGroups: g.groups, groupsTruncated };
  if (flows === 0) {
    return {
      status: 'no-data',
      statement: 'NO DATA: no flow record was stored for this period and scope. Nothing can be concluded; this is not a compliant result.',
      ...base,
    };
  }
  if (g.gaps > 0 || deadLetters > 0 || groupsTruncated) {
    const parts: string[] = [];
    if (g.rejectedLines > 0) parts.push(`${g.rejectedLines} input records rejected`);
    if (deadLetters > 0) parts.push(`${deadLetters} records the processor could not handle (dead letters)`);
    if (g.enobufsWarnings > 0) parts.push(`${g.enobufsWarnings} kernel event-loss (ENOBUFS) warnings`);
    if (g.silentMs > 0) parts.push(`collectors silent for ${Math.round(g.silentMs / 1000)} s`);
    if (groupsTruncated) parts.push('more flow groups than the report reads (counts of exceptions are lower bounds)');
    if (parts.length === 0) parts.push(`${g.gaps} data gap records`);
    return { status: 'incomplete', statement: `INCOMPLETE DATA: ${parts.join('; ')}. Absence of exceptions is not proof of their absence.`, ...base };
  }
  return {
    status: 'complete',
    statement: 'Complete data: flow records were stored and no gap (rejected or dead-lettered records, event loss, silent collector) was recorded for this period.',
    ...base,
  };
}

/** A flow record standing for a group, for the policy to classify and evaluate. */
function groupFlow(g: ReportFlowGroup, at: number): FlowRecord {
  const f: FlowRecord = {
    schema: 1,
    observedAt: at,
    source: 'file',
    event: 'new',
    family: g.srcAddr.includes(':') ? 6 : 4,
    protocol: g.protocol,
    srcAddr: g.srcAddr,
    dstAddr: g.dstAddr,
  };
  if (g.dstPort !== undefined) f.dstPort = g.dstPort;
  if (g.srcNamespace !== undefined || g.srcZone !== undefined)
    f.srcMeta = { ...(g.srcNamespace !== undefined ? { namespace: g.srcNamespace } : {}), ...(g.srcZone !== undefined ? { zone: g.srcZone } : {}) };
  if (g.dstNamespace !== undefined || g.dstZone !== undefined)
    f.dstMeta = { ...(g.dstNamespace !== undefined ? { namespace: g.dstNamespace } : {}), ...(g.dstZone !== undefined ? { zone: g.dstZone } : {}) };
  return f;
}

/** RFC 3339 UTC text of a time (ms). */
export function iso(t: number): string {
  return Number.isFinite(t) && Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : String(t);
}
const compact = (t: number): string =>
  iso(t)
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
