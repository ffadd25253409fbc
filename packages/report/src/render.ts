import { renderCsv } from './csv.js';
import { REPORT_ERROR_CODES, ReportError } from './errors.js';
import { renderHtml } from './html.js';
import type { Report } from './model.js';
import { renderPdf } from './pdf.js';

/** The formats a report is rendered in; JSON is the canonical model. */
export const REPORT_FORMATS = ['json', 'csv', 'html', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Media type of each format. */
export const REPORT_MEDIA_TYPES: Record<ReportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
};

/**
 * Parses a comma-separated list of formats (`json,csv,html,pdf`), de-duplicated, in the given order.
 * @throws ReportError FLOE_REPORT_BAD_FORMAT for an empty list or an unknown name.
 */
export function parseFormats(text: string): ReportFormat[] {
  const list = [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  if (list.length === 0) throw new ReportError(REPORT_ERROR_CODES.BAD_FORMAT, `no format given; one or more of ${REPORT_FORMATS.join(', ')}`);
  for (const f of list) {
    if (!(REPORT_FORMATS as readonly string[]).includes(f))
      throw new ReportError(REPORT_ERROR_CODES.BAD_FORMAT, `unknown format ${JSON.stringify(f).slice(0, 40)}; one of ${REPORT_FORMATS.join(', ')}`);
  }
  return list as ReportFormat[];
}

/** Renders the report in one format (JSON: the model, two-space indented). */
export async function renderReport(r: Report, format: ReportFormat): Promise<Buffer> {
  switch (format) {
    case 'json':
      return Buffer.from(`${JSON.stringify(r, null, 2)}\n`);
    case 'csv':
      return Buffer.from(renderCsv(r));
    case 'html':
      return Buffer.from(renderHtml(r));
    case 'pdf':
      return renderPdf(r);
  }
}
