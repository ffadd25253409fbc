/** Responder options and their defaults, checked once and frozen. */
import { SEVERITIES, type Severity } from '@floe/flow';
import { RespondError } from './errors.js';
import { DEFAULT_MIN_PREFIX_LENGTH, type MinPrefixLength } from './protect.js';

const HOUR = 3_600_000;

/** How findings become block decisions. Durations in ms. */
export interface ResponderOptions {
  /** Lowest finding severity that leads to a block (default 'high'). */
  minSeverity: Severity;
  /** Block duration when `escalationMs` is empty, and of a manual block without `durationMs` when it is (default 1 h). */
  ttlMs: number;
  /** Duration of the 1st, 2nd, 3rd… block of a repeat offender; the last step repeats (default [1 h, 4 h, 24 h]). */
  escalationMs: number[];
  /** A new block within this time after the previous block of the same target ended escalates one step (default 24 h). */
  escalationWindowMs?: number;
  /** New blocks allowed per rolling minute (extensions and manual blocks are not capped) (default 30). */
  maxNewBlocksPerMinute: number;
  /** Decisions carry `dryRun: true`: stored and audited, never enforced (default false). */
  dryRun: boolean;
  /** CIDRs never blocked (API server, cluster DNS, the user's list) (default []). */
  neverBlock: string[];
  /** This host's own addresses, always protected (runtime `nodeAddresses()`) (default []). */
  nodeAddrs?: string[];
  /** The policy's `networks.nodes`: node addresses and networks, always protected (default []). */
  nodes?: string[];
  /** The policy's `networks.controlPlane`, always protected (default []). */
  controlPlane?: string[];
  /** Shortest prefix a block may have (default { ipv4: 16, ipv6: 32 }: a /15 or a /31 is refused). */
  minPrefixLength?: MinPrefixLength;
  /**
   * Block on findings whose flows were all logged with an accept verdict (`[UFW ALLOW]`,
   * `ACCEPT`; FlowRecord.verdict 'accept') (default false: such findings are ignored,
   * cause `accept-verdict`).
   */
  blockOnAcceptedLogs?: boolean;
  /** Decision scope: `all` nodes or a list of node names (default 'all'). */
  scope?: 'all' | string[];
}

/** Defaults of every option (see {@link ResponderOptions}). */
export function defaultResponderOptions(): ResponderOptions {
  return {
    minSeverity: 'high',
    ttlMs: HOUR,
    escalationMs: [HOUR, 4 * HOUR, 24 * HOUR],
    escalationWindowMs: 24 * HOUR,
    maxNewBlocksPerMinute: 30,
    dryRun: false,
    neverBlock: [],
    nodeAddrs: [],
    nodes: [],
    controlPlane: [],
    minPrefixLength: { ...DEFAULT_MIN_PREFIX_LENGTH },
    blockOnAcceptedLogs: false,
    scope: 'all',
  };
}

/** Options after checking: every field present. */
export type CheckedResponderOptions = Readonly<Required<ResponderOptions>>;

function bad(field: string, msg: string): never {
  throw new RespondError('FLOE_RESPOND_BAD_OPTIONS', field, msg);
}

function duration(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) bad(field, `must be a positive integer of ms, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Check options and fill the optional ones with defaults.
 * @throws RespondError (FLOE_RESPOND_BAD_OPTIONS) naming the field. Never-block CIDRs are checked when the responder builds its set.
 */
export function checkResponderOptions(o: ResponderOptions): CheckedResponderOptions {
  const d = defaultResponderOptions();
  if (!(SEVERITIES as readonly string[]).includes(o.minSeverity)) bad('minSeverity', `must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(o.minSeverity)}`);
  if (!Array.isArray(o.escalationMs)) bad('escalationMs', 'must be an array of durations');
  const escalationMs = o.escalationMs.map((v, i) => duration(`escalationMs[${i}]`, v));
  const max = o.maxNewBlocksPerMinute;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) bad('maxNewBlocksPerMinute', `must be an integer >= 0, got ${JSON.stringify(max)}`);
  if (typeof o.dryRun !== 'boolean') bad('dryRun', 'must be a boolean');
  if (!Array.isArray(o.neverBlock)) bad('neverBlock', 'must be an array of CIDRs');
  for (const k of ['nodeAddrs', 'nodes', 'controlPlane'] as const) if (o[k] !== undefined && !Array.isArray(o[k])) bad(k, 'must be an array of CIDRs');
  const blockOnAcceptedLogs = o.blockOnAcceptedLogs ?? false;
  if (typeof blockOnAcceptedLogs !== 'boolean') bad('blockOnAcceptedLogs', 'must be a boolean');
  const scope = o.scope ?? d.scope!;
  if (scope !== 'all' && !(Array.isArray(scope) && scope.length > 0 && scope.every((s) => typeof s === 'string' && s !== ''))) {
    bad('scope', "must be 'all' or a non-empty list of node names");
  }
  return Object.freeze({
    minSeverity: o.minSeverity,
    ttlMs: duration('ttlMs', o.ttlMs),
    escalationMs: Object.freeze(escalationMs) as number[],
    escalationWindowMs: duration('escalationWindowMs', o.escalationWindowMs ?? d.escalationWindowMs),
    maxNewBlocksPerMinute: max,
    dryRun: o.dryRun,
    neverBlock: Object.freeze([...o.neverBlock]) as string[],
    nodeAddrs: Object.freeze([...(o.nodeAddrs ?? [])]) as string[],
    nodes: Object.freeze([...(o.nodes ?? [])]) as string[],
    controlPlane: Object.freeze([...(o.controlPlane ?? [])]) as string[],
    // checked by createProtectedSet, which names the field
    minPrefixLength: Object.freeze({ ...DEFAULT_MIN_PREFIX_LENGTH, ...(o.minPrefixLength ?? {}) }),
    blockOnAcceptedLogs,
    scope: scope === 'all' ? 'all' : (Object.freeze([...scope]) as string[]),
  });
}
