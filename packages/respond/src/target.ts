/**
 * Block targets: validation and normalisation to CIDR text, and the never-block guard.
 */
import { CidrError, CidrSet, parseCidr, type ParsedCidr } from '@floe/policy';
import { RespondError } from './errors.js';

/**
 * Addresses never blocked whatever the configuration says (IANA special-purpose registries,
 * RFC 6890): loopback (RFC 1122 3.2.1.3, RFC 4291 2.5.3), link-local (RFC 3927, RFC 4291 2.5.6)
 * and the unspecified address (RFC 1122 3.2.1.3, RFC 4291 2.5.2).
 */
export const BUILTIN_NEVER_BLOCK: ReadonlyArray<readonly [cidr: string, label: string]> = [
  ['127.0.0.0/8', 'loopback'],
  ['::1/128', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['fe80::/10', 'link-local'],
  ['0.0.0.0/32', 'unspecified'],
  ['::/128', 'unspecified'],
];

/**
 * Normalise a block target: a bare address becomes `/32` (IPv4) or `/128` (IPv6); a prefix keeps
 * its length. IPv4-mapped IPv6 becomes IPv4; IPv6 is printed in RFC 5952 form.
 * @throws RespondError (FLOE_RESPOND_BAD_TARGET) when the text is not an address or prefix, or a
 * prefix has host bits set (`10.1.2.3/8`: ambiguous, refused rather than widened).
 */
export function normalizeTarget(text: string, field = 'target'): ParsedCidr {
  let p: ParsedCidr;
  try {
    p = parseCidr(text);
  } catch (e) {
    if (e instanceof CidrError) throw new RespondError('FLOE_RESPOND_BAD_TARGET', field, e.message);
    throw e;
  }
  const slash = text.indexOf('/');
  if (slash >= 0 && parseCidr(text.slice(0, slash)).network !== p.network) {
    throw new RespondError('FLOE_RESPOND_BAD_TARGET', field, `${JSON.stringify(text)} has host bits set; did you mean ${p.prefix}?`);
  }
  return p;
}

/** True when prefix `a` and prefix `b` share at least one address (same family, equal leading min(bits) bits). */
export function overlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  if (a.family !== b.family) return false;
  const bits = Math.min(a.bits, b.bits);
  for (let i = 0; i * 32 < bits; i++) {
    const keep = Math.min(32, bits - i * 32);
    const mask = keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    if (((a.words[i] & mask) >>> 0) !== ((b.words[i] & mask) >>> 0)) return false;
  }
  return true;
}

/** The never-block guard: configured CIDRs, node addresses and the built-in list, each with a label. */
export class NeverBlock {
  private readonly set = new CidrSet<number>();
  private readonly parsed: Array<{ p: ParsedCidr; label: string }> = [];

  /** @throws RespondError (FLOE_RESPOND_BAD_OPTIONS) naming the bad entry (`neverBlock[2]`, `nodeAddrs[0]`). */
  constructor(neverBlock: readonly string[], nodeAddrs: readonly string[]) {
    const add = (cidr: string, label: string, field: string): void => {
      let p: ParsedCidr;
      try {
        p = parseCidr(cidr);
      } catch (e) {
        if (e instanceof CidrError) throw new RespondError('FLOE_RESPOND_BAD_OPTIONS', field, e.message);
        throw e;
      }
      this.set.add(p.prefix, this.parsed.length);
      this.parsed.push({ p, label });
    };
    BUILTIN_NEVER_BLOCK.forEach(([c, l]) => add(c, l, 'builtin'));
    neverBlock.forEach((c, i) => add(c, 'never-block list', `neverBlock[${i}]`));
    nodeAddrs.forEach((c, i) => add(c, 'node address', `nodeAddrs[${i}]`));
  }

  /**
   * The never-block entry hit by a target, as `prefix (label)`, or undefined. A host target is
   * looked up in the prefix trie; a wider target is refused when it overlaps any entry (it
   * contains a never-block address, or lies inside a never-block prefix).
   */
  hit(target: ParsedCidr): string | undefined {
    const full = target.family === 4 ? 32 : 128;
    if (target.bits === full) {
      const i = this.set.lookup(target.network);
      if (i === undefined) return undefined;
      const e = this.parsed[i];
      return `${e.p.prefix} (${e.label})`;
    }
    const e = this.parsed.find((x) => overlaps(x.p, target));
    return e === undefined ? undefined : `${e.p.prefix} (${e.label})`;
  }

  /** Entries in the guard (built-ins included). */
  get size(): number {
    return this.set.size;
  }
}
