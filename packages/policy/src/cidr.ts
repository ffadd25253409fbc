/**
 * CIDR prefix sets with longest-prefix match, for the per-flow hot path.
 *
 * Prefix text is validated with ipaddr.js (RFC 4632 CIDR notation for IPv4 in strict four-part
 * decimal, RFC 4291 section 2.2/2.3 text forms for IPv6); the lookup structure is a binary trie
 * over the address bits stored in typed arrays, and lookups parse the address text with a small
 * allocation-light parser of the same text forms. IPv4-mapped IPv6 (`::ffff:a.b.c.d`,
 * RFC 4291 section 2.5.5.2) is treated as IPv4 both when adding and when looking up.
 */
import ipaddr from 'ipaddr.js';
import { CidrError } from './errors.js';

/** A parsed CIDR prefix (see {@link parseCidr}). */
export interface ParsedCidr {
  /** Address family after IPv4-mapped IPv6 is folded to IPv4. */
  family: 4 | 6;
  /** Canonical prefix text with the host bits masked: `10.0.0.0/8`, `2001:db8::/32` (RFC 5952 form). */
  prefix: string;
  /** Prefix length in bits: 0..32 for IPv4, 0..128 for IPv6. */
  bits: number;
  /** Network address alone, canonical text (`10.0.0.0`, `2001:db8::`). */
  network: string;
  /** Network address as 32-bit unsigned words, most significant first: 1 word for IPv4, 4 for IPv6. */
  words: number[];
}

/**
 * Parse CIDR text (`10.0.0.0/8`, `2001:db8::/32`) or a bare address (= /32 or /128).
 * IPv4 must be strict four-part decimal (no `010.1.1.1`, no `10.1`); IPv6 may carry an embedded
 * IPv4 tail; zone ids (`%eth0`) are refused. `::ffff:a.b.c.d/n` with n >= 96 becomes IPv4 /(n-96).
 * Host bits are masked off: `10.1.2.3/8` gives `10.0.0.0/8`.
 * @throws CidrError (code FLOE_POLICY_BAD_CIDR) when the text is not a valid address or prefix.
 */
export function parseCidr(text: string): ParsedCidr {
  if (typeof text !== 'string') throw new CidrError(String(text), 'not a string');
  const s = text.trim();
  if (s === '') throw new CidrError(text, 'empty');
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  let bits: number | undefined;
  if (slash >= 0) {
    const b = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) throw new CidrError(text, `prefix length ${JSON.stringify(b)} is not a number`);
    bits = Number(b);
  }
  if (addrText.includes('%')) throw new CidrError(text, 'zone ids are not allowed');
  let words: number[];
  let family: 4 | 6;
  if (addrText.includes(':')) {
    // ipaddr.js reads the deprecated IPv4-compatible form `::a.b.c.d` (RFC 4291 2.5.5.1) as
    // IPv4-mapped; spell it `::0:a.b.c.d` so it keeps its RFC meaning (`::102:304`).
    const ipv6Input = /^::\d+\.\d+\.\d+\.\d+$/.test(addrText) ? `::0:${addrText.slice(2)}` : addrText;
    if (!ipaddr.IPv6.isValid(ipv6Input)) throw new CidrError(text, 'not an IPv6 address');
    const a = ipaddr.IPv6.parse(ipv6Input);
    const p = a.parts;
    words = [((p[0] << 16) | p[1]) >>> 0, ((p[2] << 16) | p[3]) >>> 0, ((p[4] << 16) | p[5]) >>> 0, ((p[6] << 16) | p[7]) >>> 0];
    family = 6;
    const b = bits ?? 128;
    if (b > 128) throw new CidrError(text, `prefix length ${b} exceeds 128`);
    if (a.isIPv4MappedAddress() && b >= 96) {
      family = 4;
      words = [words[3]];
      bits = b - 96;
    } else {
      bits = b;
    }
  } else {
    if (!ipaddr.IPv4.isValidFourPartDecimal(addrText)) throw new CidrError(text, 'not a four-part decimal IPv4 address');
    const o = ipaddr.IPv4.parse(addrText).octets;
    words = [((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0];
    family = 4;
    bits = bits ?? 32;
    if (bits > 32) throw new CidrError(text, `prefix length ${bits} exceeds 32`);
  }
  // Mask host bits.
  for (let i = 0; i < words.length; i++) {
    const keep = Math.max(0, Math.min(32, bits - i * 32));
    const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    words[i] = (words[i] & mask) >>> 0;
  }
  const network = family === 4 ? v4Text(words[0]) : v6Text(words);
  return { family, prefix: `${network}/${bits}`, bits, network, words };
}

function v4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function v6Text(w: number[]): string {
  const parts: number[] = [];
  for (const x of w) parts.push(x >>> 16, x & 0xffff);
  return new ipaddr.IPv6(parts).toRFC5952String();
}

/**
 * An address parsed for lookup: `family` 4 with the address in `w0`, or family 6 with four
 * 32-bit words `w0..w3` (most significant first). IPv4-mapped IPv6 parses as family 4.
 */
export interface ParsedAddress {
  family: 4 | 6;
  w0: number;
  w1: number;
  w2: number;
  w3: number;
}

/** Strict dotted-quad IPv4 parser for the hot path; returns -1 when `s[from..to)` is not one. */
function parseV4(s: string, from: number, to: number): number {
  let acc = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      acc = acc * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return acc * 256 + octet; // stays a non-negative double < 2^32
}

/** Parse `s[from..to)` as colon-separated hex groups into `out` from index `at`; returns groups written or -1. An IPv4 tail counts as 2 groups when `allowV4Tail`. */
function parseGroups(s: string, from: number, to: number, out: number[], at: number, allowV4Tail: boolean): number {
  if (from === to) return 0;
  let n = 0;
  let start = from;
  for (let i = from; i <= to; i++) {
    if (i === to || s.charCodeAt(i) === 58) {
      const len = i - start;
      if (len === 0 || len > 4) {
        // An IPv4 tail (at least 7 characters) may end the address.
        if (i === to && allowV4Tail && len > 4) {
          const v4 = parseV4(s, start, to);
          if (v4 < 0 || at + n + 2 > 8) return -1;
          out[at + n] = Math.floor(v4 / 65536);
          out[at + n + 1] = v4 % 65536;
          return n + 2;
        }
        return -1;
      }
      let g = 0;
      for (let j = start; j < i; j++) {
        const c = s.charCodeAt(j);
        let d: number;
        if (c >= 48 && c <= 57) d = c - 48;
        else if (c >= 97 && c <= 102) d = c - 87;
        else if (c >= 65 && c <= 70) d = c - 55;
        else return -1;
        g = g * 16 + d;
      }
      if (at + n >= 8) return -1;
      out[at + n++] = g;
      start = i + 1;
    }
  }
  return n;
}

const groupsScratch: number[] = [0, 0, 0, 0, 0, 0, 0, 0];
const tailScratch: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

/**
 * Parse address text for lookup (no prefix length). Accepts strict dotted-quad IPv4 and IPv6 text
 * (RFC 4291 2.2, `::` compression, IPv4 tail, any hex case, an ignored `%zone`). Returns undefined
 * for anything else. IPv4-mapped IPv6 returns family 4.
 */
export function parseAddress(text: string): ParsedAddress | undefined {
  let end = text.length;
  let colon = false;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 58) colon = true;
    else if (c === 37) {
      end = i;
      break;
    } // %zone
  }
  if (!colon) {
    const v = parseV4(text, 0, end);
    return v < 0 ? undefined : { family: 4, w0: v, w1: 0, w2: 0, w3: 0 };
  }
  const g = groupsScratch;
  const dbl = text.indexOf('::');
  if (dbl >= 0 && dbl < end) {
    if (text.indexOf('::', dbl + 1) >= 0 && text.indexOf('::', dbl + 1) < end) return undefined;
    const nh = parseGroups(text, 0, dbl, g, 0, false);
    if (nh < 0) return undefined;
    const nt = parseGroups(text, dbl + 2, end, tailScratch, 0, true);
    if (nt < 0 || nh + nt > 7) return undefined;
    for (let i = nh; i < 8 - nt; i++) g[i] = 0;
    for (let i = 0; i < nt; i++) g[8 - nt + i] = tailScratch[i];
  } else {
    const n = parseGroups(text, 0, end, g, 0, true);
    if (n !== 8) return undefined;
  }
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return { family: 4, w0: g[6] * 65536 + g[7], w1: 0, w2: 0, w3: 0 };
  }
  return {
    family: 6,
    w0: g[0] * 65536 + g[1],
    w1: g[2] * 65536 + g[3],
    w2: g[4] * 65536 + g[5],
    w3: g[6] * 65536 + g[7],
  };
}

const ROOT4 = 0;
const ROOT6 = 1;
const NONE = -1;

/**
 * A set of IPv4 and IPv6 CIDR prefixes with a value per prefix; longest-prefix match.
 * Addresses and prefixes as text ('10.0.0.0/8', '2001:db8::/32', a bare address = /32 or /128;
 * IPv4-mapped IPv6 is treated as IPv4). Throws CidrError (code FLOE_POLICY_BAD_CIDR) on bad input
 * in add(). Lookup walks at most 32 (IPv4) or 128 (IPv6) trie nodes and allocates one small object.
 * Adding a prefix already present replaces its value.
 */
export class CidrSet<T = true> {
  // Node pool: children by bit (0 = no child; nodes 0 and 1 are the roots and never children),
  // and the index into `values` of the prefix ending at the node (-1 for none).
  private zero = new Int32Array(64);
  private one = new Int32Array(64);
  private val = new Int32Array(64).fill(NONE);
  private nodes = 2;
  private values: T[] = [];
  private prefixes: string[] = [];

  /**
   * Add a prefix (or a bare address) with a value; `value` defaults to `true`.
   * @throws CidrError (FLOE_POLICY_BAD_CIDR) when `cidr` is not valid.
   */
  add(cidr: string, value?: T): this {
    const p = parseCidr(cidr);
    const v = (value === undefined ? true : value) as T;
    let n = p.family === 4 ? ROOT4 : ROOT6;
    for (let i = 0; i < p.bits; i++) {
      const w = p.words[i >>> 5];
      const bit = (w >>> (31 - (i & 31))) & 1;
      const arr = bit ? this.one : this.zero;
      let next = arr[n];
      if (next === 0) {
        next = this.newNode();
        (bit ? this.one : this.zero)[n] = next;
      }
      n = next;
    }
    const existing = this.val[n];
    if (existing !== NONE) {
      this.values[existing] = v;
    } else {
      this.val[n] = this.values.length;
      this.values.push(v);
      this.prefixes.push(p.prefix);
    }
    return this;
  }

  private newNode(): number {
    if (this.nodes === this.zero.length) {
      const cap = this.zero.length * 2;
      const z = new Int32Array(cap);
      z.set(this.zero);
      this.zero = z;
      const o = new Int32Array(cap);
      o.set(this.one);
      this.one = o;
      const v = new Int32Array(cap).fill(NONE);
      v.set(this.val);
      this.val = v;
    }
    return this.nodes++;
  }

  /** Longest-prefix match of an address text; undefined when no prefix matches or `addr` is not a valid address. */
  lookup(addr: string): T | undefined {
    const a = parseAddress(addr);
    return a === undefined ? undefined : this.lookupParsed(a);
  }

  /** Longest-prefix match of an address already parsed with {@link parseAddress} (saves re-parsing when several sets are probed). */
  lookupParsed(a: ParsedAddress): T | undefined {
    const zero = this.zero;
    const one = this.one;
    const val = this.val;
    let n = a.family === 4 ? ROOT4 : ROOT6;
    let best = val[n];
    const words = a.family === 4 ? 1 : 4;
    for (let k = 0; k < words; k++) {
      const w = k === 0 ? a.w0 : k === 1 ? a.w1 : k === 2 ? a.w2 : a.w3;
      for (let i = 31; i >= 0; i--) {
        n = ((w >>> i) & 1) === 1 ? one[n] : zero[n];
        if (n === 0) return best === NONE ? undefined : this.values[best];
        const v = val[n];
        if (v !== NONE) best = v;
      }
    }
    return best === NONE ? undefined : this.values[best];
  }

  /** True when some prefix in the set contains `addr` (false for invalid text). */
  has(addr: string): boolean {
    const a = parseAddress(addr);
    return a !== undefined && this.lookupParsed(a) !== undefined;
  }

  /** True when some prefix contains the parsed address. */
  hasParsed(a: ParsedAddress): boolean {
    return this.lookupParsed(a) !== undefined;
  }

  /** Number of distinct prefixes in the set. */
  get size(): number {
    return this.values.length;
  }

  /** The prefixes in insertion order, canonical text with host bits masked (`10.0.0.0/8`), each with its current value. */
  entries(): Array<[string, T]> {
    return this.prefixes.map((p, i) => [p, this.values[i]]);
  }
}
