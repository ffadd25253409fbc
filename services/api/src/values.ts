/**
 * Query and body values the API reads as text, checked strictly (no coercion: `?limit=abc`,
 * `?limit=1.5`, `"duration": true` are refused, never read as some number) and normalised.
 * Addresses use @floe/flow's normalizeAddr, the one the parsers use, so a filter matches what
 * the store holds: IPv4 dotted quad, IPv6 in RFC 5952 form, IPv4-mapped IPv6 (`::ffff:a.b.c.d`
 * only, RFC 4291 section 2.5.5.2) as IPv4.
 */
import { normalizeAddr, normalizeCidr } from '@floe/flow';

export { normalizeCidr };

/** Largest block duration the API accepts: 365 days in ms. */
export const MAX_DURATION_MS = 365 * 24 * 3_600_000;

/** Page sizes: default and largest (the store's PAGE_LIMIT). */
export const LIMIT = Object.freeze({ default: 100, max: 1000 });

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time from a query string: ms since epoch (1..15 digits) or an ISO 8601 / RFC 3339 date-time
 * (`2025-03-01T12:00:00Z`, `2025-03-01`). Returns ms since epoch, or undefined when unusable.
 */
export function parseTime(s: string): number | undefined {
  if (/^\d{1,15}$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return undefined;
  const ms = Date.parse(s);
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
