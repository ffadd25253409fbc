import { hash } from 'node:crypto';
import { DATA_GAP_KINDS, type DataGap, type DataGapKind } from '@floe/flow';
import { STORE_ERROR_CODES, StoreError } from './errors.js';
import { CURSOR_LIMITS, pageArgs, queryTime, toPage, type Filter, type KeysetFetch, type KeysetSource } from './paging.js';
import { toNumber, type Row } from './rows.js';
import type { GapGroup, GapQuery, GapSummary, GapSummaryQuery, Page } from './store.js';

/**
 * DataGap rows, keys, filters and summaries shared by the DuckDB and ClickHouse adapters (table
 * `data_gaps`: DuckDB migration 4, ClickHouse migration 3). Internal to @floe/store.
 */

/**
 * Idempotency key of a gap: hex of the first 16 bytes of SHA-256 over node, source, kind, from,
 * to, count and the reasons (sorted by reason). A redelivered gap has the same key and is stored
 * once; two gaps equal in all of these are indistinguishable and count once (a known limit: the
 * collector closes its intervals per tick, so equal ones are rare).
 */
export function gapKey(g: DataGap): string {
  const reasons = g.reasons ? Object.entries(g.reasons).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
  return hash('sha256', JSON.stringify([g.node, g.source, g.kind, g.from, g.to, g.count, reasons]), 'hex').slice(0, 32);
}

/** Columns of `data_gaps` in table order. */
export const GAP_COLUMNS = ['gap_key', 'schema_version', 'node', 'source', 'kind', 'from_ms', 'to_ms', 'count', 'reasons'] as const;

/** The `data_gaps` row of a gap (reasons as JSON text, null when absent). */
export function gapRow(g: DataGap): Record<(typeof GAP_COLUMNS)[number], string | number | null> {
  return {
    gap_key: gapKey(g),
    schema_version: 1,
    node: g.node,
    source: g.source,
    kind: g.kind,
    from_ms: g.from,
    to_ms: g.to,
    count: g.count,
    reasons: g.reasons === undefined ? null : JSON.stringify(g.reasons),
  };
}

/** The gap of a `data_gaps` row (either adapter). */
export function rowToGap(r: Row): DataGap {
  const g: DataGap = {
    schema: 1,
    node: String(r.node),
    source: String(r.source),
    kind: String(r.kind) as DataGapKind,
    from: toNumber(r.from_ms),
    to: toNumber(r.to_ms),
    count: toNumber(r.count),
  };
  if (r.reasons !== null && r.reasons !== undefined) g.reasons = JSON.parse(String(r.reasons)) as Record<string, number>;
  return g;
}

/** Cursor of the last gap of a page (gaps sort by from, then key). */
export const gapCursor = (g: DataGap): { t: 'g'; s: number; k: string } => ({ t: 'g', s: g.from, k: gapKey(g) });

/**
 * The filters of a gap query, checked: the gap overlaps [from, to) (to_ms >= from, from_ms <
 * to), node, source, kind.
 * @throws StoreError FLOE_STORE_BAD_QUERY for a non-finite time or an unknown kind.
 */
export function gapFilters(q: GapSummaryQuery): Filter[] {
  const out: Filter[] = [];
  const { from, to } = gapBounds(q);
  if (from !== undefined) out.push({ column: 'to_ms', op: '>=', type: 'Int64', value: from });
  if (to !== undefined) out.push({ column: 'from_ms', op: '<', type: 'Int64', value: to });
  if (q.node !== undefined) out.push({ column: 'node', op: '=', type: 'String', value: q.node });
  if (q.source !== undefined) out.push({ column: 'source', op: '=', type: 'String', value: q.source });
  if (q.kind !== undefined) {
    if (!(DATA_GAP_KINDS as readonly unknown[]).includes(q.kind)) {
      throw new StoreError(STORE_ERROR_CODES.BAD_QUERY, `unknown gap kind ${JSON.stringify(q.kind)?.slice(0, 40)}; one of ${DATA_GAP_KINDS.join(', ')}`);
    }
    out.push({ column: 'kind', op: '=', type: 'String', value: q.kind });
  }
  return out;
}

/** The query's from/to, checked (truncated to integers). */
export function gapBounds(q: GapSummaryQuery): { from: number | undefined; to: number | undefined } {
  return { from: queryTime('from', q.from), to: queryTime('to', q.to) };
}

/**
 * The clip window of a summary: the query's bounds, or the whole time range (±CURSOR_LIMITS.maxAbsTime)
 * where absent, so `least(to_ms, hi) - greatest(from_ms, lo)` is a gap's time inside the period.
 */
export function clipWindow(q: GapSummaryQuery): { lo: number; hi: number } {
  const { from, to } = gapBounds(q);
  return { lo: from ?? -CURSOR_LIMITS.maxAbsTime, hi: to ?? CURSOR_LIMITS.maxAbsTime };
}

/** The summary of grouped rows (`node, source, kind, gaps, count, ms`) as both adapters select them. */
export function summaryOf(rows: Row[]): GapSummary {
  const groups: GapGroup[] = rows.map((r) => ({
    node: String(r.node),
    source: String(r.source),
    kind: String(r.kind) as DataGapKind,
    gaps: toNumber(r.gaps),
    count: toNumber(r.count),
    ms: Math.max(0, toNumber(r.ms)),
  }));
  groups.sort((a, b) => cmp(a.node, b.node) || cmp(a.source, b.source) || cmp(a.kind, b.kind));
  const sum = (kind: DataGapKind | undefined, f: (g: GapGroup) => number) => groups.filter((g) => kind === undefined || g.kind === kind).reduce((n, g) => n + f(g), 0);
  return {
    gaps: sum(undefined, (g) => g.gaps),
    enobufsWarnings: sum('enobufs', (g) => g.count),
    rejectedLines: sum('rejected', (g) => g.count),
    silentMs: sum('silent', (g) => g.ms),
    groups,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const GAPS: KeysetSource = Object.freeze({ table: 'data_gaps', sort: 'from_ms', key: 'gap_key' });

/**
 * Store.queryGaps over an adapter's keyset read: newest `from` first, ties by key.
 * @throws StoreError FLOE_STORE_BAD_QUERY, FLOE_STORE_BAD_CURSOR (as a rejection).
 */
export async function queryGapPage(q: GapQuery, fetch: KeysetFetch): Promise<Page<DataGap>> {
  const { limit, filters, cursor } = pageArgs(q, 'g', gapFilters);
  const got = await fetch(GAPS, filters, cursor, limit);
  return toPage(got.rows, limit, got.total, rowToGap, gapCursor);
}
