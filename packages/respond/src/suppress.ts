/**
 * Suppression rules (issue 8): a finding that matches an unexpired rule raises no alert and no
 * block; it is still stored, marked with the rule's id (the processor's decide step), so nothing
 * is lost. The responder asks the suppressor first of all (`ignored` / `suppressed`), so every
 * path that turns findings into decisions honours the rules; alert dispatchers call `check`
 * themselves. Pure state in memory: the runtime loads the rules from the store and replaces them
 * when they change (`replace`).
 *
 * A rule matches a finding when EVERY field it sets matches (a rule sets at least one):
 * - `detector`: equal to the finding's detector (or policy rule) id;
 * - `entity`: an address or CIDR containing the finding's entity address;
 * - `namespace`: the finding's entity namespace (from the flows' srcMeta, once enrichment adds
 *   it), or a namespace its evidence names (`evidence.dstNamespace`, `evidence.namespaces`);
 *   a finding without any namespace never matches a namespace rule;
 * - `port`: the destination port(s) the finding's evidence names (`evidence.ports`,
 *   `evidence.dstPort`, the sample flows' `dstPort`) are all this port — a scan of 100 ports is
 *   not hidden by a rule for port 22, a brute force on port 22 is; a finding naming no port never
 *   matches a port rule.
 */
import { normalizeAddr, type Finding } from '@floe/flow';
import { parseCidr, type ParsedCidr } from '@floe/policy';
import type { SuppressionRule } from '@floe/store';
import { Counter, type Registry } from 'prom-client';
import { RespondError } from './errors.js';
import { normalizeTarget, overlaps } from './target.js';

/** The rule fields matching uses (a stored SuppressionRule has them all). */
export type SuppressionRuleLike = Pick<SuppressionRule, 'id' | 'detector' | 'entity' | 'namespace' | 'port' | 'expiresAt' | 'reason'>;

/** What `check` returns for a suppressed finding: the first matching rule in the order given. */
export interface SuppressionMatch {
  ruleId: string;
  /** The rule's reason, for logs and alert sinks. */
  reason: string;
  /** When it matched (ms since epoch). */
  at: number;
}

/** Suppression rules in memory. */
export interface Suppressor {
  /**
   * The first unexpired rule (expiresAt > nowMs; default the suppressor's clock) that matches
   * `finding`, or undefined. Never throws (a finding with an unreadable address matches no entity rule).
   */
  check(finding: Finding, nowMs?: number): SuppressionMatch | undefined;
  /**
   * Replaces every rule (from the store, at start and whenever they change).
   * @throws RespondError FLOE_RESPOND_BAD_OPTIONS for a rule with no field or a bad entity/port; nothing is replaced then.
   */
  replace(rules: readonly SuppressionRuleLike[]): void;
  /** The rules in use. */
  rules(): readonly SuppressionRuleLike[];
}

/** Dependencies of {@link createSuppressor}. */
export interface SuppressorDeps {
  /** Clock, ms since epoch; default Date.now. */
  now?: () => number;
  /** Registry for `floe_respond_suppressed_total{detector}`. */
  metrics?: Registry;
}

interface Compiled {
  rule: SuppressionRuleLike;
  entity?: ParsedCidr;
}

/** Name of the counter of suppressed findings. */
export const SUPPRESSED_METRIC = 'floe_respond_suppressed_total';

function compile(rule: SuppressionRuleLike, i: number): Compiled {
  const bad = (msg: string): never => {
    throw new RespondError('FLOE_RESPOND_BAD_OPTIONS', `suppressions[${i}]`, msg);
  };
  if (rule.detector === undefined && rule.entity === undefined && rule.namespace === undefined && rule.port === undefined) {
    bad('a rule must set at least one of detector, entity, namespace, port');
  }
  if (rule.port !== undefined && (!Number.isInteger(rule.port) || rule.port < 1 || rule.port > 65_535)) bad(`port must be 1..65535, got ${String(rule.port)}`);
  if (!Number.isFinite(rule.expiresAt)) bad('expiresAt must be a time in ms since epoch');
  let entity: ParsedCidr | undefined;
  if (rule.entity !== undefined) {
    try {
      entity = normalizeTarget(rule.entity, 'entity');
    } catch (e) {
      bad(`entity: ${(e as Error).message}`);
    }
  }
  return entity === undefined ? { rule } : { rule, entity };
}

/** The destination ports a finding's evidence names (may be empty). */
export function findingPorts(f: Finding): number[] {
  const ev = f.evidence;
  const out = new Set<number>();
  if (Array.isArray(ev.ports)) for (const p of ev.ports) if (typeof p === 'number') out.add(p);
  if (typeof ev.dstPort === 'number') out.add(ev.dstPort);
  if (Array.isArray(ev.sample)) for (const s of ev.sample) if (typeof s?.dstPort === 'number') out.add(s.dstPort);
  return [...out];
}

/** The namespaces a finding names: its entity's, and those of its evidence (`dstNamespace`, `namespaces`). */
export function findingNamespaces(f: Finding): string[] {
  const out: string[] = [];
  if (typeof f.entity.namespace === 'string') out.push(f.entity.namespace);
  const ev = f.evidence;
  if (typeof ev.dstNamespace === 'string') out.push(ev.dstNamespace);
  if (Array.isArray(ev.namespaces)) for (const n of ev.namespaces) if (typeof n === 'string') out.push(n);
  return out;
}

function entityPrefix(f: Finding): ParsedCidr | undefined {
  const a = normalizeAddr(f.entity.addr);
  if (a === undefined) return undefined;
  try {
    return parseCidr(a.addr);
  } catch {
    return undefined;
  }
}

/** True when `c` matches `f` (see the module comment); expiry is not checked here. */
function matches(c: Compiled, f: Finding, entity: () => ParsedCidr | undefined): boolean {
  const r = c.rule;
  if (r.detector !== undefined && r.detector !== f.detector) return false;
  if (c.entity !== undefined) {
    const e = entity();
    if (e === undefined || e.bits < c.entity.bits || !overlaps(c.entity, e)) return false;
  }
  if (r.namespace !== undefined && !findingNamespaces(f).includes(r.namespace)) return false;
  if (r.port !== undefined) {
    const ports = findingPorts(f);
    if (ports.length === 0 || ports.some((p) => p !== r.port)) return false;
  }
  return true;
}

/**
 * A suppressor over `rules` (checked: see {@link Suppressor.replace}). Inert: no I/O, no timers.
 * Each suppressed finding counts in `floe_respond_suppressed_total{detector}`.
 */
export function createSuppressor(rules: readonly SuppressionRuleLike[] = [], deps: SuppressorDeps = {}): Suppressor {
  const now = deps.now ?? Date.now;
  let compiled: Compiled[] = rules.map(compile);
  let counter: Counter<'detector'> | undefined;
  if (deps.metrics) {
    const existing = deps.metrics.getSingleMetric(SUPPRESSED_METRIC);
    counter =
      (existing as Counter<'detector'> | undefined) ??
      new Counter({ name: SUPPRESSED_METRIC, help: 'Findings a suppression rule matched (no alert, no block), by detector', labelNames: ['detector'], registers: [deps.metrics] });
  }
  return {
    check(finding, nowMs) {
      if (compiled.length === 0) return undefined;
      const t = nowMs ?? now();
      let e: ParsedCidr | undefined | null = null;
      const entity = () => {
        if (e === null) e = entityPrefix(finding);
        return e;
      };
      for (const c of compiled) {
        if (c.rule.expiresAt <= t) continue;
        if (matches(c, finding, entity)) {
          counter?.inc({ detector: finding.detector });
          return { ruleId: c.rule.id, reason: c.rule.reason, at: t };
        }
      }
      return undefined;
    },
    replace(next) {
      compiled = next.map(compile);
    },
    rules: () => compiled.map((c) => c.rule),
  };
}
