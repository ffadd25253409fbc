/**
 * Manual blocks and unblocks: the responder's outcome of a manual request mapped to what the
 * API answers (moved here from @floe/runtime's roles.ts, which now only wires it).
 *
 * - a new block → the stored decision, change `create` (201);
 * - a re-block that ends later than the active block → the extended decision, change `extend` (200);
 * - a re-block that does not end later → ApiError FLOE_RESPOND_ALREADY_BLOCKED (409) carrying the
 *   active decision, which is kept unchanged;
 * - the target's stored decision is read first, so a block made by another process counts too;
 * - refused → the refusal is audited, then FLOE_RESPOND_NEVER_BLOCK, FLOE_RESPOND_PROTECTED,
 *   FLOE_RESPOND_RATE_LIMIT or FLOE_RESPOND_REFUSED (errors.ts gives the statuses).
 */
import type { Decision } from '@floe/flow';
import type { Responder, ResponseOutcome } from '@floe/respond';
import type { Store } from '@floe/store';
import { ApiError, type ErrorCode } from './errors.js';

/** A manual block request handed to the responder. `durationMs` absent = the responder's default. */
export interface ManualBlockRequest {
  target: string;
  durationMs?: number;
  reason: string;
  user: string;
}

/** What a manual block did: a new decision, or the extension of an active one. */
export interface ManualBlockResult {
  decision: Decision;
  change: 'create' | 'extend';
}

/** The decision writer as the API uses it (store, then the compacted decisions topic). */
export interface DecisionWriterLike {
  /** Persists an outcome (decision and audit, or a refusal's audit) and publishes a decision; returns it when there is one. */
  write(outcome: ResponseOutcome): Promise<Decision | undefined>;
  /** Deletes the decision of `target`, audits and publishes a tombstone; false when there was none. */
  unblock(target: string, user: string, nowMs: number): Promise<boolean>;
}

/** The API's write handlers (ApiDeps.onManualBlock, ApiDeps.onUnblock). */
export interface DecisionHandlers {
  /**
   * Orders a block of a normalised target.
   * @throws ApiError (FLOE_RESPOND_ALREADY_BLOCKED with the kept decision, FLOE_RESPOND_NEVER_BLOCK,
   *   FLOE_RESPOND_PROTECTED, FLOE_RESPOND_RATE_LIMIT, FLOE_RESPOND_REFUSED); RespondError
   *   (FLOE_RESPOND_BAD_TARGET, FLOE_RESPOND_BAD_REQUEST) as the responder throws it; the
   *   writer's errors as they are.
   */
  onManualBlock(req: ManualBlockRequest): Promise<ManualBlockResult>;
  /** Lifts the block on a normalised target; false when there was none. */
  onUnblock(target: string, user: string): Promise<boolean>;
  /**
   * Extends the active block of a normalised target to now + `durationMs` through the responder
   * (every guard applies); resolves to the extended decision.
   * @throws ApiError FLOE_API_NOT_FOUND (no active block), FLOE_API_DRY_RUN_BLOCK (the active
   *   block is a dry-run decision), FLOE_RESPOND_ALREADY_BLOCKED (the new end is not later; the
   *   decision is kept), and the refusals of onManualBlock.
   */
  onExtend(req: ManualBlockRequest): Promise<Decision>;
}

/** Dependencies of createDecisionHandlers. */
export interface DecisionHandlerDeps {
  responder: Pick<Responder, 'manualBlock' | 'seed'>;
  /**
   * Where decisions are stored. Before a manual block the target's stored decision, when it is
   * active and not dry-run, is handed to the responder (`seed`): a block another process made
   * since this one started (a processor in a scale-out deployment) is extended or kept, never
   * overwritten by a shorter one.
   */
  store?: Pick<Store, 'getDecision'>;
  writer: DecisionWriterLike;
  /** Clock, ms since epoch; default Date.now. */
  now?: () => number;
  /** Called with each decision written (`floe run` prints it). */
  onDecision?: (d: Decision) => void;
}

/** The code of a refusal by its cause; causes this version does not know map to FLOE_RESPOND_REFUSED. */
function refusalCode(cause: string, protectedBy?: string): ErrorCode {
  switch (cause) {
    case 'never-block':
      return protectedBy === undefined || protectedBy === 'never-block' ? 'FLOE_RESPOND_NEVER_BLOCK' : 'FLOE_RESPOND_PROTECTED';
    case 'too-wide':
      return 'FLOE_RESPOND_TOO_WIDE';
    case 'protected':
      return 'FLOE_RESPOND_PROTECTED';
    case 'rate-limit':
      return 'FLOE_RESPOND_RATE_LIMIT';
    default:
      return 'FLOE_RESPOND_REFUSED';
  }
}

/** The manual block and unblock handlers over a responder and a decision writer (see the module comment). */
export function createDecisionHandlers(deps: DecisionHandlerDeps): DecisionHandlers {
  const now = deps.now ?? Date.now;
  const handlers: DecisionHandlers = {
    async onManualBlock(req) {
      const at = now();
      const stored = await deps.store?.getDecision(req.target);
      if (stored !== undefined && stored.expiresAt > at && !stored.dryRun) deps.responder.seed([stored]);
      const outcome = deps.responder.manualBlock(req, at);
      switch (outcome.kind) {
        case 'decision': {
          const d = await deps.writer.write(outcome);
          if (d === undefined) throw new Error(`decision writer returned no decision for ${req.target}`);
          deps.onDecision?.(d);
          return { decision: d, change: outcome.audit.change === 'extend' ? 'extend' : 'create' };
        }
        case 'refused':
          await deps.writer.write(outcome);
          throw new ApiError(
            refusalCode(outcome.cause, outcome.protectedBy),
            `block of ${req.target} ${outcome.audit.reason.startsWith('refused: ') ? outcome.audit.reason : `refused: ${outcome.audit.reason}`}`,
          );
        case 'ignored': {
          const existing = outcome.existing;
          if (outcome.cause !== 'already-blocked' || existing === undefined) throw new Error(`responder ignored a manual block of ${req.target} (${outcome.cause})`);
          throw new ApiError(
            'FLOE_RESPOND_ALREADY_BLOCKED',
            `${existing.target} is already blocked until ${new Date(existing.expiresAt).toISOString()}, not earlier than the requested block would end; the existing decision is kept`,
            { extra: { decision: existing } },
          );
        }
      }
    },
    onUnblock: (target, user) => deps.writer.unblock(target, user, now()),
    async onExtend(req) {
      const stored = await deps.store?.getDecision(req.target);
      if (stored === undefined || stored.expiresAt <= now()) throw new ApiError('FLOE_API_NOT_FOUND', `no active block of ${req.target} to extend`);
      // listed as active by GET /v1/decisions, but nothing enforces it: extending it would pretend otherwise
      if (stored.dryRun)
        throw new ApiError(
          'FLOE_API_DRY_RUN_BLOCK',
          `the block of ${req.target} is a dry-run decision (respond.dryRun: recorded, never enforced) and cannot be extended; it ends at ${new Date(stored.expiresAt).toISOString()}`,
        );
      const { decision, change } = await handlers.onManualBlock(req);
      if (change !== 'extend') throw new Error(`responder created a block of ${req.target} instead of extending the active one`);
      return decision;
    },
  };
  return handlers;
}
