import ipaddr from 'ipaddr.js';

/** Largest block duration the API accepts: 365 days in ms. */
export const MAX_DURATION_MS = 365 * 24 * 3_600_000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time from a query string: ms since epoch (digits) or an ISO 8601 / RFC 3339 date-time
 * (`2025-03-01T12:00:00Z`, `2025-03-01`). Returns ms since epoch, or undefined when unusable.
 */
export function parseTime(s: string): number | undefined {
  if (/^\d{1,15}$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A block duration: a number of ms, or text `<n>` / `<n>ms|s|m|h|d` (`90s`, `1h`, `7d`).
 * Returns ms, or undefined when unusable, zero or above MAX_DURATION_MS.
 */
export function parseDuration(v: string | number): number | undefined {
  let ms: number;
  if (typeof v === 'number') ms = v;
  else {
    const m = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(v);
    if (!m) return undefined;
    ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
  }
  return Number.isInteger(ms) && ms >= 1 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/**
 * A block target in the form decisions use: `address/prefix`, the address in canonical form
 * (IPv4 dotted quad, IPv6 RFC 5952), an IPv4-mapped IPv6 address as IPv4 (as FlowRecord
 * addresses are), a bare address as /32 or /128. Returns undefined for anything else: bad
 * syntax, a zone id, a prefix length out of range, or host bits set (`10.0.0.5/24`).
 */
export function normalizeCidr(s: string): string | undefined {
  const parts = s.split('/');
  if (parts.length > 2 || s.includes('%')) return undefined;
  const [addrText, lenText] = parts;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(addrText)) addr = ipaddr.IPv4.parse(addrText);
  else if (addrText.includes(':') && ipaddr.IPv6.isValid(addrText)) addr = ipaddr.IPv6.parse(addrText);
  else return undefined;
  let max = addr.kind() === 'ipv4' ? 32 : 128;
  let len = max;
  if (lenText !== undefined) {
    if (!/^\d{1,3}$/.test(lenText)) return undefined;
    len = Number(lenText);
    if (len > max) return undefined;
  }
  if (addr instanceof ipaddr.IPv6 && addr.isIPv4MappedAddress()) {
    if (len < 96) return undefined;
    addr = addr.toIPv4Address();
    len -= 96;
    max = 32;
  }
  const bytes = addr.toByteArray();
  for (let bit = len; bit < max; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) return undefined;
  }
  const text = addr instanceof ipaddr.IPv6 ? addr.toRFC5952String() : addr.toString();
  return `${text}/${len}`;
}
