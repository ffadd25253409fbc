import PDFDocument from 'pdfkit';
import { iso } from './build.js';
import { niceMax, reportCharts, type ChartSpec } from './charts.js';
import type { Report } from './model.js';
import { duration, num, protoName, STATUS_TEXT, triageLine } from './text.js';

type Doc = PDFKit.PDFDocument;

const MARGIN = 40;
const PAGE_W = 595.28; // A4 (pt)
const PAGE_H = 841.89;
const CONTENT_W = PAGE_W - 2 * MARGIN;
const BANNER: Record<string, { fill: string; stroke: string }> = {
  'no-data': { fill: '#fde2e1', stroke: '#b0192f' },
  incomplete: { fill: '#fff4d6', stroke: '#e0a526' },
  complete: { fill: '#e3f4e6', stroke: '#2f8a3e' },
};
const STATUS_COLOR: Record<string, string> = { 'no-data': '#b0192f', exceptions: '#b0192f', 'no-exceptions': '#2f8a3e', 'not-evaluable': '#666666' };

/**
 * Text the PDF's standard fonts (WinAnsi) can show: other characters become `?`, control
 * characters are dropped. Data text (namespaces, detector names) goes through it.
 */
export function pdfText(s: string): string {
  return s.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '').replace(/[^\n\u0020-\u00ff]/g, '?');
}

/** Starts a new page when fewer than `need` points are left. */
function room(doc: Doc, need: number): void {
  if (doc.y + need > PAGE_H - MARGIN) doc.addPage();
}

function heading(doc: Doc, text: string): void {
  room(doc, 110);
  doc.moveDown(0.6).font('Helvetica-Bold').fontSize(13).fillColor('#222').text(text, MARGIN, doc.y);
  doc
    .moveTo(MARGIN, doc.y + 1)
    .lineTo(MARGIN + CONTENT_W, doc.y + 1)
    .lineWidth(0.5)
    .strokeColor('#999')
    .stroke();
  doc.moveDown(0.4).font('Helvetica').fontSize(9).fillColor('#222');
}

/** A table: columns with widths (pt) and alignment; rows of cell text; wraps cells and pages. */
function table(doc: Doc, cols: Array<{ title: string; width: number; align?: 'left' | 'right'; color?: (row: string[]) => string }>, rows: string[][]): void {
  const pad = 3;
  const drawRow = (all: string[], bold: boolean, row?: string[]) => {
    const cells = all.slice(0, cols.length); // extra cells carry data for `color`
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8.5);
    const heights = cells.map((c, i) => doc.heightOfString(c, { width: cols[i].width - 2 * pad }));
    const h = Math.max(...heights) + 2 * pad;
    if (doc.y + h > PAGE_H - MARGIN) doc.addPage();
    const y = doc.y;
    let x = MARGIN;
    cells.forEach((c, i) => {
      doc.rect(x, y, cols[i].width, h).lineWidth(0.4).strokeColor('#cccccc').stroke();
      doc.fillColor(!bold && row && cols[i].color ? cols[i].color(row) : '#222').text(c, x + pad, y + pad, { width: cols[i].width - 2 * pad, align: cols[i].align ?? 'left' });
      x += cols[i].width;
    });
    doc.x = MARGIN;
    doc.y = y + h;
  };
  drawRow(
    cols.map((c) => c.title),
    true,
  );
  for (const r of rows) drawRow(r.map(pdfText), false, r);
  doc.fillColor('#222').moveDown(0.3);
}

/** A bar chart drawn with vector rectangles and lines (the same spec as the HTML's SVG). */
function barChart(doc: Doc, c: ChartSpec): void {
  const w = CONTENT_W;
  const h = 150;
  room(doc, h + 30);
  const pad = { l: 50, r: 10, t: 18, b: 30 };
  const x0 = MARGIN;
  const y0 = doc.y;
  const iw = w - pad.l - pad.r;
  const ih = h - pad.t - pad.b;
  doc
    .font('Helvetica-Bold')
    .fontSize(10)
    .fillColor('#222')
    .text(c.title, x0 + pad.l, y0, { lineBreak: false });
  doc.font('Helvetica').fontSize(8);
  if (c.bars.length === 0) {
    doc.fillColor('#666').text(c.empty, x0, y0 + h / 2, { width: w, align: 'center', lineBreak: false });
  } else {
    const max = niceMax(Math.max(...c.bars.map((b) => b.value)));
    for (let i = 0; i <= 4; i++) {
      const y = y0 + pad.t + ih - (ih * i) / 4;
      doc
        .moveTo(x0 + pad.l, y)
        .lineTo(x0 + pad.l + iw, y)
        .lineWidth(0.3)
        .strokeColor('#dddddd')
        .stroke();
      doc.fillColor('#444').text(num((max * i) / 4), x0, y - 3, { width: pad.l - 5, align: 'right', lineBreak: false });
    }
    const slot = iw / c.bars.length;
    const bw = Math.max(0.5, Math.min(40, slot * 0.7));
    const every = Math.ceil(c.bars.length / 8);
    c.bars.forEach((b, i) => {
      const bh = (ih * b.value) / max;
      const x = x0 + pad.l + slot * i + (slot - bw) / 2;
      if (bh > 0)
        doc
          .rect(x, y0 + pad.t + ih - bh, bw, bh)
          .fillColor(b.color)
          .fill();
      if (c.bars.length <= 12) doc.fillColor('#222').text(num(b.value), x - 20, y0 + pad.t + ih - bh - 10, { width: bw + 40, align: 'center', lineBreak: false });
      if (i % every === 0) doc.fillColor('#444').text(pdfText(b.label), x - 30, y0 + pad.t + ih + 4, { width: bw + 60, align: 'center', lineBreak: false });
    });
    doc
      .moveTo(x0 + pad.l, y0 + pad.t + ih)
      .lineTo(x0 + pad.l + iw, y0 + pad.t + ih)
      .lineWidth(0.6)
      .strokeColor('#444444')
      .stroke();
    doc.fillColor('#444').text(c.unit, x0 + pad.l, y0 + h - 12, { width: iw, align: 'center', lineBreak: false });
  }
  doc.x = MARGIN;
  doc.y = y0 + h + 8;
}

/**
 * The report as a PDF (pdfkit; A4; standard fonts; charts drawn as vectors). Every figure is a
 * row `key | what | value` of the Figures table, the JSON's numbers with thousands separators.
 */
export function renderPdf(r: Report): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, info: { Title: `${r.title} ${r.id}`, Author: 'floe', Subject: `${iso(r.period.from)} .. ${iso(r.period.to)}` } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const c = r.completeness;

  doc.font('Helvetica-Bold').fontSize(18).fillColor('#222').text(pdfText(r.title));
  doc.font('Helvetica').fontSize(9.5).moveDown(0.2);
  doc.text(`Period ${iso(r.period.from)} to ${iso(r.period.to)} (end exclusive)`);
  doc.text(pdfText(`Scope: cluster ${r.scope.cluster ?? '(this store)'} · namespaces ${r.scope.namespaces.join(', ') || 'all'} · zones ${r.scope.zones.join(', ') || 'all'}`));
  doc.fillColor('#555').text(pdfText(`Report ${r.id} · generated ${iso(r.generatedAt)} · policy ${r.policy.name ?? ''} ${r.policy.version}`));
  doc.moveDown(0.6);

  // the completeness banner: first thing after the header, never confused with a result
  const b = BANNER[c.status];
  doc.font('Helvetica-Bold').fontSize(11);
  const bh = doc.heightOfString(c.statement, { width: CONTENT_W - 20 }) + 16;
  const by = doc.y;
  doc.rect(MARGIN, by, CONTENT_W, bh).lineWidth(1.5).fillAndStroke(b.fill, b.stroke);
  doc.fillColor('#222').text(c.statement, MARGIN + 10, by + 8, { width: CONTENT_W - 20 });
  doc.x = MARGIN;
  doc.y = by + bh + 6;
  doc.font('Helvetica').fontSize(9).fillColor('#222');
  doc.text(
    `${num(r.traffic.flows)} flow records · ${num(c.gaps)} gap records · ${num(c.rejectedLines)} input records rejected · ${num(c.deadLetters)} dead-lettered · ${num(c.enobufsWarnings)} kernel event-loss (ENOBUFS) warnings · collectors silent ${duration(c.silentMs)}${c.groupsTruncated ? ' · flow groups cut: exception counts are lower bounds' : ''}`,
    { width: CONTENT_W },
  );

  heading(doc, 'Controls');
  table(
    doc,
    [
      { title: 'Control', width: 78 },
      { title: 'Requirement, and what flow records can show', width: 210 },
      { title: 'Status', width: 62, color: (row) => STATUS_COLOR[row[4]] ?? '#222' },
      { title: 'Evidence', width: CONTENT_W - 350 },
    ],
    r.controls.map((k) => [`${k.framework} ${k.id}`, `${k.title}. ${k.limits}`, STATUS_TEXT[k.status], k.evidence.map((e) => `${e.key} = ${num(e.value)}`).join('\n'), k.status]),
  );

  heading(doc, 'Figures');
  table(
    doc,
    [
      { title: 'Key', width: 190 },
      { title: 'What', width: 235 },
      { title: 'Value', width: CONTENT_W - 425, align: 'right' },
    ],
    r.figures.map((f) => [f.key, f.label, num(f.value)]),
  );

  heading(doc, 'Charts');
  for (const chart of reportCharts(r)) barChart(doc, chart);

  heading(doc, 'Findings and their handling');
  doc.text(triageLine(r));
  doc.moveDown(0.3);
  if (r.findings.counts.length) {
    table(
      doc,
      [
        { title: 'Severity', width: 80 },
        { title: 'Detector', width: 250 },
        { title: 'Findings', width: 80, align: 'right' },
        { title: 'Acted on with a block', width: CONTENT_W - 410, align: 'right' },
      ],
      r.findings.counts.map((f) => [f.severity, f.detector, num(f.findings), num(f.blocked)]),
    );
  } else doc.text('No findings in this period.');

  heading(doc, 'Blocks');
  doc.text(
    `${num(r.blocks.total)} block decisions (${num(r.blocks.enforced)} enforced, ${num(r.blocks.dryRun)} dry-run); ordered block time ${duration(r.blocks.totalDurationMs)}, shortest ${duration(r.blocks.minDurationMs)}, longest ${duration(r.blocks.maxDurationMs)}.`,
    { width: CONTENT_W },
  );

  const ev = Object.entries(r.evidence).flatMap(([k, e]) =>
    e.top
      .slice(0, 5)
      .map((g) => [
        k,
        `${g.srcAddr}${g.srcNamespace ? ` (${g.srcNamespace})` : ''}`,
        `${g.dstAddr}${g.dstNamespace ? ` (${g.dstNamespace})` : ''}`,
        `${g.dstPort ?? ''}/${protoName(g.protocol)}`,
        num(g.flows),
      ]),
  );
  heading(doc, 'Evidence (busiest flow groups per kind, at most 5)');
  if (ev.length) {
    table(
      doc,
      [
        { title: 'Kind', width: 120 },
        { title: 'Source', width: 125 },
        { title: 'Destination', width: 125 },
        { title: 'Port/proto', width: 70 },
        { title: 'Flows', width: CONTENT_W - 440, align: 'right' },
      ],
      ev,
    );
  } else doc.text('No flow evidence of any kind.');
  const notEval = Object.entries(r.evidence).filter(([, e]) => e.notEvaluable);
  if (notEval.length) {
    doc.moveDown(0.3).font('Helvetica-Bold').text('Not evaluable:').font('Helvetica');
    for (const [k, e] of notEval) doc.text(pdfText(`${k}: ${e.notEvaluable}`), { width: CONTENT_W });
  }

  heading(doc, 'Sources of the control texts');
  for (const s of new Set(r.controls.map((k) => k.source))) doc.text(pdfText(s), { width: CONTENT_W });
  doc.end();
  return done;
}
