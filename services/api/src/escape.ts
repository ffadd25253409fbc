/**
 * Escaping of client text the API stores or echoes (a block `reason`, a field name in an error
 * message), so a terminal or a log viewer never acts on it.
 *
 * LOCAL STAND-IN: @floe/flow gains `escapeText` (packages/flow/src/escape.ts, issue 6) with the
 * same contract; once it is on main this file goes and the imports point there.
 */

/**
 * `text` with every character a terminal or viewer could act on made visible: C0 controls and
 * DEL as `\n`, `\r`, `\t` or `\xHH` (ESC is `\x1b`); C1 controls (U+0080..U+009F, the 8-bit CSI
 * U+009B among them), bidirectional formatting characters (U+061C, U+200E, U+200F,
 * U+202A..U+202E, U+2066..U+2069), U+2028, U+2029, U+FEFF and lone surrogates as `\u{hex}`; the
 * backslash as `\\`, so every backslash in the result starts an escape. Other text is kept.
 * Returns `text` itself when nothing needs escaping. Never throws.
 */
export function escapeText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f\\\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (ch) => {
    const c = ch.charCodeAt(0);
    if (c === 92) return '\\\\';
    if (c === 10) return '\\n';
    if (c === 13) return '\\r';
    if (c === 9) return '\\t';
    if (c < 32 || c === 127) return `\\x${c.toString(16).padStart(2, '0')}`;
    return `\\u{${c.toString(16)}}`;
  });
}
