import { NFT_ERROR_CODES, NftError } from './errors.js';
import { canonicalTarget, rangeToCidr } from './cidr.js';
import type { ListedEntry } from './types.js';

/** One set element read from `nft -j list …` output, with the set it came from. */
export interface ParsedElement extends ListedEntry {
  /** Name of the set. */
  set: string;
  /** The element's timeout (ms), when it has one. */
  timeoutMs?: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObj(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads an element value of libnftables' JSON (libnftables-json(5), "SET ELEMENTS" / "EXPRESSIONS"):
 * a plain address string, `{"prefix": {"addr", "len"}}` or `{"range": [first, last]}`.
 * Returns the canonical CIDR, or `first-last` for a range that is not one prefix.
 */
function elementTarget(val: Json | undefined, where: string): string {
  if (typeof val === 'string') return canonicalTarget(val);
  if (isObj(val) && isObj(val.prefix)) {
    const { addr, len } = val.prefix;
    if (typeof addr === 'string' && typeof len === 'number') return canonicalTarget(`${addr}/${len}`);
  }
  if (isObj(val) && Array.isArray(val.range) && val.range.length === 2) {
    const [a, b] = val.range;
    if (typeof a === 'string' && typeof b === 'string') {
      return rangeToCidr(a, b) ?? `${canonicalTarget(a).split('/')[0]}-${canonicalTarget(b).split('/')[0]}`;
    }
  }
  throw new NftError(NFT_ERROR_CODES.LIST_FAILED, `unreadable set element in ${where}: ${JSON.stringify(val)}`);
}

/**
 * Parses the output of `nft -j list table|set|ruleset` and returns the elements of the sets
 * named in `sets` (all sets when omitted). Elements are plain values or
 * `{"elem": {"val", "timeout", "expires"}}` objects; timeout and expires are whole seconds in
 * nftables 1.0.6 and become ms here. Throws NftError FLOE_NFT_LIST_FAILED on malformed JSON.
 */
export function parseNftJson(text: string, sets?: readonly string[]): ParsedElement[] {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (err) {
    throw new NftError(NFT_ERROR_CODES.LIST_FAILED, `nft -j printed invalid JSON: ${(err as Error).message}`);
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables)) {
    throw new NftError(NFT_ERROR_CODES.LIST_FAILED, 'nft -j output has no "nftables" array');
  }
  const out: ParsedElement[] = [];
  for (const item of doc.nftables) {
    if (!isObj(item) || !isObj(item.set)) continue;
    const set = item.set;
    const name = typeof set.name === 'string' ? set.name : '';
    if (sets && !sets.includes(name)) continue;
    if (!Array.isArray(set.elem)) continue;
    for (const e of set.elem) {
      if (isObj(e) && isObj(e.elem)) {
        const el: ParsedElement = { set: name, target: elementTarget(e.elem.val, name) };
        if (typeof e.elem.timeout === 'number') el.timeoutMs = e.elem.timeout * 1000;
        if (typeof e.elem.expires === 'number') el.expiresInMs = e.elem.expires * 1000;
        out.push(el);
      } else {
        out.push({ set: name, target: elementTarget(e, name) });
      }
    }
  }
  return out;
}
