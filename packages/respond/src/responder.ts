/**
 * The responder: finding -> block decision, with the never-block guard, a rate cap on new blocks,
 * escalation of repeat offenders, extension of active blocks and dry-run. Pure state in memory;
 * the caller stores and publishes the decisions and audits it returns.
 *
 * Escalation rule: a new block of a target whose previous block ENDED (expired, by its
 * `expiresAt`) less than `escalationWindowMs` (24 h) before now is a repeat: its step is the
 * previous step + 1; otherwise the step is 1. Step n lasts `escalationMs[min(n-1, len-1)]`
 * (`ttlMs` when `escalationMs` is empty). So with the defaults a source blocked again within a day
 * of each block's end gets 1 h, 4 h, 24 h, 24 h, … `Decision.count` carries the step.
 *
 * Already blocked (an active decision for the exact same target): the block is extended to
 * now + the current step's duration when that is later than its expiry (same step, audited as
 * `extend`), else the finding is ignored (`already-blocked`). Extensions do not count against the
 * rate cap. A finding whose id is the active decision's origin (a redelivery) is ignored as
 * `already-blocked`, so replays are idempotent. A block is active while `expiresAt > now`.
 */
import { acceptedOnly, entityIsVictim, severityRank, type Decision, type DecisionAudit, type Finding } from '@floe/flow';
import type { Registry } from 'prom-client';
import type { ParsedCidr } from '@floe/policy';
import { RespondError } from './errors.js';
import { createRespondMetrics, type IgnoreCause, type RefuseCause } from './metrics.js';
import { checkResponderOptions, type ResponderOptions } from './options.js';
import { createProtectedSet, type ProtectedKind, type ProtectedSet } from './protect.js';
import type { SuppressionMatch, Suppressor } from './suppress.js';
import { normalizeTarget } from './target.js';
import type { Logger } from '@floe/telemetry';

/** What the responder did with a finding or a manual request. */
export type ResponseOutcome =
  /** A new block or an extension; store and publish `decision`, store `audit`. */
  | { kind: 'decision'; decision: Decision; audit: DecisionAudit }
  /**
   * Not blocked, and audited: the target overlaps the protected set (`never-block`: never-block
   * list, node or control-plane networks, this host, special ranges), is wider than
   * `minPrefixLength` (`too-wide`), or the rate cap is reached. Manual requests throw instead.
   */
  | {
      kind: 'refused';
      audit: DecisionAudit;
      cause: RefuseCause /** What in the protected set refused it (never-block, node, control-plane, host, special, too-wide). */;
      protectedBy?: ProtectedKind | 'too-wide';
    }
  /**
   * Nothing to do: severity below `minSeverity`, already blocked until later, only accept-verdict
   * flows (`accept-verdict`), or an entity that is the victim, not the source (`victim`). A manual block of an already blocked target carries the active
   * decision that stands as `existing`.
   */
  | { kind: 'ignored'; cause: IgnoreCause; existing?: Decision; suppression?: SuppressionMatch };

/** A manual block request from the API. */
export interface ManualBlockRequest {
  /** Address (`/32` or `/128` implied) or CIDR prefix without host bits. */
  target: string;
  /** Duration in ms; default: the escalation step's duration. */
  durationMs?: number;
  /** Why, as the operator wrote it (non-empty). */
  reason: string;
  /** The API user (non-empty); the decision's origin is `api:<user>`. */
  user: string;
}

/** Turns findings and manual requests into decisions. Times are ms since epoch, passed in. */
export interface Responder {
  /**
   * Decide on a finding at time `nowMs`.
   * @throws RespondError (FLOE_RESPOND_BAD_TARGET) when `finding.entity.addr` is not an IP address.
   */
  respond(finding: Finding, nowMs: number): ResponseOutcome;
  /**
   * Manual block from the API: same guards (the protected set wins; the rate cap does not apply).
   * Re-block of an active block: extended (outcome `decision`, audit change `extend`) when
   * now + the duration is later than its expiry, else kept: outcome `ignored` /
   * `already-blocked` with the active decision as `existing`.
   * @throws RespondError FLOE_RESPOND_BAD_TARGET (bad target), FLOE_RESPOND_BAD_REQUEST (duration,
   * reason, user). A target in the protected set or wider than minPrefixLength is a `refused`
   * outcome (cause never-block or too-wide, `protectedBy` the kind of entry hit), audited by the caller.
   */
  manualBlock(req: ManualBlockRequest, nowMs: number): ResponseOutcome;
  /**
   * Seed with current decisions (from the store at start) so escalation and already-blocked work
   * across restarts. A decision that now overlaps the protected set is logged (warn) and counted
   * (`floe_respond_seed_withheld_total{reason}`); one held back whole (too wide, or inside a
   * protected prefix) is not taken as an active block; a split one is (the enforcer enforces its pieces).
   */
  seed(decisions: Decision[]): void;
  /** Forget a target (unblock): its active decision and its escalation history. Unknown targets are ignored. */
  release(target: string): void;
}

/** The responder's logger: the telemetry package's pino-compatible `Logger` (kept under this name for callers). */
export type RespondLogger = Logger;

/** Dependencies of {@link createResponder}. */
export interface ResponderDeps {
  /** prom-client registry for `floe_respond_*` counters. */
  metrics?: Registry;
  logger?: RespondLogger;
  /**
   * The protected set to use instead of one built from the options (the runtime's
   * LiveProtectedSet, whose run-time never-block entries change: shared with the enforcer).
   * It must hold at least what the options' never-block, node and control-plane lists name.
   */
  guard?: ProtectedSet;
  /**
   * Suppression rules (suppress.ts), asked first for every finding: a match is `ignored` with
   * cause `suppressed` and the match in `suppression` (the decide step marks the finding).
   * Manual blocks are not suppressed.
   */
  suppressor?: Pick<Suppressor, 'check'>;
}

const MINUTE = 60_000;

/**
 * Create a responder. Inert: no I/O, no timers.
 * @throws RespondError (FLOE_RESPOND_BAD_OPTIONS) for bad options or never-block CIDRs.
 */
export function createResponder(options: ResponderOptions, deps: ResponderDeps = {}): Responder {
  const o = checkResponderOptions(options);
  const guard =
    deps.guard ?? createProtectedSet({ neverBlock: o.neverBlock, nodes: o.nodes, controlPlane: o.controlPlane, hostAddrs: o.nodeAddrs, minPrefixLength: o.minPrefixLength });
  const metrics = createRespondMetrics(deps.metrics);
  const log = deps.logger;
  const minRank = severityRank(o.minSeverity);
  /** Last decision per target (active or ended), in order of last change: escalation history and active set. */
  const byTarget = new Map<string, Decision>();
  /** Times of new automatic blocks in the last minute, oldest first. */
  const recent: number[] = [];

  const durationFor = (step: number): number => (o.escalationMs.length === 0 ? o.ttlMs : o.escalationMs[Math.min(step - 1, o.escalationMs.length - 1)]);

  const scope = (): 'all' | string[] => (o.scope === 'all' ? 'all' : [...o.scope]);

  /** Drop history that can no longer escalate (ended more than escalationWindowMs ago), oldest changes first. */
  function prune(now: number): void {
    for (const [t, d] of byTarget) {
      if (d.expiresAt + o.escalationWindowMs > now) break;
      byTarget.delete(t);
    }
  }

  function remember(d: Decision): void {
    byTarget.delete(d.target);
    byTarget.set(d.target, d);
  }

  function refuse(target: string, origin: string, cause: RefuseCause, reason: string, now: number, protectedBy?: ProtectedKind | 'too-wide'): ResponseOutcome {
    metrics.decision('refused');
    metrics.refused(cause);
    log?.warn({ target, origin, cause, protectedBy }, reason);
    const audit: DecisionAudit = { at: now, target, change: 'refuse', origin, reason };
    return protectedBy === undefined ? { kind: 'refused', cause, audit } : { kind: 'refused', cause, audit, protectedBy };
  }

  function ignore(cause: IgnoreCause): ResponseOutcome {
    metrics.decision('ignored');
    metrics.ignored(cause);
    return { kind: 'ignored', cause };
  }

  /** Create or extend; `capped` applies the rate cap to a new block. */
  function block(t: ParsedCidr, origin: string, why: string, now: number, durationMs: number | undefined, capped: boolean): ResponseOutcome {
    const target = t.prefix;
    const hit = guard.check(t);
    if (hit !== undefined) {
      const cause: RefuseCause = hit.reason === 'too-wide' ? 'too-wide' : 'never-block';
      // a manual request is refused the same way (audited by the caller); `protectedBy` lets the API name the entry kind
      return refuse(target, origin, cause, `refused: ${hit.detail}; ${why}`, now, hit.reason);
    }
    const prev = byTarget.get(target);
    if (prev !== undefined && prev.expiresAt > now) {
      // The same finding again (an at-least-once redelivery) never extends.
      if (prev.origin === origin && !origin.startsWith('api:')) return ignore('already-blocked');
      const dur = durationMs ?? durationFor(prev.count);
      if (now + dur <= prev.expiresAt) return ignore('already-blocked');
      const d: Decision = { ...prev, scope: scope(), durationMs: dur, expiresAt: now + dur, origin, reason: why, dryRun: prev.dryRun && o.dryRun, updatedAt: now };
      remember(d);
      metrics.decision('extend');
      log?.info({ target, origin, expiresAt: d.expiresAt, dryRun: d.dryRun }, `extended block of ${target}`);
      const reason = `extend block of ${target} by ${fmt(dur)} to step ${d.count}: ${why}`;
      return { kind: 'decision', decision: d, audit: { at: now, target, change: 'extend', origin, reason, decision: d } };
    }
    if (capped) {
      while (recent.length > 0 && now - recent[0] >= MINUTE) recent.shift();
      if (recent.length >= o.maxNewBlocksPerMinute) {
        return refuse(target, origin, 'rate-limit', `refused: rate cap of ${o.maxNewBlocksPerMinute} new blocks per minute reached; ${why}`, now);
      }
      recent.push(now);
    }
    const step = prev !== undefined && now - prev.expiresAt < o.escalationWindowMs ? prev.count + 1 : 1;
    const dur = durationMs ?? durationFor(step);
    const d: Decision = {
      schema: 1,
      target,
      action: 'block',
      scope: scope(),
      durationMs: dur,
      expiresAt: now + dur,
      origin,
      reason: why,
      count: step,
      dryRun: o.dryRun,
      createdAt: now,
      updatedAt: now,
    };
    remember(d);
    prune(now);
    metrics.decision('create');
    log?.info({ target, origin, step, durationMs: dur, dryRun: d.dryRun }, `new block of ${target}`);
    const reason = `block ${target} for ${fmt(dur)} (step ${step}${o.dryRun ? ', dry-run' : ''}): ${why}`;
    return { kind: 'decision', decision: d, audit: { at: now, target, change: 'create', origin, reason, decision: d } };
  }

  return {
    respond(finding, nowMs) {
      const suppression = deps.suppressor?.check(finding, nowMs);
      if (suppression !== undefined) {
        metrics.decision('ignored');
        metrics.ignored('suppressed');
        return { kind: 'ignored', cause: 'suppressed', suppression };
      }
      if (severityRank(finding.severity) < minRank) return ignore('below-severity');
      if (!o.blockOnAcceptedLogs && acceptedOnly(finding)) return ignore('accept-verdict');
      // The entity is the target of the flows (a SYN flood from spoofed sources): never block it.
      if (entityIsVictim(finding)) return ignore('victim');
      const t = normalizeTarget(finding.entity.addr, 'finding.entity.addr');
      // The Kubernetes identity of the entity when enrichment gave one (issue 9): the decision names the pod it blocks.
      const e = finding.entity;
      const pod =
        e.namespace !== undefined && (e.pod !== undefined || e.workload !== undefined)
          ? ` on pod ${e.namespace}/${e.pod ?? '?'}${e.workload !== undefined ? ` (workload ${e.workload})` : ''}`
          : '';
      const why = `${finding.kind} ${finding.detector} finding ${finding.id}${pod} (severity ${finding.severity}, score ${finding.score}): ${finding.summary}`;
      return block(t, finding.id, why, nowMs, undefined, true);
    },

    manualBlock(req, nowMs) {
      const t = normalizeTarget(req.target, 'target');
      if (req.durationMs !== undefined && (!Number.isSafeInteger(req.durationMs) || req.durationMs <= 0)) {
        throw new RespondError('FLOE_RESPOND_BAD_REQUEST', 'durationMs', `must be a positive integer of ms, got ${JSON.stringify(req.durationMs)}`);
      }
      if (typeof req.reason !== 'string' || req.reason.trim() === '') throw new RespondError('FLOE_RESPOND_BAD_REQUEST', 'reason', 'must not be empty');
      if (typeof req.user !== 'string' || req.user.trim() === '') throw new RespondError('FLOE_RESPOND_BAD_REQUEST', 'user', 'must not be empty');
      const origin = `api:${req.user}`;
      const out = block(t, origin, `manual block by ${req.user}: ${req.reason}`, nowMs, req.durationMs, false);
      if (out.kind === 'ignored' && out.cause === 'already-blocked') return { ...out, existing: byTarget.get(t.prefix) };
      return out;
    },

    seed(decisions) {
      const sorted = [...decisions].sort((a, b) => a.updatedAt - b.updatedAt);
      for (const d of sorted) {
        const a = guard.admit(d.target);
        if (a.outcome !== 'ok') {
          metrics.seedWithheld(a.reason ?? 'unknown');
          log?.warn(
            { target: d.target, origin: d.origin, outcome: a.outcome, reason: a.reason, pieces: a.pieces.length },
            `stored decision ${d.target} overlaps the protected set (${a.detail}): ${a.outcome === 'held' ? 'not an active block' : `enforced only in ${a.pieces.length} pieces around it`}`,
          );
          if (a.outcome === 'held') continue;
        }
        const prev = byTarget.get(d.target);
        if (prev === undefined || prev.updatedAt <= d.updatedAt) remember(d);
      }
    },

    release(target) {
      let key = target;
      try {
        key = normalizeTarget(target).prefix;
      } catch {
        // Unknown text: nothing of ours can match it beyond the exact string.
      }
      byTarget.delete(key);
    },
  };
}

function fmt(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
