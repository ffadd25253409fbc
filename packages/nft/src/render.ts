import { NFT_ERROR_CODES, NftError } from './errors.js';
import { parsePrefix } from './cidr.js';
import { defaultNftOptions, type NftOptions } from './types.js';

const IDENT = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * Fills defaults and checks that names are nft identifiers (they are pasted into scripts) and
 * that the priority is an integer. Throws a TypeError naming the bad option.
 */
export function resolveNftOptions(opts: Partial<NftOptions> = {}): NftOptions {
  const o: NftOptions = { ...defaultNftOptions(), ...stripUndefined(opts) };
  for (const k of ['table', 'set4', 'set6', 'net4', 'net6'] as const) {
    if (!IDENT.test(o[k])) throw new TypeError(`nft option ${k}: ${JSON.stringify(o[k])} is not an nft identifier`);
  }
  if (new Set([o.set4, o.set6, o.net4, o.net6]).size !== 4) throw new TypeError('nft options set4, set6, net4, net6 must differ');
  if (o.family !== 'inet') throw new TypeError(`nft option family: only "inet" is supported`);
  if (!Number.isInteger(o.chainPriority)) throw new TypeError('nft option chainPriority: not an integer');
  if (o.netns !== undefined && !/^[A-Za-z0-9_.-]+$/.test(o.netns)) throw new TypeError('nft option netns: bad name');
  if (o.chunkSize !== undefined && !(Number.isInteger(o.chunkSize) && o.chunkSize > 0)) {
    throw new TypeError('nft option chunkSize: not a positive integer');
  }
  return Object.freeze(o);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The hooks floe filters on. Not prerouting: see the README ("Why input and forward"). */
export const FLOE_HOOKS = ['input', 'forward'] as const;

/**
 * The nft script of ensure(): table, the host sets (flags timeout) and prefix sets (flags
 * interval,timeout), and an input and a forward chain (type filter, policy accept) that drop by
 * source address. Each chain is flushed and refilled in the same transaction, so running it twice
 * leaves one copy of each rule; `add table|set|chain` do nothing when the object exists
 * (nft(8) "TABLES", "SETS", "CHAINS"), so set elements survive.
 */
export function renderRuleset(opts: NftOptions): string {
  const t = `${opts.family} ${opts.table}`;
  const lines = [
    `add table ${t}`,
    `add set ${t} ${opts.set4} { type ipv4_addr; flags timeout; }`,
    `add set ${t} ${opts.set6} { type ipv6_addr; flags timeout; }`,
    `add set ${t} ${opts.net4} { type ipv4_addr; flags interval,timeout; }`,
    `add set ${t} ${opts.net6} { type ipv6_addr; flags interval,timeout; }`,
  ];
  for (const hook of FLOE_HOOKS) {
    lines.push(
      `add chain ${t} ${hook} { type filter hook ${hook} priority ${opts.chainPriority}; policy accept; }`,
      `flush chain ${t} ${hook}`,
      `add rule ${t} ${hook} ip saddr @${opts.set4} counter drop`,
      `add rule ${t} ${hook} ip saddr @${opts.net4} counter drop`,
      `add rule ${t} ${hook} ip6 saddr @${opts.set6} counter drop`,
      `add rule ${t} ${hook} ip6 saddr @${opts.net6} counter drop`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The script of destroy(): `add table` first so that `delete table` never fails on a missing table. */
export function renderDestroy(opts: NftOptions): string {
  const t = `${opts.family} ${opts.table}`;
  return `add table ${t}\ndelete table ${t}\n`;
}

/** Which of floe's sets an element belongs to: host sets `4`/`6`, prefix sets `4net`/`6net`. */
export type SetKey = '4' | '6' | '4net' | '6net';
export const SET_KEYS: readonly SetKey[] = ['4', '6', '4net', '6net'];

/** The set name for a key. */
export function setName(opts: NftOptions, key: SetKey): string {
  return { '4': opts.set4, '6': opts.set6, '4net': opts.net4, '6net': opts.net6 }[key];
}

/** An element in nft syntax with the set it belongs to: a CIDR, or a `first-last` range. */
export interface ElementRef {
  set: SetKey;
  text: string;
}

/**
 * Canonical element text for a target and the set it goes to: a host prefix (/32, /128) to the
 * host set as a bare address (`203.0.113.7`), a shorter prefix to the prefix set
 * (`10.1.0.0/16`), a range `a-b` as list() reports it to the prefix set.
 * Throws FLOE_NFT_BAD_TARGET.
 */
export function elementRef(target: string): ElementRef {
  const dash = target.indexOf('-');
  if (dash > 0 && !target.includes('/')) {
    const a = parsePrefix(target.slice(0, dash));
    const b = parsePrefix(target.slice(dash + 1));
    if (a.family !== b.family || a.bits > b.bits) {
      throw new NftError(NFT_ERROR_CODES.BAD_TARGET, `bad range ${JSON.stringify(target)}`, { target });
    }
    return { set: `${a.family}net`, text: `${a.cidr.split('/')[0]}-${b.cidr.split('/')[0]}` };
  }
  const p = parsePrefix(target);
  const host = p.len === (p.family === 4 ? 32 : 128);
  return host ? { set: `${p.family}`, text: p.cidr.split('/')[0] } : { set: `${p.family}net`, text: p.cidr };
}

/** Timeout in whole seconds for an entry expiring at `expiresAt` (ms): ceil, minimum 1. */
export function timeoutSeconds(expiresAt: number, nowMs: number): number {
  return Math.max(1, Math.ceil((expiresAt - nowMs) / 1000));
}

/** Elements per `add element`/`delete element` statement (keeps script lines short). */
export const ELEMENTS_PER_LINE = 500;

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * Statements that delete `elements` (`delete element inet floe blocked4 { a, b }`). Every element
 * must be present: nft fails the whole transaction on a missing one (ENOENT).
 */
export function renderDeletes(opts: NftOptions, elements: ElementRef[]): string[] {
  const lines: string[] = [];
  for (const key of SET_KEYS) {
    const mine = elements.filter((e) => e.set === key).map((e) => e.text);
    for (const c of chunks(mine, ELEMENTS_PER_LINE)) {
      lines.push(`delete element ${opts.family} ${opts.table} ${setName(opts, key)} { ${c.join(', ')} }`);
    }
  }
  return lines;
}

/**
 * Statements that add elements with timeouts (`add element inet floe blocked4 { a timeout 60s }`).
 * Adding an element that exists keeps its old timeout on kernels without element timeout
 * updates, so the driver deletes present elements first (renderDeletes) in the same transaction.
 * Do not delete an element added earlier in the same transaction: on an interval set after a
 * deletion of an overlapping element, nft 1.0.6 fails with ENOENT (seen on kernel 6.18).
 */
export function renderAdds(opts: NftOptions, elements: Array<ElementRef & { timeoutS: number }>): string[] {
  const lines: string[] = [];
  for (const key of SET_KEYS) {
    const mine = elements.filter((e) => e.set === key);
    for (const c of chunks(mine, ELEMENTS_PER_LINE)) {
      const els = c.map((e) => `${e.text} timeout ${e.timeoutS}s`).join(', ');
      lines.push(`add element ${opts.family} ${opts.table} ${setName(opts, key)} { ${els} }`);
    }
  }
  return lines;
}
