import { closeSync, openSync, readSync } from 'node:fs';
import { DETECT_LINES, detectFormat } from './detect.js';
import { identifyBytes, identifyLines, type ForeignFormat } from './foreign.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from './lines.js';
import type { FormatName } from './types.js';

/** What detectFile found. */
export interface DetectFileResult {
  /** The format floe reads that the file holds, when detected. */
  format?: FormatName;
  /** When not: the format floe does not read that it looks like, if any. */
  foreign?: ForeignFormat;
  /** True when the file has no non-empty line (and no over-long one). */
  empty: boolean;
}

/**
 * Detect a file's format the way parseLines does with 'auto' (the same line reader, so BOMs,
 * CR line ends and over-long lines are handled alike): the first bytes for binary formats, then
 * the first DETECT_LINES non-empty lines. Synchronous (readSync in 64 KiB chunks): for checks
 * before anything starts. Over-long lines are skipped without being held.
 * @throws file system errors as thrown by node:fs.
 */
export function detectFile(path: string, opts: { maxLineBytes?: number } = {}): DetectFileResult {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const sp = new LineSplitter(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    const lines: string[] = [];
    let nonEmpty = 0;
    let sawLong = false;
    let firstChunk = true;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) {
        for (const l of sp.finish())
          if (l.tooLong === undefined) lines.push(l.text);
          else sawLong = true;
        break;
      }
      const chunk = buf.subarray(0, n);
      if (firstChunk) {
        firstChunk = false;
        const t = chunk
          .toString('utf8')
          .replace(/^\uFEFF/, '')
          .trimStart();
        if (t.startsWith('<?xml') || t.startsWith('<conntrack') || t.startsWith('<flow')) return { format: 'conntrack-xml', empty: false };
        const foreign = identifyBytes(chunk);
        if (foreign !== undefined) return { foreign, empty: false };
      }
      for (const l of sp.push(Buffer.from(chunk))) {
        if (l.tooLong !== undefined) {
          sawLong = true;
          continue;
        }
        lines.push(l.text);
        if (l.text.trim() !== '') nonEmpty++;
      }
      if (nonEmpty >= DETECT_LINES || lines.length >= 1000) break;
    }
    const format = detectFormat(lines);
    if (format !== undefined) return { format, empty: false };
    const empty = !sawLong && lines.every((l) => l.trim() === '');
    return { foreign: identifyLines(lines), empty };
  } finally {
    closeSync(fd);
  }
}
