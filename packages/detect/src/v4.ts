/**
 * IPv4 addresses as 32-bit numbers, for detector state keyed by source address in typed arrays
 * (source-slru.ts, held-record.ts). Only the canonical dotted-quad text converts (what the parsers
 * emit: packages/flow normalises every address, RFC 5952 for IPv6 and dotted decimal without
 * leading zeros for IPv4), so the number always turns back into the very same text.
 */

/**
 * `s` as an unsigned 32-bit number (0 .. 2^32-1) when it is a canonical dotted-quad IPv4 address
 * (four decimal octets 0-255, no leading zeros, no other characters), else -1 (IPv6, a name, a
 * non-canonical form such as `010.0.0.1` or `1.2.3`). O(length), no allocation.
 */
export function ipv4Number(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      v = v * 256 + octet;
      dots++;
      octet = 0;
      digits = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9 || (digits === 1 && octet === 0)) return -1;
    octet = octet * 10 + d;
    digits++;
    if (octet > 255) return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + octet;
}

/** The canonical dotted-quad text of `v` (an unsigned 32-bit number, or its int32 bit pattern): the inverse of {@link ipv4Number}. */
export function ipv4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}
