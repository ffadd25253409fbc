import { execFileSync } from 'node:child_process';

/**
 * Reads the figures (key -> number) back out of each rendered format, for tests that check every
 * format states the JSON's numbers. PDF text comes from poppler's `pdftotext -layout`.
 */

/** Figures of a JSON report. */
export function figuresOfJson(text: string): Map<string, number> {
  const r = JSON.parse(text) as { figures: Array<{ key: string; value: number }> };
  return new Map(r.figures.map((f) => [f.key, f.value]));
}

/** Figures of a CSV report: rows `figure,<key>,<label>,<value>` (RFC 4180 quoting). */
export function figuresOfCsv(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\r\n')) {
    const cells = parseCsvLine(line);
    if (cells[0] === 'figure') out.set(cells[1], Number(cells[3]));
  }
  return out;
}

/** One CSV line's cells (RFC 4180: quoted cells, doubled quotes). */
export function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          s += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else s += line[i++];
      }
      cells.push(s);
      i++; // the comma
    } else {
      const j = line.indexOf(',', i);
      const end = j < 0 ? line.length : j;
      cells.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return cells;
}

/** Figures of an HTML report: rows `<tr data-key="KEY">…<td class="num">VALUE</td></tr>`. */
export function figuresOfHtml(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/<tr data-key="([^"]+)">.*?<td class="num">(-?\d+)<\/td><\/tr>/g)) out.set(m[1], Number(m[2]));
  return out;
}

/** The text of a PDF (`pdftotext -layout FILE -`). */
export function pdfToText(file: string): string {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

/** Figures of a PDF report's text: lines `KEY  label  1,234` of the Figures table. */
export function figuresOfPdfText(text: string, keys: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+\.[a-z_]+)\s{2,}.*?\s([\d,]+)\s*$/.exec(line);
    if (m && keys.includes(m[1]) && !out.has(m[1])) out.set(m[1], Number(m[2].replace(/,/g, '')));
  }
  return out;
}
