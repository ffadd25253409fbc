/** Streaming import of a labelled file: bytes in, LabelledRecords out, constant memory. */
import { createReadStream } from 'node:fs';
import { checkLine, DEFAULT_MAX_LINE_BYTES, LineReader, parseError, ParseStats, type ParseError } from '@floe/flow';
import { FloeEvalError } from '../errors.js';
import { createCicImporter } from './cic.js';
import { createCtuImporter } from './ctu.js';
import { createNslKddImporter } from './nslkdd.js';
import type { LabelledFormat, LabelledRecord, RowImporter, Synthesized } from './types.js';
import { createUnswImporter } from './unsw.js';
import { createZeekConnImporter } from './zeek.js';

/** A new row importer for one file of `format`. @throws FloeEvalError FLOE_EVAL_BAD_FORMAT_NAME for an unknown name. */
export function createImporter(format: LabelledFormat): RowImporter {
  switch (format) {
    case 'unsw-nb15':
      return createUnswImporter();
    case 'cic-ids':
      return createCicImporter();
    case 'nsl-kdd':
      return createNslKddImporter();
    case 'ctu':
      return createCtuImporter();
    case 'zeek-conn':
      return createZeekConnImporter();
    default:
      throw new FloeEvalError('FLOE_EVAL_BAD_FORMAT_NAME', String(format));
  }
}

/**
 * Counters of one import: ParseStats (parsed rows, skipped lines, rejected rows by reason, the
 * first 100 errors with file, line and field) plus rows left out on purpose by reason
 * (`not-ip`, `management-record`), what the importer had to synthesize, and rows per label class.
 */
export class ImportStats extends ParseStats {
  readonly skippedByReason = new Map<string, number>();
  readonly byClass = new Map<string, number>();
  synthesized: Synthesized = { addresses: false, times: false };
}

/** Options of importLines / importFile. */
export interface ImportOptions {
  /** File name put on every ParseError. */
  file: string;
  stats?: ImportStats;
  /** Called for every rejected row (after it is counted). */
  onError?: (e: ParseError) => void;
  /** Longest line (bytes), default 1 MiB; longer lines are rejected as `line-too-long`. */
  maxLineBytes?: number;
}

/**
 * Import rows from a byte stream through @floe/flow's LineReader (so CRLF, BOMs, over-long lines
 * and control bytes are handled as for every flow input) and the format's RowImporter. Yields
 * one record at a time: memory stays constant whatever the file's size. A bad row is counted and
 * reported through `onError`, never thrown.
 * @throws FloeEvalError FLOE_EVAL_BAD_HEADER when the header lacks the format's columns.
 */
export async function* importLines(input: AsyncIterable<Buffer | Uint8Array | string>, format: LabelledFormat, opts: ImportOptions): AsyncGenerator<LabelledRecord> {
  const stats = opts.stats ?? new ImportStats();
  const imp = createImporter(format);
  const reject = (e: ParseError): void => {
    e.file = opts.file;
    stats.reject(e);
    opts.onError?.(e);
  };
  for await (const l of new LineReader(input, { maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES })) {
    if (l.tooLong !== undefined) {
      reject({ ...parseError(l.no, 'line-too-long', l.text), bytes: l.tooLong });
      continue;
    }
    const checked = checkLine(l.text);
    if (!checked.ok) {
      reject(parseError(l.no, 'control-byte', l.text, `U+${checked.code.toString(16).toUpperCase().padStart(4, '0')}`));
      continue;
    }
    let r: LabelledRecord | ParseError | null;
    try {
      r = imp.parseLine(checked.text, l.no);
    } catch (e) {
      if (e instanceof FloeEvalError) throw new FloeEvalError(e.code, e.detail, opts.file);
      r = parseError(l.no, 'parser-error', checked.text);
    }
    if (r === null) {
      stats.skipped++;
      if (imp.skipReason) stats.skippedByReason.set(imp.skipReason, (stats.skippedByReason.get(imp.skipReason) ?? 0) + 1);
    } else if ('reason' in r) {
      reject(r);
    } else {
      stats.parsed++;
      stats.byClass.set(r.label.cls, (stats.byClass.get(r.label.cls) ?? 0) + 1);
      yield r;
    }
  }
  stats.synthesized = { ...imp.synthesized };
}

/** importLines over a file read as a stream. */
export async function* importFile(path: string, format: LabelledFormat, opts: Omit<ImportOptions, 'file'> & { file?: string } = {}): AsyncGenerator<LabelledRecord> {
  const input = createReadStream(path);
  try {
    yield* importLines(input, format, { ...opts, file: opts.file ?? path });
  } finally {
    input.destroy();
  }
}
