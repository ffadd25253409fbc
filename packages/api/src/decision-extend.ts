/**
 * `PATCH /v1/decisions/:target` (analyst; issue 8), a fastify plugin: extends an active block to
 * a new end, `{ expiresAt | duration, reason? }` (exactly one of the two; `duration` counts from
 * now; at most 365 d ahead). It goes through the responder like a manual block, so every
 * guardrail applies: a target now in the protected set (a never-block entry added since) is
 * refused (422 FLOE_RESPOND_NEVER_BLOCK / FLOE_RESPOND_PROTECTED), a new end not later than the
 * current one keeps the block (409 FLOE_RESPOND_ALREADY_BLOCKED with the decision), an active
 * dry-run block (respond.dryRun: recorded, never enforced) is 409 FLOE_API_DRY_RUN_BLOCK, and no
 * active block is 404 FLOE_API_NOT_FOUND (a block is made with POST /v1/decisions). 200 with the
 * extended decision. Audited (`decision.extend`; the store's decision audit records it too).
 */
import { escapeText, type Decision } from '@floe/flow';
import type { FastifyInstance } from 'fastify';
import { auditHook, bearerAuthorize, identityOf, type RouteAccess } from './access.js';
import type { ManualBlockRequest } from './decisions.js';
import { decisionOut } from './times.js';
import { ApiError } from './errors.js';
import { decisionSchema, targetParamsSchema, userHeaderSchema } from './schemas.js';
import { expiryOf } from './suppressions.js';
import { errorResponses, paramOf } from './triage.js';
import { extendBodySchema } from './triage-schemas.js';
import { requireCidr } from './values.js';

/** Options of {@link decisionExtendRoutes}. */
export interface DecisionExtendOptions extends RouteAccess {
  /** createDecisionHandlers' onExtend: the responder's extension of an active block. */
  onExtend: (req: ManualBlockRequest) => Promise<Decision>;
}

/** Registers PATCH /v1/decisions/:target (see the module comment). */
export async function decisionExtendRoutes(app: FastifyInstance, opts: DecisionExtendOptions): Promise<void> {
  const authorize = opts.authorize ?? bearerAuthorize();
  const now = opts.now ?? Date.now;
  app.addHook('onResponse', auditHook(opts));
  app.patch<{ Params: { target: string }; Body: { expiresAt?: string; duration?: number | string; reason?: string } }>(
    '/v1/decisions/:target',
    {
      preHandler: authorize('analyst'),
      config: { audit: { action: 'decision.extend', target: paramOf('target') } },
      schema: { headers: userHeaderSchema, params: targetParamsSchema, body: extendBodySchema, response: { 200: decisionSchema, ...errors() } },
    },
    async (req) => {
      const target = requireCidr('params/target', req.params.target);
      const t = now();
      const user = identityOf(req);
      try {
        return decisionOut(
          await opts.onExtend({
            target,
            durationMs: expiryOf(req.body, t) - t,
            reason: req.body.reason === undefined ? `extended by ${user}` : escapeText(req.body.reason),
            user,
          }),
        );
      } catch (e) {
        // the kept block a 409 carries is answered with RFC 3339 times like every decision
        if (e instanceof ApiError && e.extra?.decision !== undefined)
          throw new ApiError(e.code, e.message, { headers: { ...e.headers }, extra: { ...e.extra, decision: decisionOut(e.extra.decision as Decision) } });
        throw e;
      }
    },
  );
}

function errors() {
  return errorResponses();
}
