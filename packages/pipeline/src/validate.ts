import { isIP } from 'node:net';
import { ENDPOINT_META_TEXT_FIELDS, type FlowRecord } from '@floe/flow';

/** The FlowRecord schema version this processor reads (FlowRecord v1, packages/flow/src/record.ts). */
export const FLOW_SCHEMA_VERSION = 1;

/** Longest text field accepted (characters): conntrack and log fields are far shorter. */
export const MAX_TEXT = 4096;

const U8 = 255;
const U16 = 65_535;
const U32 = 4_294_967_295;

type Check = (v: unknown) => boolean;
const uint =
  (max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
const text: Check = (v) => typeof v === 'string' && v.length <= MAX_TEXT;
/** An IPv4 or IPv6 address (node:net isIP; IPv6 may carry a zone). */
const addr: Check = (v) => typeof v === 'string' && v.length <= 64 && isIP(v) !== 0;
const bool: Check = (v) => typeof v === 'boolean';
const oneOf = (...values: string[]): Check => {
  const set = new Set(values);
  return (v) => typeof v === 'string' && set.has(v);
};
/** Most labels accepted on one end's metadata (Kubernetes objects rarely carry more than a few dozen). */
export const MAX_META_LABELS = 256;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * EndpointMeta (srcMeta/dstMeta, optional fields of v1): an object whose known text fields are
 * text and whose `labels` is an object of text values (at most MAX_META_LABELS); other keys are
 * allowed (a newer writer) and ignored.
 */
const meta: Check = (v) => {
  if (!isObject(v)) return false;
  for (const k of ENDPOINT_META_TEXT_FIELDS) if (v[k] !== undefined && !text(v[k])) return false;
  const labels = v.labels;
  if (labels === undefined) return true;
  if (!isObject(labels)) return false;
  let n = 0;
  for (const k in labels) {
    if (++n > MAX_META_LABELS || k.length > MAX_TEXT || !text(labels[k])) return false;
  }
  return true;
};
const MS = uint(Number.MAX_SAFE_INTEGER);
const COUNTER = uint(Number.MAX_SAFE_INTEGER);

/** Required fields of FlowRecord v1 (besides `schema`) and their checks. */
const REQUIRED: ReadonlyArray<readonly [keyof FlowRecord, Check]> = [
  ['observedAt', MS],
  ['source', oneOf('conntrack', 'conntrack-xml', 'nflog', 'nfct', 'kernel-log', 'file')],
  ['event', oneOf('new', 'update', 'destroy', 'snapshot', 'log')],
  ['family', (v) => v === 4 || v === 6],
  ['protocol', uint(U8)],
  ['srcAddr', addr],
  ['dstAddr', addr],
];

/** Optional fields of FlowRecord v1 and their checks (absent or undefined is fine; null is not). */
const OPTIONAL: ReadonlyArray<readonly [keyof FlowRecord, Check]> = [
  ['start', MS],
  ['end', MS],
  ['node', text],
  ['srcPort', uint(U16)],
  ['dstPort', uint(U16)],
  ['icmpType', uint(U8)],
  ['icmpCode', uint(U8)],
  ['replySrcAddr', addr],
  ['replyDstAddr', addr],
  ['replySrcPort', uint(U16)],
  ['replyDstPort', uint(U16)],
  ['bytesOrig', COUNTER],
  ['packetsOrig', COUNTER],
  ['bytesReply', COUNTER],
  ['packetsReply', COUNTER],
  ['state', text],
  ['assured', bool],
  ['unreplied', bool],
  ['zone', uint(U16)],
  ['mark', uint(U32)],
  ['ctId', text],
  ['logPrefix', text],
  ['verdict', oneOf('accept', 'drop')],
  ['inIface', text],
  ['outIface', text],
  ['direction', oneOf('ingress', 'egress', 'internal', 'external')],
  ['srcMeta', meta],
  ['dstMeta', meta],
];

/** What checkFlowRecord found wrong: the dead-letter reason and a one-line explanation. */
export interface RecordProblem {
  reason: 'schema-version' | 'invalid-record';
  detail: string;
}

/**
 * Checks one element of a flows message before anything uses it: an object whose `schema` is
 * FLOW_SCHEMA_VERSION (else reason `schema-version`: a missing or unknown version is never
 * guessed), with every required FlowRecord v1 field present and every field of its type and
 * range (ports 0..65535, protocol 0..255, times and counters non-negative safe integers, known
 * enum values, addresses that parse as IPv4 or IPv6, text up to MAX_TEXT characters; else
 * `invalid-record`). Unknown extra fields are
 * allowed and ignored by the stores. Returns undefined for a valid record.
 */
export function checkFlowRecord(v: unknown): RecordProblem | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { reason: 'invalid-record', detail: `a flow record is an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}` };
  const r = v as Record<string, unknown>;
  if (r.schema !== FLOW_SCHEMA_VERSION) {
    return {
      reason: 'schema-version',
      detail:
        r.schema === undefined
          ? 'the record has no schema version'
          : `schema version ${JSON.stringify(r.schema)?.slice(0, 40)} is not one this processor reads (${FLOW_SCHEMA_VERSION})`,
    };
  }
  for (const [k, ok] of REQUIRED) if (!ok(r[k])) return { reason: 'invalid-record', detail: `field ${k}: ${r[k] === undefined ? 'missing' : 'bad value'}` };
  for (const [k, ok] of OPTIONAL) {
    const x = r[k];
    if (x !== undefined && !ok(x)) return { reason: 'invalid-record', detail: `field ${k}: bad value` };
  }
  return undefined;
}
