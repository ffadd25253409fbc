/**
 * Makes text from input safe to write to a terminal or a log: every character that a terminal
 * or a viewer could act on becomes a visible escape, everything else is kept as it is.
 *
 * - C0 controls and DEL: `\n`, `\r`, `\t`, else `\xHH` (so ESC `[31m` shows as `\x1b[31m`);
 * - C1 controls (U+0080..U+009F, which include the 8-bit CSI U+009B): `\u{9b}`;
 * - bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A..U+202E,
 *   U+2066..U+2069; the "Trojan Source" set), line/paragraph separators U+2028/U+2029 and
 *   U+FEFF: `\u{202e}`;
 * - lone UTF-16 surrogates (from JSON `\ud800`): `\u{d800}`;
 * - the backslash itself: `\\`, so an escape in the output always means an escape was made.
 *
 * Returns the same string when nothing needs escaping. Never throws.
 */
export function escapeText(text: string): string {
  let i = 0;
  const n = text.length;
  for (; i < n; i++) if (needsEscape(text, i)) break;
  if (i === n) return text;
  let out = text.slice(0, i);
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += text[i] + text[i + 1];
        i++;
        continue;
      }
    }
    if (!needsEscape(text, i)) {
      out += text[i];
      continue;
    }
    if (c === 92) out += '\\\\';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 32 || c === 127) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += `\\u{${c.toString(16)}}`;
  }
  return out;
}

function needsEscape(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 32 || c === 92 || (c >= 127 && c <= 159)) return true;
  if (c < 0x61c) return false;
  if (c === 0x61c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true;
  if (c === 0x2028 || c === 0x2029 || c === 0xfeff) return true;
  if (c >= 0xd800 && c <= 0xdbff) {
    const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    return !(d >= 0xdc00 && d <= 0xdfff);
  }
  if (c >= 0xdc00 && c <= 0xdfff) {
    const p = i > 0 ? s.charCodeAt(i - 1) : 0;
    return !(p >= 0xd800 && p <= 0xdbff);
  }
  return false;
}

/** Longest stretch of input (in UTF-16 units, before escaping) that {@link quoteExcerpt} shows: 40. */
export const EXCERPT_CHARS = 40;

/**
 * A short, safe echo of input for an error message: the first `max` characters (default
 * {@link EXCERPT_CHARS}) through {@link escapeText}, in double quotes, with `…(N chars)` when
 * cut, so a 50 MB line or a terminal escape never reaches the message whole or raw. Never throws.
 */
export function quoteExcerpt(text: string, max: number = EXCERPT_CHARS): string {
  if (text.length <= max) return `"${escapeText(text)}"`;
  return `"${escapeText(text.slice(0, max))}"…(${text.length} chars)`;
}
