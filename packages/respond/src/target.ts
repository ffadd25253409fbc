/**
 * Block targets: strict parsing and normalisation to CIDR text.
 *
 * The address part is read by @floe/flow's `normalizeAddr` (hand-written, RFC 4291 section 2.2
 * text forms): IPv4 is four decimal octets without leading zeros (`010.0.0.1` would be octal to
 * inet_aton(3)); IPv6 may carry a trailing dotted quad, but only `::ffff:a.b.c.d` (IPv4-mapped,
 * RFC 4291 section 2.5.5.2) is IPv4: `::0.0.0.1` is the IPv6 address `::1` and `::1.2.3.4`
 * (IPv4-compatible, deprecated by RFC 4291 section 2.5.5.1) is `::102:304`. Zone ids
 * (`fe80::1%eth0`), surrounding spaces, `+`/`-` signs and leading zeros in the prefix length
 * (`/08`) are refused, not repaired.
 */
import { normalizeAddr } from '@floe/flow';
import { CidrError, parseCidr, type ParsedCidr } from '@floe/policy';
import { RespondError } from './errors.js';

/** Longest target text accepted: 45 characters of IPv6 with a dotted quad (RFC 4291), `/` and 3 digits. */
export const MAX_TARGET_CHARS = 49;

const PREFIX_LEN = /^(?:0|[1-9][0-9]{0,2})$/;

/**
 * Parse and normalise a block target: a bare address becomes `/32` (IPv4) or `/128` (IPv6); a
 * prefix keeps its length. IPv4-mapped IPv6 becomes IPv4 (`::ffff:1.2.3.0/120` is
 * `1.2.3.0/24`); IPv6 is printed in RFC 5952 form.
 * @throws RespondError (FLOE_RESPOND_BAD_TARGET) naming `field` when the text is not strictly an
 * address or a prefix (see the module comment), an IPv4-mapped prefix is shorter than /96, or a
 * prefix has host bits set (`10.1.2.3/8`: ambiguous, refused rather than widened).
 */
export function normalizeTarget(text: string, field = 'target'): ParsedCidr {
  const bad = (why: string): never => {
    throw new RespondError('FLOE_RESPOND_BAD_TARGET', field, why);
  };
  if (typeof text !== 'string') bad(`must be a string, got ${typeof text}`);
  if (text.length === 0) bad('must not be empty');
  if (text.length > MAX_TARGET_CHARS) bad(`is longer than ${MAX_TARGET_CHARS} characters`);
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const a = normalizeAddr(addrText);
  if (a === undefined) {
    bad(
      `${JSON.stringify(text)} is not an IPv4 address (four decimal octets without leading zeros) or an IPv6 address (RFC 4291 text form, no zone id)${slash >= 0 ? ' with a prefix length' : ''}`,
    );
  }
  const addr = a!;
  const writtenV6 = addrText.includes(':');
  const width = writtenV6 ? 128 : 32;
  let bits = width;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!PREFIX_LEN.test(lenText)) bad(`prefix length ${JSON.stringify(lenText)} is not a decimal number without leading zeros`);
    bits = Number(lenText);
    if (bits > width) bad(`prefix length ${bits} exceeds ${width}`);
  }
  let canonical: string;
  if (writtenV6 && addr.family === 4) {
    if (bits < 96) bad(`an IPv4-mapped prefix (::ffff:a.b.c.d) must be /96 or longer, got /${bits}`);
    canonical = `${addr.addr}/${bits - 96}`;
  } else {
    canonical = `${addr.addr}/${bits}`;
  }
  let p: ParsedCidr;
  try {
    p = parseCidr(canonical);
  } catch (e) {
    // normalizeAddr's canonical text always parses; keep the error typed if that ever changes.
    if (e instanceof CidrError) bad(e.message);
    throw e;
  }
  if (p!.network !== addr.addr) bad(`${JSON.stringify(text)} has host bits set; did you mean ${p!.prefix}?`);
  return p!;
}

/** True when prefix `a` and prefix `b` share at least one address (same family, equal leading min(bits) bits). */
export function overlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  if (a.family !== b.family) return false;
  const bits = Math.min(a.bits, b.bits);
  for (let i = 0; i * 32 < bits; i++) {
    const keep = Math.min(32, bits - i * 32);
    const mask = keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    if ((a.words[i] & mask) >>> 0 !== (b.words[i] & mask) >>> 0) return false;
  }
  return true;
}
