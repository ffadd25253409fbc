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
  let s = 0;
  let e = line.length;
  if (e > 0 && line.charCodeAt(e - 1) === 13) e--;
  while (s < e && line.charCodeAt(s) === 0) s++;
  if (s < e && line.charCodeAt(s) === 0xfeff) s++;
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    if ((c < 32 && c !== 9) || (c >= 0x7f && c <= 0x9f)) return { ok: false, code: c };
  }
  return { ok: true, text: s === 0 && e === line.length ? line : line.slice(s, e) };
}

/** First control character (C0 but TAB, DEL, C1) in s, or -1. */
export function findControl(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || (c >= 0x7f && c <= 0x9f)) return c;
  }
  return -1;
}

/** `U+001B` style name of a code point (for ParseError.field). */
export function codePointName(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
