import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { FlowFormatError } from '../errors.js';
import type { FlowRecord } from '../record.js';
import { createConntrackXmlParser } from './conntrack-xml.js';
import { createConntrackParser } from './conntrack.js';
import { DETECT_LINES, detectFormat } from './detect.js';
import { createKernelLogParser } from './kernel-log.js';
import { ParseStats } from './stats.js';
import { isParseError, type FormatName, type LineParser, type ParseError, type ParserOptions } from './types.js';
import { createUlogdJsonParser } from './ulogd-json.js';

/**
 * A new stateful parser for one input stream of the given format.
 * @throws FlowFormatError FLOE_FLOW_BAD_FORMAT_NAME for a name floe does not know.
 */
export function createParser(format: FormatName, opts: ParserOptions = {}): LineParser {
  switch (format) {
    case 'conntrack':
      return createConntrackParser(opts);
    case 'conntrack-xml':
      return createConntrackXmlParser(opts);
    case 'kernel-log':
      return createKernelLogParser(opts);
    case 'ulogd-json':
      return createUlogdJsonParser(opts);
    default:
      throw new FlowFormatError('FLOE_FLOW_BAD_FORMAT_NAME', String(format));
  }
}

/** Options of parseLines and parseFile. */
export interface ParseLinesOptions extends ParserOptions {
  /** Input format, or 'auto' to detect it from the first DETECT_LINES non-empty lines. */
  format: FormatName | 'auto';
  /** File name, copied into each ParseError and into FlowFormatError. */
  file?: string;
  /** Counters to fill (a new ParseStats when absent). */
  stats?: ParseStats;
  /** Called with each rejected line, after it is counted. */
  onError?: (e: ParseError) => void;
  /** Called once the format is known (detected or given). */
  onFormat?: (format: FormatName) => void;
}

/**
 * Parse an async iterable of lines (readline over a file, a child process's stdout). With
 * format 'auto' the first lines are buffered until DETECT_LINES non-empty lines are seen (or the
 * input ends), then detected. Yields records; rejected lines go to `stats` and `onError`, never
 * stop the parse.
 * @throws FlowFormatError FLOE_FLOW_UNKNOWN_FORMAT (with `file`) when 'auto' detects nothing.
 */
export async function* parseLines(lines: AsyncIterable<string> | Iterable<string>, opts: ParseLinesOptions): AsyncGenerator<FlowRecord> {
  const stats = opts.stats ?? new ParseStats();
  let parser: LineParser | undefined = opts.format === 'auto' ? undefined : createParser(opts.format, opts);
  if (parser !== undefined) opts.onFormat?.(parser.format);
  const buffered: string[] = [];
  let nonEmpty = 0;
  let lineNo = 0;

  const handle = (p: LineParser, line: string, no: number): FlowRecord | undefined => {
    const r = p.parseLine(line, no);
    if (r === null) {
      stats.skipped++;
      return undefined;
    }
    if (isParseError(r)) {
      if (opts.file !== undefined) r.file = opts.file;
      stats.reject(r);
      opts.onError?.(r);
      return undefined;
    }
    stats.parsed++;
    return r;
  };

  const detect = (): LineParser => {
    const f = detectFormat(buffered);
    if (f === undefined) {
      throw new FlowFormatError('FLOE_FLOW_UNKNOWN_FORMAT', `looked at ${Math.min(nonEmpty, DETECT_LINES)} non-empty lines`, opts.file);
    }
    opts.onFormat?.(f);
    return createParser(f, opts);
  };

  for await (const line of lines) {
    lineNo++;
    if (parser === undefined) {
      buffered.push(line);
      if (line.trim() !== '') nonEmpty++;
      if (nonEmpty < DETECT_LINES) continue;
      parser = detect();
      for (let k = 0; k < buffered.length; k++) {
        const r = handle(parser, buffered[k], k + 1);
        if (r !== undefined) yield r;
      }
      buffered.length = 0;
      continue;
    }
    const r = handle(parser, line, lineNo);
    if (r !== undefined) yield r;
  }
  if (parser === undefined) {
    if (nonEmpty === 0) return; // empty input: nothing to detect, nothing to parse
    parser = detect();
    for (let k = 0; k < buffered.length; k++) {
      const r = handle(parser, buffered[k], k + 1);
      if (r !== undefined) yield r;
    }
  }
  for (const r of parser.end?.() ?? []) {
    if (isParseError(r)) {
      if (opts.file !== undefined) r.file = opts.file;
      stats.reject(r);
      opts.onError?.(r);
    } else {
      stats.parsed++;
      yield r;
    }
  }
}

/** Result of parseFile. */
export interface ParseFileResult {
  records: FlowRecord[];
  stats: ParseStats;
  format: FormatName;
}

/**
 * Parse a whole file by path (UTF-8, LF or CRLF lines) into memory.
 * @throws FlowFormatError FLOE_FLOW_UNKNOWN_FORMAT when format 'auto' detects nothing (an empty
 *   file included); file system errors (ENOENT ...) as thrown by node:fs.
 */
export async function parseFile(path: string, opts: Omit<ParseLinesOptions, 'file'> & { file?: string }): Promise<ParseFileResult> {
  const stats = opts.stats ?? new ParseStats();
  const file = opts.file ?? path;
  let format: FormatName | undefined = opts.format === 'auto' ? undefined : opts.format;
  const input = createReadStream(path, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  const records: FlowRecord[] = [];
  try {
    for await (const r of parseLines(rl, { ...opts, file, stats, onFormat: (f) => { format = f; opts.onFormat?.(f); } })) {
      records.push(r);
    }
  } finally {
    rl.close();
    input.destroy();
  }
  if (format === undefined) throw new FlowFormatError('FLOE_FLOW_UNKNOWN_FORMAT', 'empty input', file);
  return { records, stats, format };
}
