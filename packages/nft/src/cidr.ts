import ipaddr from 'ipaddr.js';
import { normalizeAddr } from '@floe/flow';
import { NFT_ERROR_CODES, NftError } from './errors.js';

/** A parsed target: family, network address (bits below the prefix cleared) and prefix length. */
export interface Prefix {
  family: 4 | 6;
  /** Network address as an unsigned integer (32 or 128 bits). */
  bits: bigint;
  len: number;
  /** Canonical text: `203.0.113.7/32`, `2001:db8::/64` (RFC 5952 compression, lowercase). */
  cidr: string;
}

function toBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function fromBigInt(v: bigint, family: 4 | 6): string {
  const n = family === 4 ? 4 : 16;
  const bytes: number[] = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

function width(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/**
 * Parses an address (`10.0.0.1`, `2001:db8::1`) or a CIDR prefix (`10.1.0.0/16`) into a
 * {@link Prefix}. A bare address is a host prefix (/32, /128). Host bits below the prefix are
 * cleared (`10.1.2.3/16` → `10.1.0.0/16`). The address is read by @floe/flow's strict
 * `normalizeAddr` (no leading zeros in IPv4, no zone id, no spaces): only `::ffff:a.b.c.d`
 * (IPv4-mapped, RFC 4291 §2.5.5.2) is IPv4 — with a length ≥ 96 it becomes the IPv4 prefix (in
 * an `inet` table IPv4 packets only ever match the IPv4 set); `::0.0.0.1` is the IPv6 `::1` and
 * `::1.2.3.4` the IPv6 `::102:304` (ipaddr.js alone reads both as IPv4-mapped). Throws NftError
 * FLOE_NFT_BAD_TARGET otherwise, and for an IPv4-mapped prefix shorter than /96.
 */
export function parsePrefix(target: string): Prefix {
  const bad = (why: string): NftError => new NftError(NFT_ERROR_CODES.BAD_TARGET, `bad target ${JSON.stringify(target)}: ${why}`, { target });
  if (typeof target !== 'string') throw bad('not a string');
  const slash = target.indexOf('/');
  const addrText = slash < 0 ? target : target.slice(0, slash);
  const n = normalizeAddr(addrText);
  if (!n) throw bad('not an IPv4 or IPv6 address');
  const writtenV6 = addrText.includes(':');
  let len = writtenV6 ? 128 : 32;
  if (slash >= 0) {
    const lenText = target.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) throw bad('prefix length is not a number');
    len = Number(lenText);
    if (len > (writtenV6 ? 128 : 32)) throw bad(`prefix length over ${writtenV6 ? 128 : 32}`);
  }
  const family = n.family;
  if (writtenV6 && family === 4) {
    if (len < 96) throw bad('an IPv4-mapped prefix must be /96 or longer');
    len -= 96;
  }
  // normalizeAddr's text is a dotted quad or pure-hex RFC 5952 IPv6: one reading only
  const bytes = ipaddr.parse(n.addr).toByteArray();
  const w = width(family);
  const shift = BigInt(w - len);
  const bits = (toBigInt(bytes) >> shift) << shift;
  return { family, bits, len, cidr: `${fromBigInt(bits, family)}/${len}` };
}

/** The canonical CIDR text of a target (see {@link parsePrefix}); throws FLOE_NFT_BAD_TARGET. */
export function canonicalTarget(target: string): string {
  return parsePrefix(target).cidr;
}

/** True when `outer` contains `inner` (same family, shorter or equal prefix, same leading bits). */
export function covers(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || outer.len > inner.len) return false;
  const shift = BigInt(width(outer.family) - outer.len);
  return inner.bits >> shift === outer.bits >> shift;
}

/**
 * Converts an address range `first`..`last` (nft prints `{"range": [a, b]}` for intervals that
 * are not one prefix) to its CIDR when the range is exactly one prefix; otherwise undefined.
 */
export function rangeToCidr(first: string, last: string): string | undefined {
  const a = parsePrefix(first);
  const b = parsePrefix(last);
  if (a.family !== b.family) return undefined;
  const w = width(a.family);
  const span = b.bits - a.bits + 1n;
  if (span <= 0n || (span & (span - 1n)) !== 0n) return undefined;
  const hostBits = span.toString(2).length - 1;
  if ((a.bits & (span - 1n)) !== 0n) return undefined;
  return `${fromBigInt(a.bits, a.family)}/${w - hostBits}`;
}

/**
 * Key of the prefix of length `len` that contains `p` (p.len ≥ len); two prefixes share a key
 * exactly when the shorter one covers the other. Used to find covers without pairwise scans.
 */
export function coverKey(p: Prefix, len: number): string {
  const shift = BigInt(width(p.family) - len);
  return `${p.family}/${len}/${(p.bits >> shift).toString(16)}`;
}
