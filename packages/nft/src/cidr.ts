import ipaddr from 'ipaddr.js';
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

function parseAddr(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return undefined;
}

/**
 * Parses an address (`10.0.0.1`, `2001:db8::1`) or a CIDR prefix (`10.1.0.0/16`) into a
 * {@link Prefix}. A bare address is a host prefix (/32, /128). Host bits below the prefix are
 * cleared (`10.1.2.3/16` → `10.1.0.0/16`). An IPv4-mapped IPv6 prefix (`::ffff:1.2.3.4/128`,
 * RFC 4291 §2.5.5.2) with length ≥ 96 becomes the IPv4 prefix: in an `inet` table IPv4 packets
 * only ever match the IPv4 set. Throws NftError FLOE_NFT_BAD_TARGET otherwise.
 */
export function parsePrefix(target: string): Prefix {
  const slash = target.indexOf('/');
  const addrText = slash < 0 ? target : target.slice(0, slash);
  const addr = parseAddr(addrText.trim());
  const bad = (why: string): NftError =>
    new NftError(NFT_ERROR_CODES.BAD_TARGET, `bad target ${JSON.stringify(target)}: ${why}`, { target });
  if (!addr) throw bad('not an IPv4 or IPv6 address');
  let family: 4 | 6 = addr.kind() === 'ipv4' ? 4 : 6;
  let len = width(family);
  if (slash >= 0) {
    const lenText = target.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(lenText)) throw bad('prefix length is not a number');
    len = Number(lenText);
    if (len > width(family)) throw bad(`prefix length over ${width(family)}`);
  }
  let bytes = addr.toByteArray();
  if (family === 6 && len >= 96 && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    bytes = bytes.slice(12);
    family = 4;
    len -= 96;
  }
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
