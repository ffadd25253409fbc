import { coverKey, parsePrefix, type Prefix } from './cidr.js';
import type { BlockEntry, BlockGuard } from './types.js';

/** Tolerance (ms) between the intended expiry and the kernel's before a timeout is refreshed. */
export const EXPIRY_TOLERANCE_MS = 3000;

/** What {@link reconcile} orders, with the reason of each change. */
export interface ReconcilePlan {
  /** Entries to (re-)add: missing ones and ones whose kernel timeout is off. */
  toAdd: BlockEntry[];
  /** Kernel elements to delete (stray: not intended, or shadowed by a wider intended prefix). */
  toDelete: string[];
  /** Targets of toAdd that the kernel lacks. */
  missing: string[];
  /** Targets of toAdd present with an expiry more than {@link EXPIRY_TOLERANCE_MS} off. */
  refresh: string[];
  /** Same as toDelete. */
  stray: string[];
  /**
   * Intended targets the guard did not admit as they are (split into pieces, or held back),
   * with the guard's reason; their admitted pieces are in the plan instead. Empty without a guard.
   */
  withheld: Array<{ target: string; outcome: 'split' | 'held'; reason?: string; detail?: string }>;
  /**
   * When a wider prefix that hides a narrower, longer-lived one expires (ms since epoch): the
   * caller should reconcile again then so the narrower one gets added. Absent when none.
   */
  nextChangeAt?: number;
}

/** The entries that should be in the kernel now, and when that set next changes other than by timeouts. */
export interface EffectiveSet {
  entries: BlockEntry[];
  nextChangeAt?: number;
}

/**
 * Reduces intended blocks to what the kernel should hold at `nowMs`. Expired entries
 * (expiresAt ≤ now) go; duplicates (after canonicalisation) keep the latest expiry; an entry
 * inside a wider unexpired entry is left out, because an interval set refuses overlapping
 * elements ("interval overlaps with an existing one", nftables 1.0.6) and the wider one already
 * blocks it. Targets in the result are canonical CIDRs. Throws FLOE_NFT_BAD_TARGET.
 */
export function effectiveEntries(intended: BlockEntry[], nowMs: number): EffectiveSet {
  const byTarget = new Map<string, { p: Prefix; expiresAt: number }>();
  for (const e of intended) {
    if (e.expiresAt <= nowMs) continue;
    const p = parsePrefix(e.target);
    const prev = byTarget.get(p.cidr);
    if (!prev || prev.expiresAt < e.expiresAt) byTarget.set(p.cidr, { p, expiresAt: e.expiresAt });
  }
  const lens = new Set<string>();
  const keyed = new Map<string, number>();
  for (const { p, expiresAt } of byTarget.values()) {
    lens.add(`${p.family}/${p.len}`);
    keyed.set(coverKey(p, p.len), expiresAt);
  }
  const lensByFamily = (fam: 4 | 6): number[] =>
    [...lens]
      .filter((l) => l.startsWith(`${fam}/`))
      .map((l) => Number(l.split('/')[1]))
      .sort((a, b) => a - b);
  const famLens = { 4: lensByFamily(4), 6: lensByFamily(6) };
  const entries: BlockEntry[] = [];
  let nextChangeAt: number | undefined;
  for (const [cidr, { p, expiresAt }] of byTarget) {
    let coveredUntil: number | undefined;
    for (const len of famLens[p.family]) {
      if (len >= p.len) break;
      const cover = keyed.get(coverKey(p, len));
      if (cover !== undefined) coveredUntil = Math.max(coveredUntil ?? 0, cover);
    }
    if (coveredUntil === undefined) {
      entries.push({ target: cidr, expiresAt });
    } else if (expiresAt > coveredUntil) {
      nextChangeAt = Math.min(nextChangeAt ?? Infinity, coveredUntil);
    }
  }
  return nextChangeAt === undefined ? { entries } : { entries, nextChangeAt };
}

/**
 * Diffs intended blocks against the kernel's elements (pure). Intended entries are reduced by
 * {@link effectiveEntries}; an effective entry the kernel lacks is added; a kernel element that
 * is not effective is deleted (deletions go first at commit, so a wider prefix can replace the
 * narrower ones it covers); when the kernel reports `expiresInMs` and it differs from the
 * intended expiry by more than {@link EXPIRY_TOLERANCE_MS}, the entry is re-added (refresh).
 * `actual` targets are compared canonically; range elements (`a-b`) are always stray.
 * With a `guard`, every intended entry first goes through `guard.admit`: only its admitted
 * pieces are wanted, so a kernel element the guard refuses (a protected address) is stray and
 * deleted, and the refused entries are listed in `withheld`.
 */
export function reconcile(intended: BlockEntry[], actual: Array<{ target: string; expiresInMs?: number }>, nowMs: number, guard?: BlockGuard): ReconcilePlan {
  const g = guardEntries(intended, guard);
  const eff = effectiveEntries(g.entries, nowMs);
  const want = new Map(eff.entries.map((e) => [e.target, e]));
  const have = new Map<string, { target: string; expiresInMs?: number }>();
  const stray: string[] = [];
  for (const a of actual) {
    let key: string | undefined;
    try {
      key = a.target.includes('-') ? undefined : parsePrefix(a.target).cidr;
    } catch {
      key = undefined;
    }
    if (key !== undefined && want.has(key)) have.set(key, a);
    else stray.push(a.target);
  }
  const toAdd: BlockEntry[] = [];
  const missing: string[] = [];
  const refresh: string[] = [];
  for (const [target, e] of want) {
    const h = have.get(target);
    if (!h) {
      missing.push(target);
      toAdd.push(e);
    } else if (typeof h.expiresInMs === 'number' && Math.abs(nowMs + h.expiresInMs - e.expiresAt) > EXPIRY_TOLERANCE_MS) {
      refresh.push(target);
      toAdd.push(e);
    }
  }
  const plan: ReconcilePlan = { toAdd, toDelete: stray, missing, refresh, stray, withheld: g.withheld };
  if (eff.nextChangeAt !== undefined) plan.nextChangeAt = eff.nextChangeAt;
  return plan;
}

/**
 * Intended entries through a guard: each replaced by its admitted pieces (same expiry); the
 * entries not admitted as they are listed in `withheld`. Without a guard, unchanged.
 */
export function guardEntries(intended: BlockEntry[], guard?: BlockGuard): { entries: BlockEntry[]; withheld: ReconcilePlan['withheld'] } {
  if (guard === undefined) return { entries: intended, withheld: [] };
  const entries: BlockEntry[] = [];
  const withheld: ReconcilePlan['withheld'] = [];
  for (const e of intended) {
    const a = guard.admit(e.target);
    if (a.outcome === 'ok') {
      entries.push(e);
      continue;
    }
    withheld.push({ target: e.target, outcome: a.outcome, reason: a.reason, detail: a.detail });
    for (const p of a.pieces) entries.push({ target: p, expiresAt: e.expiresAt });
  }
  return { entries, withheld };
}
