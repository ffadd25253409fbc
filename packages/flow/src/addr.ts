/**
 * Address normalisation for the parsers' hot path (hand-written, no regular expressions).
 *
 * - IPv4: a dotted quad of four decimal octets 0-255, without leading zeros (`010.0.0.1` is
 *   refused because inet_aton(3) would read it as octal).
 * - IPv6: parsed per RFC 4291 section 2.2 (hex groups, one `::`, an optional trailing dotted
 *   quad) and printed in the RFC 5952 canonical form: lowercase, no leading zeros, the longest
 *   run (first on a tie) of two or more zero groups compressed to `::`.
 * - IPv4-mapped IPv6 (`::ffff:a.b.c.d` or `::ffff:c000:201`, RFC 4291 section 2.5.5.2) becomes
 *   the IPv4 address. Other embedded forms are printed in hexadecimal.
 * Zone ids (`fe80::1%eth0`) are refused: no flow source here prints them.
 */

/** A normalised address and its family. */
export interface NormalizedAddr {
  addr: string;
  family: 4 | 6;
}

const groups = new Uint16Array(8);

/** True when `text` is a dotted-quad IPv4 address in the strict form normalizeAddr accepts. */
export function isIPv4(text: string): boolean {
  return ipv4End(text, 0, text.length) === text.length;
}

/** True when `text` is an IPv6 address (any valid RFC 4291 text form, IPv4-mapped included). */
export function isIPv6(text: string): boolean {
  return text.indexOf(':') !== -1 && parseIPv6(text);
}

/**
 * Normalise an address: IPv4 is returned as is when valid, IPv6 in RFC 5952 form, IPv4-mapped
 * IPv6 as IPv4. Returns undefined for anything else (never throws).
 */
export function normalizeAddr(text: string): NormalizedAddr | undefined {
  const n = text.length;
  if (n === 0 || n > 45) return undefined;
  if (text.indexOf(':') === -1) {
    return ipv4End(text, 0, n) === n ? { addr: text, family: 4 } : undefined;
  }
  if (!parseIPv6(text)) return undefined;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return {
      addr: `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`,
      family: 4,
    };
  }
  return { addr: formatIPv6(), family: 6 };
}

/**
 * normalizeAddr for text[start, end), without a result object (the parsers' hot path): the
 * normalised address, or undefined. Its family is {@link addrFamily} of the result. The result
 * never references `text` (a detector may keep it without keeping the line alive): a canonical
 * IPv4 address is the string returned for it before when recently seen (a small cache by value),
 * else a copy of its characters (ipv4Text); IPv6 and IPv4-mapped texts are printed anew.
 */
export function normalizeAddrIn(text: string, start: number, end: number): string | undefined {
  const n = end - start;
  if (n <= 0 || n > 45) return undefined;
  const v = ipv4Value(text, start, end);
  if (v >= 0) return ipv4Text(text, start, end, v);
  // Not a dotted quad: IPv6 when it holds a ':' (as normalizeAddr decides), else nothing.
  const colon = text.indexOf(':', start);
  if (colon < 0 || colon >= end) return undefined;
  return normalizeAddr(text.slice(start, end))?.addr;
}

/**
 * normalizeAddrIn for the parsers that hold the line's code units (parse/codes.ts loadCodes):
 * `codes[i]` is `text.charCodeAt(i)` over [start, end); the dotted quad is read from them.
 */
export function normalizeAddrCodes(text: string, codes: Uint16Array, start: number, end: number): string | undefined {
  const n = end - start;
  if (n <= 0 || n > 45) return undefined;
  const v = ipv4ValueCodes(codes, start, end);
  if (v >= 0) {
    const slot = v4Slot(v);
    if (v4Values[slot] === v) return v4Texts[slot];
    return v4Store(slot, v, n < SLICE_MIN ? text.slice(start, end) : ownCodes(codes, start, n));
  }
  const colon = text.indexOf(':', start);
  if (colon < 0 || colon >= end) return undefined;
  return normalizeAddr(text.slice(start, end))?.addr;
}

/** ipv4Value read from code units (see normalizeAddrCodes). */
function ipv4ValueCodes(codes: Uint16Array, start: number, end: number): number {
  let i = start;
  let value = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || codes[i] !== 46 /* . */) return -1;
      i++;
    }
    if (i >= end) return -1;
    let v = codes[i] - 48;
    if (v < 0 || v > 9) return -1;
    i++;
    for (let k = 0; k < 2 && i < end; k++) {
      const d = codes[i] - 48;
      if (d < 0 || d > 9) break;
      if (v === 0) return -1; // leading zero
      v = v * 10 + d;
      i++;
    }
    if (v > 255) return -1;
    value = value * 256 + v;
  }
  return i === end ? value : -1;
}

/** The family of an address normalizeAddr or normalizeAddrIn returned: 6 when it holds a ':', else 4. */
export function addrFamily(addr: string): 4 | 6 {
  return addr.indexOf(':') < 0 ? 4 : 6;
}

/**
 * The value (0 to 2^32 - 1) of the dotted quad text[start, end) in the strict form normalizeAddr
 * accepts (ipv4End: four decimal octets 0-255, no leading zeros), or -1. One pass, no allocation.
 */
function ipv4Value(text: string, start: number, end: number): number {
  let i = start;
  let value = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || text.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
    const c0 = i < end ? text.charCodeAt(i) : -1;
    if (c0 < 48 || c0 > 57) return -1;
    let v = c0 - 48;
    i++;
    // Up to two more digits, none after a leading zero.
    for (let k = 0; k < 2 && i < end; k++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      if (v === 0) return -1; // leading zero
      v = v * 10 + (c - 48);
      i++;
    }
    if (v > 255) return -1;
    value = value * 256 + v;
  }
  return i === end ? value : -1;
}

/**
 * Recently returned IPv4 texts by value, direct-mapped (V4_CACHE_SIZE slots, a multiplicative
 * hash of the value picks the slot; a new address replaces the slot's old one). Flows repeat
 * their addresses (the node's own address is in nearly every line of its log), so a hit saves
 * the slice. A cached text references no input line (see ipv4Text).
 */
const V4_CACHE_BITS = 10;
const V4_CACHE_SIZE = 1 << V4_CACHE_BITS;
const v4Values = new Float64Array(V4_CACHE_SIZE).fill(-1);
const v4Texts: string[] = new Array<string>(V4_CACHE_SIZE).fill('');

/**
 * The text of IPv4 address `value` (text[start, end) is its canonical form): the cached string
 * when its slot holds this value, else a new one, cached. Never a string that references `text`:
 * V8 copies a slice shorter than 13 characters, and a longer one would be a sliced string keeping
 * its whole parent (the line, and through it the read chunk) alive, so that one is copied
 * (ownText). A detector may keep the text for as long as it likes (see @floe/detect retain.ts).
 */
function ipv4Text(text: string, start: number, end: number, value: number): string {
  const slot = v4Slot(value);
  if (v4Values[slot] === value) return v4Texts[slot];
  const n = end - start;
  return v4Store(slot, value, n < SLICE_MIN ? text.slice(start, end) : ownText(text, start, n));
}

/** The cache slot of IPv4 address `value` (a multiplicative hash, Knuth's 2^32 / golden ratio). */
function v4Slot(value: number): number {
  return Math.imul(value | 0, 0x9e3779b1) >>> (32 - V4_CACHE_BITS);
}

/** Keep `t` (the text of `value`) in `slot`, in place of what was there; returns t. */
function v4Store(slot: number, value: number, t: string): string {
  v4Values[slot] = value;
  v4Texts[slot] = t;
  return t;
}

/** Shortest substring V8 makes a sliced string (referencing its parent) instead of a copy (`SlicedString::kMinLength`). */
const SLICE_MIN = 13;

/**
 * text[start, start + n) (a dotted quad of 13 to 15 characters) as a flat string of its own (one
 * String.fromCharCode), where a slice would be a sliced string keeping the whole line alive.
 */
function ownText(s: string, a: number, n: number): string {
  const units: number[] = [];
  for (let i = 0; i < n; i++) units.push(s.charCodeAt(a + i));
  return String.fromCharCode(...units);
}

/** ownText from a line's code units (normalizeAddrCodes). */
function ownCodes(C: Uint16Array, a: number, n: number): string {
  if (n === 13) return String.fromCharCode(C[a], C[a + 1], C[a + 2], C[a + 3], C[a + 4], C[a + 5], C[a + 6], C[a + 7], C[a + 8], C[a + 9], C[a + 10], C[a + 11], C[a + 12]);
  if (n === 14)
    return String.fromCharCode(C[a], C[a + 1], C[a + 2], C[a + 3], C[a + 4], C[a + 5], C[a + 6], C[a + 7], C[a + 8], C[a + 9], C[a + 10], C[a + 11], C[a + 12], C[a + 13]);
  return String.fromCharCode(C[a], C[a + 1], C[a + 2], C[a + 3], C[a + 4], C[a + 5], C[a + 6], C[a + 7], C[a + 8], C[a + 9], C[a + 10], C[a + 11], C[a + 12], C[a + 13], C[a + 14]);
}

/**
 * Scan a dotted quad in text[start, end). Returns the index after it when the whole range is a
 * valid IPv4 address, else -1. Stores the value in groups[gi], groups[gi+1] when gi >= 0.
 */
function ipv4End(text: string, start: number, end: number, gi = -1): number {
  let i = start;
  let hi = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || text.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
    const s = i;
    let v = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
      if (i - s > 3) return -1;
    }
    if (i === s || v > 255) return -1;
    if (i - s > 1 && text.charCodeAt(s) === 48) return -1; // leading zero
    if (gi >= 0) {
      if (part === 0) hi = v << 8;
      else if (part === 1) groups[gi] = hi | v;
      else if (part === 2) hi = v << 8;
      else groups[gi + 1] = hi | v;
    }
  }
  return i === end ? i : -1;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parse IPv6 text into `groups`. Returns false when invalid. */
function parseIPv6(text: string): boolean {
  const n = text.length;
  let i = 0;
  let g = 0; // groups written
  let gap = -1; // group index where '::' sits
  if (n < 2) return false;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false; // a lone leading ':'
    gap = 0;
    i = 2;
    if (i === n) {
      groups.fill(0);
      return true;
    }
  }
  while (i < n) {
    if (g >= 8) return false;
    // Look for a dotted quad: only as the last piece, with room for two groups.
    const s = i;
    let v = 0;
    let digits = 0;
    while (i < n) {
      const h = hexVal(text.charCodeAt(i));
      if (h < 0) break;
      v = (v << 4) | h;
      i++;
      digits++;
    }
    if (i < n && text.charCodeAt(i) === 46 /* . */) {
      if (g > 6) return false;
      if (ipv4End(text, s, n, g) !== n) return false;
      g += 2;
      i = n;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    groups[g++] = v;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false; // a second '::'
      gap = g;
      i++;
      if (i === n) break;
    } else if (i === n) {
      return false; // trailing single ':'
    }
  }
  if (gap < 0) return g === 8;
  if (g === 8) return false; // '::' must stand for at least one group
  const tail = g - gap;
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[g - 1 - k];
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  return true;
}

/** Print `groups` in RFC 5952 section 4 form. */
function formatIPv6(): string {
  let bestStart = -1;
  let bestLen = 1; // a run must be longer than 1 group (RFC 5952 section 4.2.2)
  for (let k = 0; k < 8; ) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    const s = k;
    while (k < 8 && groups[k] === 0) k++;
    if (k - s > bestLen) {
      bestLen = k - s;
      bestStart = s;
    }
  }
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      out += '::';
      k += bestLen - 1;
      continue;
    }
    if (out.length > 0 && out.charCodeAt(out.length - 1) !== 58) out += ':';
    out += groups[k].toString(16);
  }
  return out;
}
