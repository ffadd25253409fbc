/** Small number scanners shared by the parsers (no regular expressions, no allocation). */

/**
 * Parse text[start, end) as an unsigned decimal integer. Returns -1 when the range is empty,
 * holds anything but digits, or exceeds Number.MAX_SAFE_INTEGER.
 */
export function parseUint(text: string, start = 0, end = text.length): number {
  if (end <= start || end - start > 16) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : -1;
}

/** Parse a port number (0-65535) from text[start, end); -1 when invalid. */
export function parsePort(text: string, start = 0, end = text.length): number {
  const v = parseUint(text, start, end);
  return v > 65535 ? -1 : v;
}

/** The value of the hexadecimal digit with UTF-16 code `c` (0-9, a-f, A-F), or -1. */
export function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * Parse an unsigned 32-bit integer in decimal or 0x-hex form (marks are printed both ways) from
 * text[start, end); -1 when invalid.
 */
export function parseU32(text: string, start = 0, end = text.length): number {
  let v: number;
  if (end - start > 2 && text.charCodeAt(start) === 48 && (text.charCodeAt(start + 1) | 32) === 120) {
    if (end - start > 10) return -1;
    v = 0;
    for (let i = start + 2; i < end; i++) {
      const h = hexDigit(text.charCodeAt(i));
      if (h < 0) return -1;
      v = v * 16 + h;
    }
  } else {
    v = parseUint(text, start, end);
  }
  return v > 0xffffffff ? -1 : v;
}

/** Read `sec.frac` (seconds, optional fraction) from text[start,end) as ms since epoch (floored); -1 when invalid. */
export function parseEpochSecondsToMs(text: string, start: number, end: number): number {
  let dot = -1;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) === 46) {
      dot = i;
      break;
    }
  }
  const secEnd = dot < 0 ? end : dot;
  const sec = parseUint(text, start, secEnd);
  if (sec < 0) return -1;
  let ms = 0;
  if (dot >= 0) {
    const fracLen = end - dot - 1;
    if (fracLen < 1 || fracLen > 9) return -1;
    const frac = parseUint(text, dot + 1, end);
    if (frac < 0) return -1;
    ms = Math.floor(frac / 10 ** (fracLen - 3));
  }
  return sec * 1000 + ms;
}
