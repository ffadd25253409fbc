/**
 * A line's UTF-16 code units in a typed array, for parsers that read most characters of every
 * line (the kernel LOG parser): reading `codes[i]` costs a fraction of `line.charCodeAt(i)`,
 * which must first find the characters of a sliced or concatenated string (the lines of a read
 * chunk are slices of it). One native copy (`Buffer.write`, UTF-16LE: every code unit as is,
 * lone surrogates included) fills the array; the numbers below read it in place.
 *
 * Past the line's end the array holds CODES_PAD code units of PAST_END, so a parser may look a
 * few characters ahead without a bounds check: PAST_END (U+FFFF, a noncharacter) equals no
 * character a parser looks for, is no digit and no letter, as `charCodeAt`'s NaN past the end.
 */
import { hexDigit } from './num.js';

/** The code unit stored past the end of the line (U+FFFF: never a character a parser tests for). */
export const PAST_END = 0xffff;

/**
 * How many PAST_END code units follow the line in the array: the furthest a reader may look
 * past the line's end (the kernel LOG parser looks at most 4 units ahead of a position in it).
 */
export const CODES_PAD = 8;

/** Longest line (in code units) whose array is kept for the next line; a longer one gets its own. */
const KEPT_MAX = 1 << 16;

/**
 * Node's Buffer.prototype.ucs2Write when present (what `buf.write(s, offset, length, 'utf16le')`
 * calls after checking its arguments, which loadCodes does not need; undocumented, so looked up,
 * with `write` when absent).
 */
const ucs2Write = (Buffer.prototype as { ucs2Write?: (this: Buffer, s: string, offset: number, length: number) => number }).ucs2Write;

let kept = new Uint16Array(1024);
let keptBytes = Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength);
let keptWords = new Int32Array(kept.buffer, kept.byteOffset, kept.length >> 1);

/**
 * The code units of `line` in a Uint16Array, followed by CODES_PAD PAST_END units. The array is
 * shared and overwritten by the next call (for lines up to KEPT_MAX units): read it before then.
 */
export function loadCodes(line: string): Uint16Array {
  const n = line.length;
  let codes = kept;
  let bytes = keptBytes;
  if (n + CODES_PAD > codes.length) {
    let size = codes.length;
    while (size < n + CODES_PAD) size *= 2;
    codes = new Uint16Array(size);
    bytes = Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength);
    if (size <= KEPT_MAX) {
      kept = codes;
      keptBytes = bytes;
      keptWords = new Int32Array(codes.buffer, codes.byteOffset, codes.length >> 1);
    }
  }
  if (ucs2Write !== undefined) ucs2Write.call(bytes, line, 0, 2 * n);
  else bytes.write(line, 0, 2 * n, 'utf16le');
  for (let i = n; i < n + CODES_PAD; i++) codes[i] = PAST_END;
  return codes;
}

/**
 * The first control character (C0 but TAB, DEL, C1: clean.ts) of codes[start, end), or -1: the
 * result of clean.ts `controlIn` for the line loadCodes loaded, from its code units. Two code
 * units per 32-bit word: a word is flagged when a unit is below 0x20 or at least 0x7F (SWAR,
 * "determine if a word has a byte less than n" on 16-bit lanes, Bit Twiddling Hacks); TAB and
 * non-ASCII text flag it too, and then its two units are checked one at a time, which decides.
 */
export function controlInCodes(codes: Uint16Array, start: number, end: number): number {
  if ((start & 1) !== 0 || codes !== kept) return controlLoop(codes, start, end);
  const words = keptWords;
  // Words wholly inside [start, end); the odd last unit (if any) is checked after them.
  // A lane below 0x20 borrows into its high bit; a lane of 0x7F or more reaches 0x8000 plus
  // 0x7F81 (a carry out of the low lane comes only from a lane that is flagged already).
  // First one pass that only gathers the flags (nearly every line has none), then, for a
  // flagged line, the flagged words' units one at a time.
  const w0 = start >> 1;
  const w1 = end >> 1;
  let flags = 0;
  for (let w = w0; w < w1; w++) {
    const x = words[w];
    flags |= ((x - 0x00200020) & ~x) | (x + 0x7f817f81) | x;
  }
  if ((flags & 0x80008000) !== 0) {
    for (let w = w0; w < w1; w++) {
      const x = words[w];
      if (((((x - 0x00200020) & ~x) | (x + 0x7f817f81) | x) & 0x80008000) !== 0) {
        const c = controlLoop(codes, w << 1, (w << 1) + 2);
        if (c >= 0) return c;
      }
    }
  }
  // The odd last unit, if any.
  return controlLoop(codes, w1 << 1, end);
}

/** controlInCodes one unit at a time. */
function controlLoop(codes: Uint16Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const c = codes[i];
    if ((c < 32 && c !== 9) || (c >= 0x7f && c <= 0x9f)) return c;
  }
  return -1;
}

/**
 * codes[start, end) as an unsigned decimal integer (num.ts parseUint on the code units): -1 when
 * the range is empty, holds anything but digits, or exceeds Number.MAX_SAFE_INTEGER.
 */
export function uintAt(codes: Uint16Array, start: number, end: number): number {
  if (end <= start || end - start > 16) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = codes[i] - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : -1;
}

/** A port number (0-65535) from codes[start, end) (num.ts parsePort); -1 when invalid. */
export function portAt(codes: Uint16Array, start: number, end: number): number {
  const v = uintAt(codes, start, end);
  return v > 65535 ? -1 : v;
}

/**
 * An unsigned 32-bit integer in decimal or 0x-hex form from codes[start, end) (num.ts parseU32);
 * -1 when invalid.
 */
export function u32At(codes: Uint16Array, start: number, end: number): number {
  let v: number;
  if (end - start > 2 && codes[start] === 48 && (codes[start + 1] | 32) === 120) {
    if (end - start > 10) return -1;
    v = 0;
    for (let i = start + 2; i < end; i++) {
      const h = hexDigit(codes[i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
  } else {
    v = uintAt(codes, start, end);
  }
  return v > 0xffffffff ? -1 : v;
}

/** Shortest substring V8 makes a sliced string (referencing its parent) instead of a copy (`SlicedString::kMinLength`). */
const SLICE_MIN = 13;

/** Longest text ownSlice copies with one String.fromCharCode call (its units are the call's arguments). */
const FROM_CHAR_CODE_MAX = 1024;

/**
 * line[a, b) (`codes` holds the line's code units) as a string that references no other string:
 * a slice when shorter than 13 units (V8 copies those), else a copy of the units; a longer slice
 * would be a sliced string keeping the whole line (and the chunk it was read from) alive.
 */
export function ownSlice(line: string, codes: Uint16Array, a: number, b: number): string {
  const n = b - a;
  if (n < SLICE_MIN) return line.slice(a, b);
  if (n <= FROM_CHAR_CODE_MAX) return String.fromCharCode.apply(null, codes.subarray(a, b) as unknown as number[]);
  return Buffer.from(codes.buffer, codes.byteOffset + 2 * a, 2 * n).toString('utf16le');
}

/** True when codes[a, b) are the code units of `s`. */
export function sameText(codes: Uint16Array, a: number, b: number, s: string): boolean {
  if (b - a !== s.length) return false;
  for (let i = a; i < b; i++) if (codes[i] !== s.charCodeAt(i - a)) return false;
  return true;
}
