import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseLines, ParseStats, type Finding, type FormatName } from '@floe/flow';
import { createPipeline } from '@floe/pipeline';
import { detectorsFor, loadCompiledPolicy } from '@floe/runtime';
import { findingLine } from './format.js';

/** Options of `floe analyze`. */
export interface AnalyzeOptions {
  format: FormatName | 'auto';
  policyFile?: string;
  inventoryFile?: string;
  json: boolean;
}

/** What `floe analyze` found, for its summary and for tests. */
export interface AnalyzeResult {
  files: Array<{ file: string; format?: FormatName; parsed: number; skipped: number; rejected: number; byReason: Record<string, number> }>;
  findings: Finding[];
  byDetector: Record<string, number>;
}

/** An input or option that makes `floe analyze` unusable (exit code 2). */
export class UsageError extends Error {
  readonly code = 'FLOE_CLI_USAGE';
}

/**
 * Offline analysis: parse each file (streamed line by line), classify and evaluate the policy,
 * run the detectors, and write each finding once, in its final form, after each file: NDJSON on
 * `out` with `json`, else one human line. Rejected lines are reported on `err` (the first 10 per file) and counted.
 * @throws UsageError for a missing or unreadable file, or a format that cannot be detected.
 */
export async function analyzeFiles(files: string[], opts: AnalyzeOptions, out: (line: string) => void, err: (line: string) => void): Promise<AnalyzeResult> {
  for (const f of files) {
    let st;
    try { st = statSync(f); } catch { throw new UsageError(`${f}: no such file`); }
    if (!st.isFile()) throw new UsageError(`${f}: not a regular file`);
  }
  let policy;
  try {
    policy = await loadCompiledPolicy({ policyFile: opts.policyFile, inventoryFile: opts.inventoryFile });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const pipeline = createPipeline({ policy, detectors: detectorsFor(policy) });
  const result: AnalyzeResult = { files: [], findings: [], byDetector: {} };
  // A detector raises a finding once and again, same id, as its evidence grows: an offline
  // analysis prints each finding once, in its final form, after each file.
  const latest = new Map<string, Finding>();
  for (const file of files) {
    const stats = new ParseStats();
    let format: FormatName | undefined;
    let shown = 0;
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    try {
      for await (const raw of parseLines(lines, {
        format: opts.format, file, stats,
        onFormat: (f) => { format = f; },
        onError: (e) => { if (shown++ < 10) err(`${file}:${e.line}: rejected (${e.reason}${e.field ? `, field ${e.field}` : ''}): ${e.text}`); },
      })) {
        for (const f of pipeline.process(raw).findings) latest.set(f.id, f);
      }
    } catch (e) {
      if ((e as { code?: string }).code === 'FLOE_FLOW_UNKNOWN_FORMAT') {
        throw new UsageError(`${file}: cannot detect the format (${(e as Error).message}); pass --format conntrack|conntrack-xml|kernel-log|ulogd-json`);
      }
      throw e;
    } finally {
      lines.close();
    }
    if (stats.rejected > 10) err(`${file}: ${stats.rejected - 10} more rejected lines not shown`);
    if (stats.parsed === 0 && stats.rejected > 0) {
      const reasons = [...stats.byReason].map(([k, v]) => `${k}=${v}`).join(', ');
      throw new UsageError(`${file}: no line is ${format ?? opts.format} (${stats.rejected} rejected: ${reasons}); check --format, or the file is not a flow log floe reads`);
    }
    result.files.push({ file, format, parsed: stats.parsed, skipped: stats.skipped, rejected: stats.rejected, byReason: Object.fromEntries(stats.byReason) });
    for (const f of [...latest.values()].sort((a, b) => a.firstSeen - b.firstSeen)) {
      result.findings.push(f);
      result.byDetector[f.detector] = (result.byDetector[f.detector] ?? 0) + 1;
      out(opts.json ? JSON.stringify(f) : findingLine(f));
    }
    latest.clear();
  }
  return result;
}

/** The summary lines of an analysis (stderr with --json, stdout otherwise). */
export function summaryLines(r: AnalyzeResult): string[] {
  const lines: string[] = [];
  for (const f of r.files) {
    const reasons = Object.entries(f.byReason).map(([k, v]) => `${k}=${v}`).join(', ');
    lines.push(`summary: ${f.file} [${f.format ?? 'empty'}]: ${f.parsed} records parsed, ${f.skipped} lines skipped, ${f.rejected} rejected${reasons ? ` (${reasons})` : ''}`);
  }
  const det = Object.entries(r.byDetector).map(([k, v]) => `${k}=${v}`).join(', ');
  lines.push(`summary: ${r.findings.length} findings${det ? ` (${det})` : ''}`);
  return lines;
}
