/**
 * CIDR prefixes in the one form floe stores and compares them: `address/length`, the address
 * normalised by normalizeAddr (addr.ts). Used by the API for block targets and every prefix
 * filter, and by the store for its filters, so `2001:DB8::/64`, `2001:db8:0::/64` and
 * `::ffff:198.51.100.0/120` find what is stored as `2001:db8::/64` and `198.51.100.0/24`.
 */
import { normalizeAddr } from './addr.js';

/** The 16 (IPv6) or 4 (IPv4) bytes of a normalised address. */
function bytesOf(addr: string, family: 4 | 6): number[] {
  if (family === 4) return addr.split('.').map(Number);
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 255];
  });
}

/**
 * A block target or prefix filter in the form decisions use: `address/prefix`, the address
 * normalised as by normalizeAddr, a bare address as /32 or /128, an IPv4-mapped prefix
 * (`::ffff:198.51.100.0/120`) as the IPv4 one (`198.51.100.0/24`). Returns undefined for
 * anything else: bad syntax, a zone id, a prefix length out of range or with leading zeros,
 * or host bits set (`10.0.0.5/24`).
 */
export function normalizeCidr(s: string): string | undefined {
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const lenText = slash < 0 ? undefined : s.slice(slash + 1);
  const n = normalizeAddr(addrText);
  if (!n) return undefined;
  const mapped = n.family === 4 && addrText.includes(':');
  let max = mapped ? 128 : n.family === 4 ? 32 : 128;
  let len = max;
  if (lenText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
    len = Number(lenText);
    if (len > max) return undefined;
  }
  if (mapped) {
    if (len < 96) return undefined;
    len -= 96;
    max = 32;
  }
  const bytes = bytesOf(n.addr, n.family);
  for (let bit = len; bit < max; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) return undefined;
  }
  return `${n.addr}/${len}`;
}
