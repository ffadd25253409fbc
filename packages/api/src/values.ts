/**
 * Query and body values the API reads as text, checked strictly (no coercion: `?limit=abc`,
 * `?limit=1.5`, `"duration": true` are refused, never read as some number) and normalised.
 * Addresses use @floe/flow's normalizeAddr, the one the parsers use, so a filter matches what
 * the store holds: IPv4 dotted quad, IPv6 in RFC 5952 form, IPv4-mapped IPv6 (`::ffff:a.b.c.d`
 * only, RFC 4291 section 2.5.5.2) as IPv4.
 */
import { normalizeAddr, normalizeCidr } from '@floe/flow';
import { ApiError } from './errors.js';

export { normalizeCidr };

/** Largest block duration the API accepts: 365 days in ms. */
export const MAX_DURATION_MS = 365 * 24 * 3_600_000;

/** Page sizes: default and largest (the store's PAGE_LIMIT). */
export const LIMIT = Object.freeze({ default: 100, max: 1000 });

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time from a query string: ms since epoch (1..15 digits) or an ISO 8601 / RFC 3339 date-time
 * (`2025-03-01T12:00:00Z`, `2025-03-01`, with an offset or none = UTC). The calendar is checked
 * (`2025-02-30`, `24:00`, month 13 are refused, not rolled over). Returns ms since epoch, or
 * undefined when unusable.
 */
export function parseTime(s: string): number | undefined {
  if (/^\d{1,15}$/.test(s)) return Number(s);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h = 0, mi = 0, sec = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || sec > 59) return undefined;
  if (m[8] && m[8] !== 'Z') {
    const off = /^[+-](\d{2}):?(\d{2})$/.exec(m[8]);
    if (!off || Number(off[1]) > 23 || Number(off[2]) > 59) return undefined;
  }
  // Date.parse reads a date-time without an offset as local time: say UTC explicitly
  const text = m[4] === undefined ? s : m[8] === undefined ? `${s}Z` : s;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isFinite(ms) ? ms : undefined;
}

/** A page size from a query string: decimal digits only, 1..LIMIT.max. Returns undefined otherwise. */
export function parseLimit(s: string): number | undefined {
  if (!/^[0-9]{1,4}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= LIMIT.max ? n : undefined;
}

/** `active=` from a query string: exactly `true` or `false`. Returns undefined otherwise. */
export function parseBool(s: string): boolean | undefined {
  return s === 'true' ? true : s === 'false' ? false : undefined;
}

/**
 * A block duration: a JSON integer of ms, or text `<n>` / `<n>ms|s|m|h|d` (`90s`, `1h`, `7d`).
 * Returns ms, or undefined when unusable (any other type, a fraction), zero or above MAX_DURATION_MS.
 */
export function parseDuration(v: unknown): number | undefined {
  let ms: number;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') {
    const m = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(v);
    if (!m) return undefined;
    ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
  } else return undefined;
  return Number.isInteger(ms) && ms >= 1 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** An address filter (`?entity=`): the normalised address, or undefined when not an address. */
export function normalizeAddress(s: string): string | undefined {
  return normalizeAddr(s)?.addr;
}

/**
 * A target or entity given in a request, in the form stored values have (normalizeCidr).
 * @param name where it came from, for the error (`body/cidr`, `params/target`).
 * @throws ApiError FLOE_API_BAD_REQUEST when it is not an address or a prefix without host bits.
 */
export function requireCidr(name: string, v: string): string {
  const c = normalizeCidr(v);
  if (c === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', `${name} must be an IPv4/IPv6 address or CIDR prefix without host bits`);
  return c;
}
