import { DATA_GAP_KINDS, type DataGap } from '@floe/flow';
import type { RecordProblem } from './validate.js';

/** The DataGap schema version this processor reads (DataGap v1, packages/flow/src/gap.ts). */
export const GAP_SCHEMA_VERSION = 1;

/** Longest `node` or `source` accepted (characters): a host name is at most 253, a source kind far shorter. */
export const MAX_GAP_NAME = 256;
/** Most reason codes one rejected gap may carry (the parsers have a few dozen), and the longest code. */
export const MAX_GAP_REASONS = 64;
export const MAX_GAP_REASON_LENGTH = 64;

/** Printable text without control, format (bidi) or line/paragraph separator characters, 1..MAX_GAP_NAME long. */
const NAME = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
const name = (v: unknown): boolean => typeof v === 'string' && v.length >= 1 && v.length <= MAX_GAP_NAME && NAME.test(v);
/** A non-negative safe integer: a time in ms since epoch, or a count. */
const whole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Checks one value of a `floe.gaps.v1` message before it is stored: an object whose `schema` is
 * GAP_SCHEMA_VERSION (else reason `schema-version`; a missing or unknown version is never
 * guessed), with `node` and `source` printable text of 1..MAX_GAP_NAME characters (no control,
 * bidi or separator characters: they reach logs and terminals), `kind` one of DATA_GAP_KINDS,
 * `from`/`to` non-negative safe integers (ms since epoch) with to >= from, `count` a non-negative
 * safe integer, and `reasons` absent or an object of at most MAX_GAP_REASONS printable codes
 * (≤ MAX_GAP_REASON_LENGTH characters) to non-negative safe integers (else `invalid-record`).
 * Unknown extra fields are ignored (not stored). Returns undefined for a valid gap.
 */
export function checkDataGap(v: unknown): RecordProblem | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { reason: 'invalid-record', detail: `a gap is an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}` };
  }
  const g = v as Record<string, unknown>;
  if (g.schema !== GAP_SCHEMA_VERSION) {
    return {
      reason: 'schema-version',
      detail:
        g.schema === undefined
          ? 'the gap has no schema version'
          : `schema version ${JSON.stringify(g.schema)?.slice(0, 40)} is not one this processor reads (${GAP_SCHEMA_VERSION})`,
    };
  }
  const bad = (field: string) => ({ reason: 'invalid-record' as const, detail: `field ${field}: ${g[field] === undefined ? 'missing' : 'bad value'}` });
  if (!name(g.node)) return bad('node');
  if (!name(g.source)) return bad('source');
  if (!(DATA_GAP_KINDS as readonly unknown[]).includes(g.kind)) return bad('kind');
  if (!whole(g.from)) return bad('from');
  if (!whole(g.to) || g.to < g.from) return bad('to');
  if (!whole(g.count)) return bad('count');
  if (g.reasons !== undefined) {
    const r = g.reasons;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return bad('reasons');
    const entries = Object.entries(r);
    if (entries.length > MAX_GAP_REASONS) return bad('reasons');
    for (const [k, n] of entries) if (k.length > MAX_GAP_REASON_LENGTH || !NAME.test(k) || !whole(n)) return bad('reasons');
  }
  return undefined;
}

/** The stored shape of a checked gap: its DataGap v1 fields only (extra fields dropped). */
export function gapOf(v: unknown): DataGap {
  const g = v as DataGap;
  const out: DataGap = { schema: 1, node: g.node, source: g.source, kind: g.kind, from: g.from, to: g.to, count: g.count };
  if (g.reasons !== undefined) out.reasons = { ...g.reasons };
  return out;
}
