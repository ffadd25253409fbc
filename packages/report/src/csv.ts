import type { Report } from './model.js';
import { iso } from './build.js';

/**
 * A CSV cell (RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled). A
 * text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so a spreadsheet does
 * not run it as a formula (OWASP "CSV Injection").
 */
export function csvCell(v: string | number): string {
  if (typeof v === 'number') return String(v);
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The report as CSV (RFC 4180, CRLF line ends): one table `section,key,label,value`. Sections:
 * `report` (id, period, scope, completeness), `figure` (every Report.figures entry, the same numbers
 * as the JSON), `control` (status per control), `flows_per_hour`, `findings` (severity/detector),
 * `blocks_per_hour`, `gap` (per node/source/kind), `evidence` (top groups per kind).
 */
export function renderCsv(r: Report): string {
  const rows: Array<[string, string, string, string | number]> = [];
  rows.push(['report', 'id', 'report id', r.id]);
  rows.push(['report', 'title', 'title', r.title]);
  rows.push(['report', 'from', 'period start (UTC)', iso(r.period.from)]);
  rows.push(['report', 'to', 'period end, exclusive (UTC)', iso(r.period.to)]);
  rows.push(['report', 'generated_at', 'generated (UTC)', iso(r.generatedAt)]);
  rows.push(['report', 'cluster', 'cluster', r.scope.cluster ?? '']);
  rows.push(['report', 'namespaces', 'namespaces in scope (empty = all)', r.scope.namespaces.join(' ')]);
  rows.push(['report', 'zones', 'zones in scope (empty = all)', r.scope.zones.join(' ')]);
  rows.push(['report', 'policy_version', 'policy version', r.policy.version]);
  rows.push(['report', 'completeness', r.completeness.statement, r.completeness.status]);
  for (const f of r.figures) rows.push(['figure', f.key, f.label, f.value]);
  for (const c of r.controls) rows.push(['control', `${c.framework} ${c.id}`, c.title, c.status]);
  for (const h of r.traffic.hourly) rows.push(['flows_per_hour', iso(h.hour), 'flow records', h.flows]);
  for (const c of r.findings.counts) {
    rows.push(['findings', `${c.severity}/${c.detector}`, `${c.severity} findings of ${c.detector}`, c.findings]);
    rows.push(['findings_blocked', `${c.severity}/${c.detector}`, `${c.severity} findings of ${c.detector} acted on with a block`, c.blocked]);
  }
  for (const h of r.blocks.hourly) rows.push(['blocks_per_hour', iso(h.hour), 'block decisions', h.blocks]);
  for (const g of r.completeness.gapGroups) rows.push(['gap', `${g.node}/${g.source}/${g.kind}`, `gap records (count ${g.count}, ${g.ms} ms)`, g.gaps]);
  for (const [kind, e] of Object.entries(r.evidence)) {
    for (const g of e.top) rows.push(['evidence', kind, `${g.srcAddr} -> ${g.dstAddr}${g.dstPort !== undefined ? `:${g.dstPort}` : ''}/${g.protocol}`, g.flows]);
  }
  return ['section,key,label,value', ...rows.map((row) => row.map(csvCell).join(','))].join('\r\n') + '\r\n';
}
