/**
 * What every parser does with odd characters before reading a line (applied by createParser's
 * parsers, so parseLines, parseFile, the collector and `floe analyze` all behave the same):
 *
 * - stripped, because they are safe to drop: a trailing CR (a CRLF line split on LF only), a
 *   U+FEFF byte order mark at the start of the line (a BOM at the start of a file, or of a file
 *   appended to another), and a run of NUL bytes at the start of the line (what a syslog file
 *   holds after a crash: the writer's preallocated space before the next real line);
 * - rejected with reason `control-byte` (field: the character as `U+XXXX`): any other C0
 *   control byte except TAB, DEL, and C1 controls (U+0080..U+009F). No format floe reads has
 *   them in a field (conntrack and kernel LOG lines are printable ASCII, XML 1.0 forbids C0
 *   controls, JSON forbids them unescaped), so such a line is damaged or hostile, and dropping
 *   the bytes could join two fields into one that parses.
 *
 * Escaped controls inside JSON strings (`\u001b` in ulogd's `oob.prefix`) are decoded by
 * JSON.parse and checked by the ulogd parser on the fields it keeps.
 */

/** The cleaned line, or the code point of the first control character that rejects it. */
export type CheckedLine = { ok: true; text: string } | { ok: false; code: number };

/** Clean or reject one line as described above. */
export function checkLine(line: string): CheckedLine {
  const e = cleanEnd(line);
  const s = cleanStart(line, e);
  const c = controlIn(line, s, e);
  if (c >= 0) return { ok: false, code: c };
  return { ok: true, text: s === 0 && e === line.length ? line : line.slice(s, e) };
}

/** End of the cleaned line: its length, less one for a trailing CR. */
export function cleanEnd(line: string): number {
  const e = line.length;
  return e > 0 && line.charCodeAt(e - 1) === 13 ? e - 1 : e;
}

/** Start of the cleaned line (before `end`, from cleanEnd): after a run of NULs, then one U+FEFF. */
export function cleanStart(line: string, end: number): number {
  let s = 0;
  while (s < end && line.charCodeAt(s) === 0) s++;
  if (s < end && line.charCodeAt(s) === 0xfeff) s++;
  return s;
}

/** First control character (C0 but TAB, DEL, C1) in s, or -1. */
export function findControl(s: string): number {
  return controlIn(s, 0, s.length);
}

/**
 * Longest line controlIn scans four characters at a time (its scratch buffer: 4 KiB, kept;
 * longer lines are scanned one character at a time, without a buffer that large kept alive).
 */
const WORD_SCAN_MAX = 4096;
const scratch = Buffer.alloc(WORD_SCAN_MAX + 4);
const scratchWords = new Int32Array(scratch.buffer, scratch.byteOffset, (WORD_SCAN_MAX + 4) >> 2);

/**
 * The first control character (C0 but TAB, DEL, C1; see the top of this file) of s[start, end), or -1.
 *
 * Lines are nearly always printable ASCII, so a line that starts at 0 is first copied as Latin-1
 * bytes (`Buffer.write`: one native copy; characters above U+00FF keep their low byte) and
 * checked four bytes per 32-bit word: a word is flagged when a byte is below 0x20, is 0x7F or
 * has its high bit set (SWAR, "determine if a word has a byte less than n", Bit Twiddling
 * Hacks). A control character always flags its word (it is below U+00A0, so copied exactly);
 * TAB, non-ASCII text and a stray low byte flag it too, and then that word's four characters
 * are read from `s` one at a time, which alone decides. So the result is the character loop's.
 */
export function controlIn(s: string, start: number, end: number): number {
  if (start !== 0 || end > WORD_SCAN_MAX) return controlLoop(s, start, end);
  scratch.write(s, 0, end, 'latin1');
  // Pad the last word with spaces (not flagged); this also hides a trailing CR past `end`.
  scratch[end] = 32;
  scratch[end + 1] = 32;
  scratch[end + 2] = 32;
  const words = (end + 3) >> 2;
  for (let w = 0; w < words; w++) {
    const x = scratchWords[w];
    const del = x ^ 0x7f7f7f7f;
    if (((((x - 0x20202020) & ~x) | ((del - 0x01010101) & ~del) | x) & 0x80808080) !== 0) {
      const a = w << 2;
      const c = controlLoop(s, a, Math.min(a + 4, end));
      if (c >= 0) return c;
    }
  }
  return -1;
}

/** controlIn one character at a time. */
function controlLoop(s: string, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || (c >= 0x7f && c <= 0x9f)) return c;
  }
  return -1;
}

/** `U+001B` style name of a code point (for ParseError.field). */
export function codePointName(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
