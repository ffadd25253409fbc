/**
 * Finding triage routes (issue 8), a fastify plugin:
 *
 * - `POST /v1/findings/:id/triage` (analyst) `{ state, reason? }` — sets a finding's state
 *   (open, acknowledged, resolved, false_positive; a false positive needs a reason); who
 *   (`identityOf`), when and why are kept, every change in the history. 201 with the change;
 *   404 FLOE_API_NOT_FOUND for an unknown finding. Audited (`finding.triage`).
 * - `GET /v1/findings/:id/triage` (viewer) — current state and the history, oldest first; 404
 *   FLOE_API_NOT_FOUND for an unknown finding, as the POST.
 *
 * The findings list (`GET /v1/findings`, app.ts) answers each finding's state and filters on it
 * (`?state=`).
 */
import { escapeText } from '@floe/flow';
import type { Store } from '@floe/store';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditHook, bearerAuthorize, identityOf, type RouteAccess } from './access.js';
import { ApiError, ERROR_CATALOGUE } from './errors.js';
import { errorSchema, userHeaderSchema } from './schemas.js';
import { rfc3339 } from './times.js';
import { findingIdParamsSchema, triageBodySchema, triageHistorySchema, triageSchema } from './triage-schemas.js';
import type { TriageState } from '@floe/store';

/** Options of {@link triageRoutes}. */
export interface TriageRoutesOptions extends RouteAccess {
  store: Pick<Store, 'triageFinding' | 'triageHistory'>;
}

/** An error schema for every status of the catalogue (responses of these routes). */
export function errorResponses(): Record<number, typeof errorSchema> {
  return Object.fromEntries([...new Set(Object.values(ERROR_CATALOGUE).map((e) => e.status))].map((s) => [s, errorSchema]));
}

/** The path parameter `name` of a request as received (escaped), for audit records. */
export function paramOf(name: string): (req: FastifyRequest) => string {
  return (req) => escapeText(String((req.params as Record<string, unknown> | undefined)?.[name] ?? '').slice(0, 256));
}

/** Registers the triage routes (see the module comment). */
export async function triageRoutes(app: FastifyInstance, opts: TriageRoutesOptions): Promise<void> {
  const authorize = opts.authorize ?? bearerAuthorize();
  const now = opts.now ?? Date.now;
  const errors = errorResponses();
  app.addHook('onResponse', auditHook(opts));

  app.post<{ Params: { id: string }; Body: { state: TriageState; reason?: string } }>(
    '/v1/findings/:id/triage',
    {
      preHandler: authorize('analyst'),
      config: { audit: { action: 'finding.triage', target: paramOf('id') } },
      schema: { headers: userHeaderSchema, params: findingIdParamsSchema, body: triageBodySchema, response: { 201: triageSchema, ...errors } },
    },
    async (req, reply) => {
      const change = { findingId: req.params.id, state: req.body.state, by: identityOf(req), at: now() } as Parameters<TriageRoutesOptions['store']['triageFinding']>[0];
      // stored and shown as given, but never able to drive a terminal (escape.ts)
      if (req.body.reason !== undefined) change.reason = escapeText(req.body.reason);
      if (!(await opts.store.triageFinding(change))) throw new ApiError('FLOE_API_NOT_FOUND', `no finding ${req.params.id}`);
      return reply.status(201).send({ ...change, at: rfc3339(change.at) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/findings/:id/triage',
    {
      preHandler: authorize('viewer'),
      schema: { params: findingIdParamsSchema, response: { 200: triageHistorySchema, ...errors } },
    },
    async (req) => {
      const history = await opts.store.triageHistory(req.params.id);
      if (history === undefined) throw new ApiError('FLOE_API_NOT_FOUND', `no finding ${req.params.id}`);
      return { findingId: req.params.id, state: history.at(-1)?.state ?? 'open', history: history.map((c) => ({ ...c, at: rfc3339(c.at) })) };
    },
  );
}
