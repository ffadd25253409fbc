import { iso } from './build.js';
import { niceMax, reportCharts, type ChartSpec } from './charts.js';
import type { Evidence, Report } from './model.js';
import { duration, html, num, protoName, STATUS_TEXT, triageLine } from './text.js';

const W = 640;
const H = 220;

/** A bar chart as inline SVG (no script, no external reference). */
export function svgBarChart(c: ChartSpec): string {
  const pad = { l: 56, r: 12, t: 28, b: 44 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const parts: string[] = [`<text x="${pad.l}" y="16" font-size="13" font-weight="bold">${html(c.title)}</text>`];
  if (c.bars.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12" fill="#666">${html(c.empty)}</text>`);
  } else {
    const max = niceMax(Math.max(...c.bars.map((b) => b.value)));
    for (let i = 0; i <= 4; i++) {
      const y = pad.t + ih - (ih * i) / 4;
      parts.push(`<line x1="${pad.l}" x2="${pad.l + iw}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
      parts.push(`<text x="${pad.l - 6}" y="${y + 4}" text-anchor="end" font-size="10" fill="#444">${num((max * i) / 4)}</text>`);
    }
    const slot = iw / c.bars.length;
    const bw = Math.max(1, Math.min(48, slot * 0.7));
    const every = Math.ceil(c.bars.length / 8);
    c.bars.forEach((b, i) => {
      const h = (ih * b.value) / max;
      const x = pad.l + slot * i + (slot - bw) / 2;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(pad.t + ih - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${b.color}"><title>${html(b.label)}: ${num(b.value)} ${html(c.unit)}</title></rect>`,
      );
      if (c.bars.length <= 12) parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(pad.t + ih - h - 3).toFixed(1)}" text-anchor="middle" font-size="10">${num(b.value)}</text>`);
      if (i % every === 0) parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${pad.t + ih + 14}" text-anchor="middle" font-size="10" fill="#444">${html(b.label)}</text>`);
    });
    parts.push(`<line x1="${pad.l}" x2="${pad.l + iw}" y1="${pad.t + ih}" y2="${pad.t + ih}" stroke="#444"/>`);
    parts.push(`<text x="${pad.l + iw / 2}" y="${H - 6}" text-anchor="middle" font-size="10" fill="#444">${html(c.unit)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${html(c.title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">${parts.join('')}</svg>`;
}

const CSS = `body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:980px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}.banner{padding:12px 16px;font-size:15px;font-weight:bold;border-radius:4px}
.no-data{background:#fde2e1;border:2px solid #b0192f}.incomplete{background:#fff4d6;border:2px solid #e0a526}.complete{background:#e3f4e6;border:2px solid #2f8a3e}
.st-exceptions{color:#b0192f;font-weight:bold}.st-no-data{color:#b0192f;font-weight:bold}.st-no-exceptions{color:#2f8a3e}.st-not-evaluable{color:#666}
small{color:#555}.charts svg{display:block;margin:12px 0}`;

function evidenceRows(kind: string, e: Evidence): string {
  if (e.top.length === 0) return '';
  return e.top
    .map(
      (g) =>
        `<tr><td>${html(kind)}</td><td>${html(g.srcAddr)}${g.srcNamespace ? ` <small>(${html(g.srcNamespace)})</small>` : ''}</td><td>${html(g.dstAddr)}${g.dstNamespace ? ` <small>(${html(g.dstNamespace)})</small>` : ''}</td><td>${g.dstPort ?? ''}/${protoName(g.protocol)}</td><td class="num">${num(g.flows)}</td></tr>`,
    )
    .join('');
}

/**
 * The report as one self-contained HTML page (no script, no external resource; charts as inline
 * SVG). Every figure is a table row `<tr data-key="KEY">` whose value cell is the JSON's number.
 * All text from data is escaped.
 */
export function renderHtml(r: Report): string {
  const c = r.completeness;
  const scope = [`cluster: ${r.scope.cluster ?? '(this store)'}`, `namespaces: ${r.scope.namespaces.join(', ') || 'all'}`, `zones: ${r.scope.zones.join(', ') || 'all'}`].join(
    ' · ',
  );
  const figures = r.figures.map((f) => `<tr data-key="${html(f.key)}"><td><code>${html(f.key)}</code></td><td>${html(f.label)}</td><td class="num">${f.value}</td></tr>`).join('');
  const controls = r.controls
    .map(
      (k) =>
        `<tr><td>${html(k.framework)} <b>${html(k.id)}</b></td><td>${html(k.title)}<br><small>${html(k.limits)}</small></td><td class="st-${k.status}">${html(STATUS_TEXT[k.status])}</td><td>${k.evidence.map((e) => `<code>${html(e.key)}</code>&nbsp;=&nbsp;${num(e.value)}`).join('<br>')}</td></tr>`,
    )
    .join('');
  const notEval = Object.entries(r.evidence)
    .filter(([, e]) => e.notEvaluable)
    .map(([k, e]) => `<li><b>${html(k)}</b>: ${html(e.notEvaluable as string)}</li>`)
    .join('');
  const gaps = c.gapGroups
    .map(
      (g) =>
        `<tr><td>${html(g.node)}</td><td>${html(g.source)}</td><td>${html(g.kind)}</td><td class="num">${num(g.gaps)}</td><td class="num">${num(g.count)}</td><td>${duration(g.ms)}</td></tr>`,
    )
    .join('');
  const evidence = Object.entries(r.evidence)
    .map(([k, e]) => evidenceRows(k, e))
    .join('');
  const findings = r.findings.counts
    .map((f) => `<tr><td>${html(f.severity)}</td><td>${html(f.detector)}</td><td class="num">${num(f.findings)}</td><td class="num">${num(f.blocked)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${html(r.title)} ${html(r.id)}</title><style>${CSS}</style></head><body>
<h1>${html(r.title)}</h1>
<p>Period <b>${iso(r.period.from)}</b> to <b>${iso(r.period.to)}</b> (end exclusive) · ${html(scope)}<br>
<small>report ${html(r.id)} · generated ${iso(r.generatedAt)} · policy ${html(r.policy.name ?? '')} ${html(r.policy.version)}</small></p>
<div class="banner ${c.status}" data-completeness="${c.status}">${html(c.statement)}</div>
<h2>Data completeness</h2>
<p>${num(r.traffic.flows)} flow records · ${num(c.gaps)} gap records · ${num(c.rejectedLines)} input records rejected · ${num(c.deadLetters)} dead-lettered · ${num(c.enobufsWarnings)} kernel event-loss (ENOBUFS) warnings · collectors silent ${duration(c.silentMs)}${c.groupsTruncated ? ' · flow groups cut: exception counts are lower bounds' : ''}</p>
${gaps ? `<table><tr><th>node</th><th>source</th><th>kind</th><th>gaps</th><th>count</th><th>time lost</th></tr>${gaps}</table>` : ''}
<h2>Controls</h2>
<table><tr><th>control</th><th>requirement and what flows can show</th><th>status</th><th>evidence</th></tr>${controls}</table>
${notEval ? `<p>Not evaluable:</p><ul>${notEval}</ul>` : ''}
<h2>Figures</h2>
<table id="figures"><tr><th>key</th><th>what</th><th>value</th></tr>${figures}</table>
<h2>Charts</h2>
<div class="charts">${reportCharts(r).map(svgBarChart).join('\n')}</div>
<h2>Findings</h2>
<p>${triageLine(r)}</p>
${findings ? `<table><tr><th>severity</th><th>detector</th><th>findings</th><th>acted on with a block</th></tr>${findings}</table>` : '<p>No findings in this period.</p>'}
<h2>Blocks</h2>
<p>${num(r.blocks.total)} block decisions (${num(r.blocks.enforced)} enforced, ${num(r.blocks.dryRun)} dry-run); ordered block time ${duration(r.blocks.totalDurationMs)}, shortest ${duration(r.blocks.minDurationMs)}, longest ${duration(r.blocks.maxDurationMs)}.</p>
<h2>Evidence (busiest flow groups per kind)</h2>
${evidence ? `<table><tr><th>kind</th><th>source</th><th>destination</th><th>port/protocol</th><th>flow records</th></tr>${evidence}</table>` : '<p>No flow evidence of any kind.</p>'}
<h2>Sources of the control texts</h2>
<ul>${[...new Set(r.controls.map((k) => k.source))].map((s) => `<li>${html(s)}</li>`).join('')}</ul>
</body></html>
`;
}
