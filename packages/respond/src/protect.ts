/**
 * The protected set: everything floe must never put into a kernel block set, in one place, used
 * by the responder (new and manual decisions, seeding) and by the enforcer (decisions rebuilt
 * from the store or the compacted topic, every reconcile).
 *
 * Protected: the policy's `respond.neverBlock`, `networks.nodes` and `networks.controlPlane`,
 * this host's own addresses, and {@link SPECIAL_RANGES}. A target overlapping any of them is
 * refused when new; an existing (stored) one is split around the protected prefixes into the
 * CIDR pieces of `target − protected`, or held back whole. A target shorter than the configured
 * `minPrefixLength` (default /16 IPv4, /32 IPv6) is refused or held back whole: splitting a /8
 * would still block millions of addresses.
 *
 * Cost: `check` and `admit` scan the entries linearly (entries are the policy's lists and the
 * host's addresses: tens to hundreds); they run per decision, never per flow.
 */
import { parseCidr, CidrError, type ParsedCidr } from '@floe/policy';
import { RespondError } from './errors.js';
import { normalizeTarget } from './target.js';

/** Where a protected prefix comes from (the metric label `reason` of a withheld decision). */
export type ProtectedKind = 'never-block' | 'node' | 'control-plane' | 'host' | 'special';

/** One protected prefix. */
export interface ProtectedEntry {
  /** Canonical CIDR (`10.0.0.0/24`, `fe80::/10`). */
  prefix: string;
  kind: ProtectedKind;
  /** Human label: the policy field (`respond.neverBlock[2]`), `host address`, or the special range's name and RFC. */
  label: string;
}

/**
 * Ranges no one should block whatever the configuration says, from the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (RFC 6890 and its updates;
 * https://www.iana.org/assignments/iana-ipv4-special-registry,
 * https://www.iana.org/assignments/iana-ipv6-special-registry) and the multicast registries.
 * Blocking them either cuts the host off from itself (loopback, link-local neighbour discovery,
 * DHCP), or is meaningless as a packet source and only hides a parsing mistake (unspecified,
 * multicast, broadcast). Left out on purpose: private and shared ranges (RFC 1918, RFC 6598,
 * RFC 4193: attackers live there too), documentation ranges, 240.0.0.0/4 (reserved, harmless to
 * block), NAT64 64:ff9b::/96 (blocks the IPv4 host it stands for, as intended).
 */
export const SPECIAL_RANGES: ReadonlyArray<readonly [cidr: string, label: string]> = Object.freeze([
  ['0.0.0.0/8', 'unspecified, "this network" (RFC 791, RFC 1122 3.2.1.3)'],
  ['127.0.0.0/8', 'loopback (RFC 1122 3.2.1.3)'],
  ['169.254.0.0/16', 'link-local (RFC 3927)'],
  ['224.0.0.0/4', 'multicast (RFC 5771)'],
  ['255.255.255.255/32', 'limited broadcast (RFC 919, RFC 8190)'],
  ['::/128', 'unspecified (RFC 4291 2.5.2)'],
  ['::1/128', 'loopback (RFC 4291 2.5.3)'],
  ['fe80::/10', 'link-local unicast (RFC 4291 2.5.6)'],
  ['ff00::/8', 'multicast (RFC 4291 2.7)'],
] as const);

/** Shortest prefix lengths accepted for a block, per family. */
export interface MinPrefixLength {
  /** 0..32; default 16: a /15 or shorter is refused. */
  ipv4: number;
  /** 0..128; default 32: a /31 or shorter is refused. */
  ipv6: number;
}

/** Default {@link MinPrefixLength}: /16 for IPv4 (65 536 addresses), /32 for IPv6 (a RIR allocation to one network). */
export const DEFAULT_MIN_PREFIX_LENGTH: Readonly<MinPrefixLength> = Object.freeze({ ipv4: 16, ipv6: 32 });

/** Inputs of {@link createProtectedSet}: CIDRs or bare addresses. */
export interface ProtectedSetOptions {
  /** `respond.neverBlock`. */
  neverBlock?: readonly string[];
  /** `networks.nodes`. */
  nodes?: readonly string[];
  /** `networks.controlPlane`. */
  controlPlane?: readonly string[];
  /** This host's interface addresses (runtime `nodeAddresses()`). */
  hostAddrs?: readonly string[];
  /** Shortest prefix accepted; default {@link DEFAULT_MIN_PREFIX_LENGTH}. */
  minPrefixLength?: Partial<MinPrefixLength>;
  /** Never-block entries added at run time (the API's `/v1/never-block`, stored), kind `never-block`. */
  runtimeNeverBlock?: readonly RuntimeNeverBlock[];
}

/** A never-block entry added at run time: its CIDR and a label naming where it comes from. */
export interface RuntimeNeverBlock {
  cidr: string;
  /** e.g. `never-block list (added by alice: backup server)`. */
  label: string;
}

/** Why a target is refused or held back: too wide, or overlapping a protected entry. */
export type GuardHit = { reason: 'too-wide'; detail: string } | { reason: ProtectedKind; entry: ProtectedEntry; detail: string };

/** What may be blocked of a target (see {@link ProtectedSet.admit}). */
export interface Admission {
  /** Canonical target. */
  target: string;
  /** `ok`: the target unchanged; `split`: pieces of target − protected; `held`: nothing. */
  outcome: 'ok' | 'split' | 'held';
  /** CIDRs that may go to the kernel: `[target]`, the split pieces, or `[]`. */
  pieces: string[];
  /** Metric label: `too-wide`, the kind of the first protected entry hit, `too-many-pieces`, or `bad-target`. Absent when ok. */
  reason?: string;
  /** One line for the log: what was hit. Absent when ok. */
  detail?: string;
}

/** Most pieces a split may give; beyond it the decision is held back whole (`too-many-pieces`). */
export const MAX_SPLIT_PIECES = 256;

/** The protected set; immutable once built. */
export interface ProtectedSet {
  /** Every protected entry (special ranges first). */
  readonly entries: readonly ProtectedEntry[];
  readonly minPrefixLength: Readonly<MinPrefixLength>;
  /** The first reason `target` may not be blocked as a new decision, or undefined when it may. */
  check(target: ParsedCidr): GuardHit | undefined;
  /**
   * What of an existing decision's target may be enforced: unchanged, split into the CIDR pieces
   * of target − protected (smallest cover, at most {@link MAX_SPLIT_PIECES}), or held back whole
   * (too wide, inside a protected prefix, too many pieces, or not a valid target). Never throws.
   */
  admit(target: string): Admission;
}

/**
 * Build the protected set.
 * @throws RespondError (FLOE_RESPOND_BAD_OPTIONS) naming the bad entry (`neverBlock[2]`,
 * `nodes[0]`, `hostAddrs[1]`, `minPrefixLength.ipv4`).
 */
export function createProtectedSet(opts: ProtectedSetOptions = {}): ProtectedSet {
  const entries: ProtectedEntry[] = [];
  const parsed: ParsedCidr[] = [];
  const add = (cidr: string, kind: ProtectedKind, label: string, field: string): void => {
    let p: ParsedCidr;
    try {
      p = parseCidr(cidr);
    } catch (e) {
      if (e instanceof CidrError) throw new RespondError('FLOE_RESPOND_BAD_OPTIONS', field, e.message);
      throw e;
    }
    entries.push(Object.freeze({ prefix: p.prefix, kind, label }));
    parsed.push(p);
  };
  SPECIAL_RANGES.forEach(([c, l]) => add(c, 'special', l, 'special'));
  const list = (xs: readonly string[] | undefined, kind: ProtectedKind, field: string, label: (i: number) => string): void => {
    if (xs === undefined) return;
    if (!Array.isArray(xs)) throw new RespondError('FLOE_RESPOND_BAD_OPTIONS', field, 'must be an array of CIDRs');
    xs.forEach((c, i) => add(c, kind, label(i), `${field}[${i}]`));
  };
  list(opts.neverBlock, 'never-block', 'neverBlock', (i) => `respond.neverBlock[${i}]`);
  list(opts.nodes, 'node', 'nodes', (i) => `networks.nodes[${i}]`);
  list(opts.controlPlane, 'control-plane', 'controlPlane', (i) => `networks.controlPlane[${i}]`);
  list(opts.hostAddrs, 'host', 'hostAddrs', () => 'an address of this host');
  (opts.runtimeNeverBlock ?? []).forEach((e, i) => add(e.cidr, 'never-block', e.label, `runtimeNeverBlock[${i}]`));

  const min = { ...DEFAULT_MIN_PREFIX_LENGTH, ...(opts.minPrefixLength ?? {}) };
  for (const [k, w] of [
    ['ipv4', 32],
    ['ipv6', 128],
  ] as const) {
    const v = min[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > w) {
      throw new RespondError('FLOE_RESPOND_BAD_OPTIONS', `minPrefixLength.${k}`, `must be an integer 0..${w}, got ${JSON.stringify(v)}`);
    }
  }
  const minPrefixLength = Object.freeze(min);
  const big = parsed.map(toBig);

  function tooWide(t: ParsedCidr): GuardHit | undefined {
    const m = t.family === 4 ? minPrefixLength.ipv4 : minPrefixLength.ipv6;
    if (t.bits >= m) return undefined;
    return { reason: 'too-wide', detail: `${t.prefix} is wider than the shortest prefix allowed (/${m} for IPv${t.family}; respond.minPrefixLength)` };
  }

  function hitOf(i: number, t: string): GuardHit {
    const e = entries[i];
    return { reason: e.kind, entry: e, detail: `${t} overlaps ${e.prefix} (${e.label})` };
  }

  function check(t: ParsedCidr): GuardHit | undefined {
    const w = tooWide(t);
    if (w !== undefined) return w;
    const b = toBig(t);
    const i = big.findIndex((e) => bigOverlaps(e, b));
    return i < 0 ? undefined : hitOf(i, t.prefix);
  }

  function admit(text: string): Admission {
    let t: ParsedCidr;
    try {
      t = normalizeTarget(text);
    } catch (e) {
      return { target: String(text), outcome: 'held', pieces: [], reason: 'bad-target', detail: (e as Error).message };
    }
    const w = tooWide(t);
    if (w !== undefined) return { target: t.prefix, outcome: 'held', pieces: [], reason: w.reason, detail: w.detail };
    const b = toBig(t);
    const hits: number[] = [];
    big.forEach((e, i) => {
      if (bigOverlaps(e, b)) hits.push(i);
    });
    if (hits.length === 0) return { target: t.prefix, outcome: 'ok', pieces: [t.prefix] };
    const first = hitOf(hits[0], t.prefix);
    const pieces = carve(
      b,
      hits.map((i) => big[i]),
    );
    if (pieces === undefined) {
      return { target: t.prefix, outcome: 'held', pieces: [], reason: 'too-many-pieces', detail: `${first.detail}; splitting would need more than ${MAX_SPLIT_PIECES} pieces` };
    }
    return {
      target: t.prefix,
      outcome: pieces.length === 0 ? 'held' : 'split',
      pieces: pieces.map(bigText),
      reason: first.reason,
      detail: hits.length === 1 ? first.detail : `${first.detail} and ${hits.length - 1} more protected prefix(es)`,
    };
  }

  return Object.freeze({ entries: Object.freeze(entries), minPrefixLength, check, admit });
}

/** A prefix as a bigint network address, its length and family width. */
interface BigPrefix {
  family: 4 | 6;
  net: bigint;
  bits: number;
}

function width(f: 4 | 6): number {
  return f === 4 ? 32 : 128;
}

function toBig(p: ParsedCidr): BigPrefix {
  let v = 0n;
  for (const w of p.words) v = (v << 32n) | BigInt(w >>> 0);
  return { family: p.family, net: v, bits: p.bits };
}

function top(v: bigint, family: 4 | 6, bits: number): bigint {
  return v >> BigInt(width(family) - bits);
}

function bigOverlaps(a: BigPrefix, b: BigPrefix): boolean {
  if (a.family !== b.family) return false;
  const bits = Math.min(a.bits, b.bits);
  return top(a.net, a.family, bits) === top(b.net, b.family, bits);
}

/** `outer` contains `inner`. */
function contains(outer: BigPrefix, inner: BigPrefix): boolean {
  return outer.family === inner.family && outer.bits <= inner.bits && top(outer.net, outer.family, outer.bits) === top(inner.net, inner.family, outer.bits);
}

/**
 * The CIDR pieces of `t` minus the union of `holes` (each overlapping `t`), largest first in
 * address order: halve any piece that overlaps a hole without lying inside one. Undefined when
 * more than MAX_SPLIT_PIECES pieces would result.
 */
function carve(t: BigPrefix, holes: BigPrefix[]): BigPrefix[] | undefined {
  const out: BigPrefix[] = [];
  const stack: BigPrefix[] = [t];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const inside = holes.filter((h) => bigOverlaps(h, p));
    if (inside.length === 0) {
      out.push(p);
      if (out.length > MAX_SPLIT_PIECES) return undefined;
      continue;
    }
    if (inside.some((h) => contains(h, p))) continue;
    const half = 1n << BigInt(width(p.family) - p.bits - 1);
    // push the upper half first so the lower one is handled first (address order)
    stack.push({ family: p.family, net: p.net | half, bits: p.bits + 1 }, { family: p.family, net: p.net, bits: p.bits + 1 });
  }
  return out;
}

function bigText(p: BigPrefix): string {
  if (p.family === 4) {
    const n = Number(p.net);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${p.bits}`;
  }
  const words: number[] = [];
  for (let i = 3; i >= 0; i--) words.push(Number((p.net >> BigInt(i * 32)) & 0xffffffffn));
  const g: string[] = [];
  for (const w of words) g.push((w >>> 16).toString(16), (w & 0xffff).toString(16));
  return parseCidr(`${g.join(':')}/${p.bits}`).prefix;
}

/**
 * A protected set whose run-time never-block entries can change (the API's never-block list):
 * the same checks as {@link createProtectedSet}, over the options given plus the current
 * run-time entries. Shared by the responder and the enforcer of one process, so an entry added
 * at run time is refused for new blocks and carved out of enforced ones at once.
 */
export interface LiveProtectedSet extends ProtectedSet {
  /**
   * Replaces the run-time entries; listeners (`onChange`) run afterwards.
   * @throws RespondError FLOE_RESPOND_BAD_OPTIONS for a bad CIDR; the set is unchanged then.
   */
  setRuntimeNeverBlock(entries: readonly RuntimeNeverBlock[]): void;
  /** The run-time entries in use. */
  runtimeNeverBlock(): readonly RuntimeNeverBlock[];
  /** Calls `fn` after every change of the run-time entries (the enforcer re-checks its blocks). */
  onChange(fn: () => void): void;
}

/**
 * Builds a {@link LiveProtectedSet} over `opts` (its `runtimeNeverBlock` are the first run-time entries).
 * @throws RespondError (FLOE_RESPOND_BAD_OPTIONS) like createProtectedSet.
 */
export function createLiveProtectedSet(opts: ProtectedSetOptions = {}): LiveProtectedSet {
  let runtime: readonly RuntimeNeverBlock[] = Object.freeze([...(opts.runtimeNeverBlock ?? [])]);
  let current = createProtectedSet(opts);
  const listeners: Array<() => void> = [];
  return {
    get entries() {
      return current.entries;
    },
    get minPrefixLength() {
      return current.minPrefixLength;
    },
    check: (t) => current.check(t),
    admit: (t) => current.admit(t),
    setRuntimeNeverBlock(entries) {
      const next = Object.freeze([...entries]);
      current = createProtectedSet({ ...opts, runtimeNeverBlock: next });
      runtime = next;
      for (const fn of listeners) fn();
    },
    runtimeNeverBlock: () => runtime,
    onChange(fn) {
      listeners.push(fn);
    },
  };
}
