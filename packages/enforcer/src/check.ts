/**
 * The enforcer's check of what it reads on `floe.decisions.v1` (and from the store at start):
 * a consumer never acts on a record whose schema version or shape it does not know (issue 6).
 */

/** The Decision schema version this enforcer reads (Decision v1, packages/flow/src/decision.ts). */
export const DECISION_SCHEMA_VERSION = 1;

/** Longest text field accepted (characters): origin and reason are far shorter in practice. */
export const MAX_DECISION_TEXT = 4096;
/** Most node names a decision's scope may list, and the longest name (a DNS host name is ≤ 253). */
export const MAX_SCOPE_NODES = 10_000;
export const MAX_NODE_NAME = 256;

/** Why a decision message was refused: label `reason` of floe_enforcer_invalid_decisions_total. */
export type DecisionProblemReason = 'schema-version' | 'invalid-record' | 'bad-target';

/** What checkDecision found wrong, with a one-line explanation. */
export interface DecisionProblem {
  reason: DecisionProblemReason;
  detail: string;
}

const ms = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const text = (v: unknown): boolean => typeof v === 'string' && v.length <= MAX_DECISION_TEXT;

/** Fields of Decision v1 (besides `schema`) and their checks. */
const FIELDS: ReadonlyArray<readonly [string, (v: unknown) => boolean]> = [
  ['target', (v) => typeof v === 'string' && v.length >= 1 && v.length <= 64],
  ['action', (v) => v === 'block'],
  ['scope', (v) => v === 'all' || (Array.isArray(v) && v.length <= MAX_SCOPE_NODES && v.every((n) => typeof n === 'string' && n.length >= 1 && n.length <= MAX_NODE_NAME))],
  ['durationMs', ms],
  ['expiresAt', ms],
  ['origin', text],
  ['reason', text],
  ['count', ms],
  ['dryRun', (v) => typeof v === 'boolean'],
  ['createdAt', ms],
  ['updatedAt', ms],
];

/**
 * Checks one decision value before the enforcer uses it: an object whose `schema` is
 * DECISION_SCHEMA_VERSION (else `schema-version`: a missing or unknown version is never guessed)
 * with every Decision v1 field present and of its type (action `block`, scope `all` or a list of
 * node names, times and counts non-negative safe integers, text up to MAX_DECISION_TEXT; else
 * `invalid-record`). Whether the target is an address or prefix is checked by the caller
 * (`bad-target`). Returns undefined for a valid decision.
 */
export function checkDecision(v: unknown): DecisionProblem | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { reason: 'invalid-record', detail: `a decision is an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}` };
  }
  const d = v as Record<string, unknown>;
  if (d.schema !== DECISION_SCHEMA_VERSION) {
    return {
      reason: 'schema-version',
      detail:
        d.schema === undefined
          ? 'the decision has no schema version'
          : `schema version ${JSON.stringify(d.schema)?.slice(0, 40)} is not one this enforcer reads (${DECISION_SCHEMA_VERSION})`,
    };
  }
  for (const [k, ok] of FIELDS) if (!ok(d[k])) return { reason: 'invalid-record', detail: `field ${k}: ${d[k] === undefined ? 'missing' : 'bad value'}` };
  return undefined;
}
