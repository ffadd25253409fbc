import type { FloeConfig } from '@floe/config';
import { escapeText } from '@floe/flow';
import { buildReport, iso, openReportArchive, type ReportFormat } from '@floe/report';
import { loadCompiledPolicy, storeConfigOf } from '@floe/runtime';
import { createStore, requireExistingDuckDbStore } from '@floe/store';
import { join } from 'node:path';
import { prepareOutputDir } from './output-path.js';
import { UsageError } from './analyze.js';

/** Options of `floe report`. */
export interface ReportCommandOptions {
  from: number;
  to: number;
  formats: ReportFormat[];
  /** Folder the files and index.json are written to. */
  out: string;
  /** How messages name that folder (`--out`, or `report.dir` for the configured one). */
  outName: string;
  namespaces: string[];
  zones: string[];
  cluster?: string;
  title?: string;
}

/**
 * A time of `--from`/`--to`: an RFC 3339 / ISO 8601 time (`2026-11-30T10:00:00Z`; a date alone is
 * UTC midnight), ms since epoch, `now`, or a duration back from `now` (`90m`, `24h`, `7d`).
 * @throws UsageError naming the option and what it accepts.
 */
export function parseReportTime(name: string, v: string, now: number): number {
  const s = v.trim();
  let t = Number.NaN;
  const rel = /^([0-9]{1,6})(m|h|d)$/.exec(s);
  if (s === 'now') t = now;
  else if (rel) t = now - Number(rel[1]) * (rel[2] === 'm' ? 60_000 : rel[2] === 'h' ? 3_600_000 : 86_400_000);
  else if (/^[0-9]{1,16}$/.test(s)) t = Number(s);
  else if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(s)) t = Date.parse(s);
  if (!Number.isFinite(t)) {
    throw new UsageError(
      `report: ${name} ${escapeText(s.slice(0, 60))} is not a time; give an RFC 3339 time (2026-11-30T10:00:00Z), a date (UTC midnight), ms since epoch, now, or 90m / 24h / 7d back from now`,
    );
  }
  return t;
}

/**
 * `floe report`: counts in the configured store, judges with the configured policy, writes each
 * format to `out` (with index.json, as kept reports are) and prints the files. Progress goes to
 * `err`. A bad range is FLOE_REPORT_BAD_RANGE (exit 2 in main.ts).
 */
export async function reportCommand(cfg: FloeConfig, o: ReportCommandOptions, out: (l: string) => void, err: (l: string) => void): Promise<void> {
  const t0 = Date.now();
  const progress = (step: string) => err(`floe report: ${step} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  // The store and the folder (made here if missing) are checked before any work, not when used.
  if (cfg.store.kind === 'duckdb') requireExistingDuckDbStore(cfg.store.path, 'report');
  prepareOutputDir(o.out, o.outName);
  progress(`period ${iso(o.from)} .. ${iso(o.to)}; loading the policy`);
  const policy = await loadCompiledPolicy(cfg);
  const store = createStore(storeConfigOf(cfg));
  progress(`opening the ${cfg.store.kind} store`);
  await store.start();
  try {
    const scope: { namespaces: string[]; zones: string[]; cluster?: string } = { namespaces: o.namespaces, zones: o.zones };
    const cluster = o.cluster ?? cfg.report.cluster;
    if (cluster !== undefined) scope.cluster = cluster;
    const report = await buildReport(store, { from: o.from, to: o.to, policy, scope, title: o.title, onProgress: progress });
    progress(`rendering ${o.formats.join(', ')}`);
    const kept = await openReportArchive(o.out).save(report, o.formats);
    out(`report ${report.id}: ${report.completeness.statement}`);
    // the folder is the user's text: escaped before it reaches the terminal
    for (const f of kept.formats) out(`wrote ${escapeText(join(o.out, `${report.id}.${f}`))}`);
    const exceptions = report.controls.filter((c) => c.status === 'exceptions').map((c) => `${c.framework} ${c.id}`);
    if (report.completeness.status === 'no-data') out('controls: no data, nothing evaluated');
    else out(`controls with exceptions: ${exceptions.length ? exceptions.join(', ') : 'none seen'}`);
  } finally {
    await store.stop();
  }
}
