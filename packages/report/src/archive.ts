import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPORT_ERROR_CODES, ReportError } from './errors.js';
import type { Report } from './model.js';
import { REPORT_FORMATS, renderReport, type ReportFormat } from './render.js';

/** What the index of kept reports says of each. */
export interface KeptReport {
  id: string;
  title: string;
  generatedAt: number;
  from: number;
  to: number;
  scope: Report['scope'];
  completeness: Report['completeness']['status'];
  formats: ReportFormat[];
  /** Name of the schedule that made it, when one did. */
  schedule?: string;
}

/** Report ids as buildReport makes them; nothing else names a file. */
export const REPORT_ID = /^rpt-\d{8}T\d{6}Z-\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** Kept reports: files `<dir>/<id>.<format>` and `<dir>/index.json`, newest first. */
export interface ReportArchive {
  readonly dir: string;
  /** Renders `report` in `formats`, writes each file and adds it to the index. */
  save(report: Report, formats: readonly ReportFormat[], schedule?: string): Promise<KeptReport>;
  /** The index, newest generatedAt first. */
  list(): Promise<KeptReport[]>;
  /**
   * A kept report's file in one format.
   * @throws ReportError FLOE_REPORT_NOT_FOUND for an unknown id or a format not kept.
   */
  read(id: string, format: ReportFormat): Promise<Buffer>;
}

/** Opens (and on first save creates) the report archive in `dir`. One writer per directory. */
export function openReportArchive(dir: string): ReportArchive {
  const indexPath = join(dir, 'index.json');
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn, fn);
    chain = p.catch(() => undefined);
    return p;
  };
  async function list(): Promise<KeptReport[]> {
    try {
      return JSON.parse(await readFile(indexPath, 'utf8')) as KeptReport[];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
  async function atomicWrite(path: string, data: Buffer | string): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, data);
    await rename(tmp, path);
  }
  return {
    dir,
    save: (report, formats, schedule) =>
      serial(async () => {
        if (!REPORT_ID.test(report.id)) throw new ReportError(REPORT_ERROR_CODES.NOT_FOUND, `not a report id: ${JSON.stringify(report.id).slice(0, 80)}`);
        await mkdir(dir, { recursive: true });
        const fmts = [...new Set(formats)];
        for (const f of fmts) await atomicWrite(join(dir, `${report.id}.${f}`), await renderReport(report, f));
        const kept: KeptReport = {
          id: report.id,
          title: report.title,
          generatedAt: report.generatedAt,
          from: report.period.from,
          to: report.period.to,
          scope: report.scope,
          completeness: report.completeness.status,
          formats: fmts,
        };
        if (schedule !== undefined) kept.schedule = schedule;
        const all = [kept, ...(await list()).filter((k) => k.id !== report.id)].sort((a, b) => b.generatedAt - a.generatedAt || (a.id < b.id ? 1 : -1));
        await atomicWrite(indexPath, `${JSON.stringify(all, null, 2)}\n`);
        return kept;
      }),
    list,
    async read(id, format) {
      const missing = () => new ReportError(REPORT_ERROR_CODES.NOT_FOUND, `no kept report ${JSON.stringify(id).slice(0, 80)} in format ${format}`);
      if (!REPORT_ID.test(id) || !(REPORT_FORMATS as readonly string[]).includes(format)) throw missing();
      const k = (await list()).find((r) => r.id === id);
      if (!k?.formats.includes(format)) throw missing();
      return readFile(join(dir, `${id}.${format}`));
    },
  };
}
