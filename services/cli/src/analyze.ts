import { closeSync, constants, createReadStream, fstatSync, openSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import {
  DEFAULT_MAX_LINE_BYTES,
  MAX_LINE_BYTES_LIMIT,
  escapeText,
  readFailure,
  parseStream,
  ParseStats,
  unreadableFormatMessage,
  type FlowFormatError,
  type Finding,
  type FlowRecord,
  type FormatName,
} from '@floe/flow';
import { createPipeline } from '@floe/pipeline';
import { detectorsFor, loadCompiledPolicy } from '@floe/runtime';
import { findingLine } from './format.js';
import { modelDetectorFor, modelDirOf } from './model.js';

/** Options of `floe analyze`. */
export interface AnalyzeOptions {
  format: FormatName | 'auto';
  policyFile?: string;
  inventoryFile?: string;
  json: boolean;
  /** Longest line read (bytes; default DEFAULT_MAX_LINE_BYTES); longer lines are rejected as line-too-long. */
  maxLineBytes?: number;
  /** Model directory (`--model`): runs the ML detector `ml.autoencoder`; default the policy's `detectors.model.dir`. */
  modelDir?: string;
}

/** Windows waiting for the model before an analysis scores them (then again at the end). */
export const ANALYZE_SCORE_BATCH = 4096;

/** Largest `--max-line-bytes`: @floe/flow's MAX_LINE_BYTES_LIMIT, 256 MiB (a kept line is one string; V8's longest is 2^29 - 24 characters). */
export const MAX_MAX_LINE_BYTES = MAX_LINE_BYTES_LIMIT;

/** `--max-line-bytes` value: a decimal integer 1024..268435456 (no exponent, hex, sign or fraction). */
export function parseMaxLineBytes(v: string): number {
  const n = /^[0-9]{1,10}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!(n >= 1024 && n <= MAX_MAX_LINE_BYTES)) throw new InvalidArgumentError(`a decimal integer number of bytes, 1024..${MAX_MAX_LINE_BYTES}`);
  return n;
}

/** The input name that means standard input (`zcat x.gz | floe analyze -`). */
export const STDIN_INPUT = '-';

/** How an input is named in messages, escaped: `stdin` for {@link STDIN_INPUT}, else the path. */
export function inputName(file: string): string {
  return escapeText(file === STDIN_INPUT ? 'stdin' : file);
}

/**
 * Checks every input before any is read: it exists, is a regular file (or, with `pipes`, a pipe or
 * FIFO: `<(zcat x.gz)`, `/dev/stdin` fed by a pipe, or `-` for standard input, at most once and
 * not a terminal) and can be opened for reading (opened non-blocking and closed again, so a FIFO
 * does not hang and permissions are judged as the kernel does, for root too). Devices (`/dev/zero`)
 * and directories are refused.
 * @throws UsageError `FILE: no such file`, `FILE: permission denied`, `FILE: not a regular file`
 *   (`… or pipe` with `pipes`), `-: standard input is a terminal`, `-: given twice`.
 */
export function checkInputs(files: string[], opts: { pipes?: boolean } = {}): void {
  let stdin = false;
  for (const f of files) {
    if (opts.pipes && f === STDIN_INPUT) {
      if (stdin) throw new UsageError('-: standard input given twice');
      stdin = true;
      if (process.stdin.isTTY) throw new UsageError('-: standard input is a terminal; pipe a flow log into it (zcat flows.log.gz | floe analyze -)');
      continue;
    }
    let fd: number;
    try {
      fd = openSync(f, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw new UsageError(`${escapeText(f)}: ${readFailure(e)}`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() && !(opts.pipes && st.isFIFO())) throw new UsageError(`${escapeText(f)}: not a regular file${opts.pipes ? ' or pipe' : ''}`);
    } finally {
      closeSync(fd);
    }
  }
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
 * run the detectors (and the ML detector when `modelDir` or the policy names a model: its windows
 * are scored in batches of ANALYZE_SCORE_BATCH and at the end) over all files in order (one stream: a scan split across rotated logs is one
 * finding), flush them at the end, and write each finding once, in its final form (the real
 * counts, not those at the last doubling), ordered by first seen: NDJSON on `out` with `json`,
 * else one human line. Rejected lines are reported on `err` (the first 10 per file) and counted;
 * lines are read by @floe/flow's LineReader, so a line over `maxLineBytes` is rejected
 * (`line-too-long`) without being held in memory. Input text reaching `out`/`err` is escaped.
 * @throws UsageError for a missing or unreadable file, a model that cannot be loaded (FLOE_MODEL_*), or a format that cannot be detected (the
 *   message says which format floe does not read the file looks like, when it looks like one).
 */
export async function analyzeFiles(files: string[], opts: AnalyzeOptions, out: (line: string) => void, err: (line: string) => void): Promise<AnalyzeResult> {
  checkInputs(files, { pipes: true });
  let policy;
  try {
    policy = await loadCompiledPolicy({ policyFile: opts.policyFile, inventoryFile: opts.inventoryFile });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Offline, records may be in any order (concatenated or shuffled files): windows close only by
  // their own key's records and at the final flush, so first/last seen and counts do not depend on
  // the order of the lines.
  const dir = modelDirOf(policy, opts.modelDir);
  const scorers = dir ? [await modelDetectorFor(policy, dir, err)] : [];
  const pipeline = createPipeline({ policy, detectors: detectorsFor(policy, { lateness: Infinity }), scorers });
  const result: AnalyzeResult = { files: [], findings: [], byDetector: {} };
  // A detector raises a finding, then emits it again (same id) as its evidence grows and when its
  // window closes: an offline analysis keeps the last form of each id and prints it once.
  const latest = new Map<string, Finding>();
  const keepAll = (fs: Finding[]): void => {
    for (const f of fs) latest.set(f.id, f);
  };
  // Synchronous per record; a promise only when the model's queue is due for scoring.
  result.files = await readFlowFiles(files, opts, err, (raw) => {
    keepAll(pipeline.process(raw).findings);
    if (scorers.length && pipeline.pending() >= ANALYZE_SCORE_BATCH) return pipeline.drain().then(keepAll);
  });
  for (const f of pipeline.flush()) latest.set(f.id, f);
  for (const f of await pipeline.drain()) latest.set(f.id, f);
  for (const f of [...latest.values()].sort((a, b) => a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    result.findings.push(f);
    result.byDetector[f.detector] = (result.byDetector[f.detector] ?? 0) + 1;
    out(opts.json ? JSON.stringify(f) : findingLine(f));
  }
  return result;
}

/** The summary lines of an analysis (stderr with --json, stdout otherwise). */
export function summaryLines(r: AnalyzeResult): string[] {
  const lines: string[] = [];
  for (const f of r.files) {
    const reasons = Object.entries(f.byReason)
      .map(([k, v]) => `${escapeText(k.slice(0, 80))}=${v}`)
      .join(', ');
    lines.push(
      `summary: ${inputName(f.file)} [${f.format ?? 'empty'}]: ${f.parsed} records parsed, ${f.skipped} lines skipped, ${f.rejected} rejected${reasons ? ` (${reasons})` : ''}`,
    );
  }
  const det = Object.entries(r.byDetector)
    .map(([k, v]) => `${escapeText(k)}=${v}`)
    .join(', ');
  lines.push(`summary: ${r.findings.length} findings${det ? ` (${det})` : ''}`);
  return lines;
}

/** What was read from one input file. */
export type FileReport = AnalyzeResult['files'][number];

/**
 * Reads `files` in order, streamed line by line, handing each record to `onRecord` (awaited when
 * it returns a promise). Rejected lines are reported on `err` (the first 10 per file, escaped).
 * @throws UsageError for a format that cannot be detected, or a file none of whose lines is valid.
 */
export async function readFlowFiles(
  files: string[],
  opts: Pick<AnalyzeOptions, 'format' | 'maxLineBytes'>,
  err: (line: string) => void,
  onRecord: (raw: FlowRecord) => void | Promise<void>,
): Promise<FileReport[]> {
  const out: FileReport[] = [];
  for (const file of files) {
    const stats = new ParseStats();
    let format: FormatName | undefined;
    let shown = 0;
    const input = file === STDIN_INPUT ? process.stdin : createReadStream(file);
    const shownFile = inputName(file);
    try {
      for await (const raw of parseStream(input, {
        format: opts.format,
        file,
        stats,
        maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
        onFormat: (f) => {
          format = f;
        },
        onError: (e) => {
          if (shown++ >= 10) return;
          const what = e.reason === 'line-too-long' ? `${e.bytes} bytes, starts` : `${e.field ? `field ${escapeText(e.field.slice(0, 80))}` : ''}`;
          err(
            `${shownFile}:${e.line}: rejected (${escapeText(e.reason.slice(0, 80))}${what ? `, ${what}` : ''}): ${escapeText(e.reason === 'line-too-long' ? e.text.slice(0, 80) : e.text)}`,
          );
        },
      })) {
        const p = onRecord(raw);
        if (p) await p;
      }
    } catch (e) {
      if ((e as { code?: string }).code === 'FLOE_FLOW_UNKNOWN_FORMAT') {
        throw new UsageError(escapeText(unreadableFormatMessage(file === STDIN_INPUT ? 'stdin' : file, (e as FlowFormatError).foreign)));
      }
      throw e;
    } finally {
      input.destroy();
    }
    if (stats.rejected > 10) err(`${shownFile}: ${stats.rejected - 10} more rejected lines not shown`);
    if (stats.parsed === 0 && stats.rejected > 0) {
      const reasons = [...stats.byReason].map(([k, v]) => `${escapeText(k.slice(0, 80))}=${v}`).join(', ');
      const named = format ?? (opts.format === 'auto' ? undefined : opts.format);
      throw new UsageError(
        `${shownFile}: ${named ? `no line is valid ${named}` : 'no line could be read'} (${stats.rejected} rejected: ${reasons}); check --format, or the file is not a flow log floe reads`,
      );
    }
    out.push({ file, format, parsed: stats.parsed, skipped: stats.skipped, rejected: stats.rejected, byReason: Object.fromEntries(stats.byReason) });
  }
  return out;
}
