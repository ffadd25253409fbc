/**
 * IPv4 addresses as 32-bit numbers, for detector state keyed by source address in typed arrays
 * (source-slru.ts, held-record.ts). Only the canonical dotted-quad text converts (what the parsers
 * emit: packages/flow normalises every address, RFC 5952 for IPv6 and dotted decimal without
 * leading zeros for IPv4), so the number always turns back into the very same text.
 */

/** What {@link ipv4Bits} returns for a text that is not a canonical IPv4 address (no int32 is). */
export const NOT_IPV4 = 2 ** 32;

/**
 * The 32 bits of `s`, as an int32 (`1.2.3.4` is 0x01020304, `255.255.255.255` is -1), when `s`
 * is a canonical dotted-quad IPv4 address (four decimal octets 0-255, no leading zeros, no other
 * characters), else {@link NOT_IPV4} (IPv6, a name, a non-canonical form such as `010.0.0.1` or
 * `1.2.3`). O(length), no allocation (an int32 is never boxed).
 */
export function ipv4Bits(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return NOT_IPV4;
  let v = 0;
  let i = 0;
  for (let part = 0; part < 4; part++) {
    // One to three digits; a first 0 stands alone (no leading zeros). Never read past the end
    // (charCodeAt would give NaN, and optimised code would give up on the function).
    if (i >= n) return NOT_IPV4;
    let d = s.charCodeAt(i++) - 48;
    if (d < 0 || d > 9) return NOT_IPV4;
    let octet = d;
    if (octet !== 0 && i < n) {
      d = s.charCodeAt(i) - 48;
      if (d >= 0 && d <= 9) {
        octet = octet * 10 + d;
        i++;
        if (i < n) {
          d = s.charCodeAt(i) - 48;
          if (d >= 0 && d <= 9) {
            octet = octet * 10 + d;
            i++;
            if (octet > 255) return NOT_IPV4;
          }
        }
      }
    }
    v = (v << 8) | octet;
    if (part < 3) {
      if (i >= n || s.charCodeAt(i) !== 46) return NOT_IPV4;
      i++;
    }
  }
  return i === n ? v : NOT_IPV4;
}

/** `s` as an unsigned 32-bit number (0 .. 2^32-1) when it is a canonical IPv4 address (as {@link ipv4Bits}), else -1. */
export function ipv4Number(s: string): number {
  const b = ipv4Bits(s);
  return b === NOT_IPV4 ? -1 : b >>> 0;
}

/** The canonical dotted-quad text of `v` (an unsigned 32-bit number, or its int32 bit pattern): the inverse of {@link ipv4Bits} and {@link ipv4Number}. */
export function ipv4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}
