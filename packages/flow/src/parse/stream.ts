import { createReadStream } from 'node:fs';
import { FlowFormatError } from '../errors.js';
import type { FlowRecord } from '../record.js';
import { createConntrackXmlParser } from './conntrack-xml.js';
import { createConntrackParser } from './conntrack.js';
import { DETECT_LINES, detectFormat } from './detect.js';
import { createKernelLogParser, parseKernelLogChecked } from './kernel-log.js';
import { ParseStats } from './stats.js';
import { cleanEnd, cleanStart, codePointName, controlIn } from './clean.js';
import { identifyBytes, identifyLines } from './foreign.js';
import { DEFAULT_MAX_LINE_BYTES, HEAD_BYTES, LineReader, type InputLine } from './lines.js';
import { isParseError, parseError, type FormatName, type LineParser, type ParseError, type ParserOptions } from './types.js';
import { createUlogdJsonParser } from './ulogd-json.js';

/**
 * A new stateful parser for one input stream of the given format. Its parseLine first cleans or
 * rejects control characters (checkLine: `control-byte`) and turns anything a format parser
 * throws into a `parser-error` rejection, so no input line can stop a parse.
 * @throws FlowFormatError FLOE_FLOW_BAD_FORMAT_NAME for a name floe does not know.
 */
export function createParser(format: FormatName, opts: ParserOptions = {}): LineParser {
  if (format === 'kernel-log') return guardKernelLog(opts);
  return guard(createFormatParser(format, opts));
}

/**
 * guard(createKernelLogParser(opts)) in one step: parseKernelLogChecked cleans, checks and parses
 * each line from one copy of its characters (the kernel LOG parser reads nearly all of them).
 */
function guardKernelLog(opts: ParserOptions): LineParser {
  const now = opts.now ?? Date.now;
  const node = opts.node;
  return {
    format: 'kernel-log',
    parseLine(line: string, lineNo: number): FlowRecord | ParseError | null {
      try {
        return parseKernelLogChecked(line, lineNo, now, node);
      } catch {
        return parseError(lineNo, 'parser-error', line);
      }
    },
  };
}

function createFormatParser(format: FormatName, opts: ParserOptions): LineParser {
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

function guard(p: LineParser): LineParser {
  const g: LineParser = {
    format: p.format,
    parseLine(line: string, lineNo: number): FlowRecord | ParseError | null {
      // checkLine's steps, without its result object per line.
      const e = cleanEnd(line);
      const s = cleanStart(line, e);
      const c = controlIn(line, s, e);
      if (c >= 0) return parseError(lineNo, 'control-byte', line, codePointName(c));
      try {
        return p.parseLine(s === 0 && e === line.length ? line : line.slice(s, e), lineNo);
      } catch {
        return parseError(lineNo, 'parser-error', line);
      }
    },
  };
  if (p.end !== undefined) {
    const end = p.end.bind(p);
    g.end = () => {
      try {
        return end();
      } catch {
        return [parseError(0, 'parser-error', '')];
      }
    };
  }
  if (p.drain !== undefined) g.drain = p.drain.bind(p);
  return g;
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
  /**
   * Longest line in bytes for string inputs (a LineReader has its own bound; default
   * DEFAULT_MAX_LINE_BYTES). A longer line is rejected as `line-too-long`.
   */
  maxLineBytes?: number;
  /** Called for every line read (before it is parsed; over-long ones included): liveness of a source. */
  onLine?: (line: InputLine) => void;
}

/** Lines parseLines reads: strings (one per line), or a LineReader over bytes. */
export type LineInput = AsyncIterable<string> | Iterable<string> | LineReader;

/** Lines buffered at most while detecting a format (blank ones included). */
const DETECT_MAX_BUFFERED = 1000;

/** Bytes sniffed at the start of a LineReader for XML and binary formats. */
const SNIFF_BYTES = 4096;

async function* inputLines(lines: LineInput, maxLineBytes: number): AsyncGenerator<InputLine> {
  if (lines instanceof LineReader) {
    yield* lines;
    return;
  }
  let no = 0;
  for await (const text of lines) {
    no++;
    if (text.length > maxLineBytes || (text.length * 3 > maxLineBytes && Buffer.byteLength(text) > maxLineBytes)) {
      yield { no, text: text.slice(0, HEAD_BYTES), tooLong: Buffer.byteLength(text) };
    } else yield { no, text };
  }
}

function looksLikeXml(head: Buffer): boolean {
  const t = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return t.startsWith('<?xml') || t.startsWith('<conntrack') || t.startsWith('<flow');
}

/**
 * Parse lines (strings, or a LineReader over a file or a child process's stdout). With format
 * 'auto' a LineReader's first bytes are sniffed (an XML prologue means conntrack-xml; a binary
 * signature of a format floe does not read fails at once), then the first lines are buffered
 * until DETECT_LINES non-empty lines are seen (or the input ends), then detected. Over-long lines
 * are rejected as `line-too-long` with their line number and length; a conntrack-xml LineReader
 * is cut after `</flow>` instead, so a line of any number of flows is read. Yields records;
 * rejected lines go to `stats` and `onError`, never stop the parse.
 * @throws FlowFormatError FLOE_FLOW_UNKNOWN_FORMAT (with `file`, and `foreign` when the input
 *   looks like a format floe does not read) when 'auto' detects nothing.
 */
export async function* parseLines(lines: LineInput, opts: ParseLinesOptions): AsyncGenerator<FlowRecord> {
  const stats = opts.stats ?? new ParseStats();
  const reader = lines instanceof LineReader ? lines : undefined;
  let parser: LineParser | undefined;
  let head: Buffer | undefined;
  const use = (f: FormatName): LineParser => {
    if (f === 'conntrack-xml' && reader !== undefined) reader.splitAfter = '</flow>';
    opts.onFormat?.(f);
    return createParser(f, opts);
  };
  const unknown = (why: string, buffered: string[]): FlowFormatError => {
    const foreign = (head !== undefined ? identifyBytes(head) : undefined) ?? identifyLines(buffered);
    return new FlowFormatError('FLOE_FLOW_UNKNOWN_FORMAT', why, opts.file, foreign);
  };
  if (opts.format !== 'auto') parser = use(opts.format);
  else if (reader !== undefined) {
    head = await reader.peek(SNIFF_BYTES);
    if (looksLikeXml(head)) parser = use('conntrack-xml');
    else if (identifyBytes(head) !== undefined) throw unknown('binary input', []);
  }
  const buffered: InputLine[] = [];
  let nonEmpty = 0;

  const reject = (e: ParseError): void => {
    if (opts.file !== undefined) e.file = opts.file;
    stats.reject(e);
    opts.onError?.(e);
  };
  const results: FlowRecord[] = [];
  const handle = (p: LineParser, l: InputLine): void => {
    if (l.tooLong !== undefined) {
      const e = parseError(l.no, 'line-too-long', l.text);
      e.bytes = l.tooLong;
      reject(e);
      return;
    }
    const r = p.parseLine(l.text, l.no);
    if (r === null) stats.skipped++;
    else if (isParseError(r)) reject(r);
    else {
      stats.parsed++;
      results.push(r);
    }
    if (p.drain !== undefined) {
      for (const x of p.drain()) {
        if (isParseError(x)) reject(x);
        else {
          stats.parsed++;
          results.push(x);
        }
      }
    }
  };

  const detect = (): LineParser => {
    const texts = buffered.filter((l) => l.tooLong === undefined).map((l) => l.text);
    const f = detectFormat(texts);
    if (f === undefined) throw unknown(`looked at ${Math.min(nonEmpty, DETECT_LINES)} non-empty lines`, texts);
    return use(f);
  };

  for await (const line of inputLines(lines, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)) {
    opts.onLine?.(line);
    if (parser === undefined) {
      buffered.push(line);
      if (line.tooLong === undefined && line.text.trim() !== '') nonEmpty++;
      if (nonEmpty < DETECT_LINES && buffered.length < DETECT_MAX_BUFFERED) continue;
      parser = detect();
      for (const b of buffered) handle(parser, b);
      buffered.length = 0;
    } else handle(parser, line);
    if (results.length > 0) {
      for (const r of results) yield r;
      results.length = 0;
    }
  }
  if (parser === undefined) {
    if (nonEmpty === 0) {
      // Nothing to detect: count the over-long lines that were all there was.
      for (const b of buffered)
        if (b.tooLong !== undefined) {
          const e = parseError(b.no, 'line-too-long', b.text);
          e.bytes = b.tooLong;
          reject(e);
        }
      return;
    }
    parser = detect();
    for (const b of buffered) handle(parser, b);
  }
  for (const r of parser.end?.() ?? []) {
    if (isParseError(r)) reject(r);
    else {
      stats.parsed++;
      results.push(r);
    }
  }
  for (const r of results) yield r;
}

/**
 * Parse a byte stream (a file's ReadStream, a child's stdout) through a LineReader bounded by
 * `maxLineBytes`; see parseLines.
 */
export function parseStream(input: AsyncIterable<Buffer | Uint8Array | string>, opts: ParseLinesOptions): AsyncGenerator<FlowRecord> {
  return parseLines(new LineReader(input, { maxLineBytes: opts.maxLineBytes }), opts);
}

/** Result of parseFile. */
export interface ParseFileResult {
  records: FlowRecord[];
  stats: ParseStats;
  format: FormatName;
}

/**
 * Parse a whole file by path (UTF-8; LF, CRLF or CR lines; lines bounded by maxLineBytes) into
 * memory.
 * @throws FlowFormatError FLOE_FLOW_UNKNOWN_FORMAT when format 'auto' detects nothing (an empty
 *   file included); file system errors (ENOENT ...) as thrown by node:fs.
 */
export async function parseFile(path: string, opts: Omit<ParseLinesOptions, 'file'> & { file?: string }): Promise<ParseFileResult> {
  const stats = opts.stats ?? new ParseStats();
  const file = opts.file ?? path;
  let format: FormatName | undefined = opts.format === 'auto' ? undefined : opts.format;
  const input = createReadStream(path);
  const records: FlowRecord[] = [];
  try {
    for await (const r of parseStream(input, {
      ...opts,
      file,
      stats,
      onFormat: (f) => {
        format = f;
        opts.onFormat?.(f);
      },
    })) {
      records.push(r);
    }
  } finally {
    input.destroy();
  }
  if (format === undefined) throw new FlowFormatError('FLOE_FLOW_UNKNOWN_FORMAT', 'empty input', file);
  return { records, stats, format };
}
