/**
 * Suppression rule routes (issue 8), a fastify plugin:
 *
 * - `GET /v1/suppressions` (viewer) `?active=true|false` — every rule, newest first, with what it
 *   suppressed (`suppressed`: findings marked with its id; `lastMatchAt`) and `active` (unexpired).
 * - `POST /v1/suppressions` (admin) — `{ detector?, entity?, namespace?, port?, expiresAt | duration, reason }`,
 *   at least one matcher; 201 with the rule (id `sup-<32 hex>`). Expiry 1 ms..365 d from now.
 * - `DELETE /v1/suppressions/:id` (admin) — 204, or 404 FLOE_API_NOT_FOUND.
 *
 * A change is applied at once in this process (`onChange`: the runtime's triage sync re-reads the
 * rules into the responder's suppressor) and within seconds in others. Mutations are audited
 * (`suppression.create`, `suppression.delete`).
 */
import { randomBytes } from 'node:crypto';
import { rfc3339 } from './times.js';
import { escapeText } from '@floe/flow';
import type { Store, SuppressionRule, SuppressionRuleStats } from '@floe/store';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditHook, bearerAuthorize, changeApplier, identityOf, type RouteAccess } from './access.js';
import { ApiError } from './errors.js';
import { userHeaderSchema } from './schemas.js';
import { errorResponses, paramOf } from './triage.js';
import { listSchema, ruleIdParamsSchema, suppressionBodySchema, suppressionSchema, suppressionsQuerySchema } from './triage-schemas.js';
import { MAX_DURATION_MS, parseBool, requireCidr, parseDuration, parseTime } from './values.js';

/** Options of {@link suppressionRoutes}. */
export interface SuppressionRoutesOptions extends RouteAccess {
  store: Pick<Store, 'putSuppression' | 'deleteSuppression' | 'listSuppressions'>;
  /** Called after a rule was stored or deleted (apply it now); its failure is logged, the answer stands. */
  onChange?: () => Promise<void>;
}

interface SuppressionBody {
  detector?: string;
  entity?: string;
  namespace?: string;
  port?: number;
  expiresAt?: string;
  duration?: number | string;
  reason: string;
}

/**
 * The expiry (ms since epoch) of a body with `expiresAt` or `duration`, checked against `now`.
 * @throws ApiError FLOE_API_BAD_REQUEST when not in (now, now + 365 d].
 */
export function expiryOf(body: { expiresAt?: string; duration?: number | string }, now: number): number {
  if (body.duration !== undefined) {
    const ms = parseDuration(body.duration);
    if (ms === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', 'body/duration must be 1 ms .. 365 d, as an integer of ms or <n>ms|s|m|h|d');
    return now + ms;
  }
  const at = body.expiresAt === undefined ? undefined : parseTime(body.expiresAt);
  if (at === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', 'body/expiresAt must be ms since epoch or an ISO 8601 time');
  if (at <= now || at - now > MAX_DURATION_MS) throw new ApiError('FLOE_API_BAD_REQUEST', 'body/expiresAt must be in the future, at most 365 days from now');
  return at;
}

/** A rule as answered: RFC 3339 times, and whether it is active now. */
function answer(r: SuppressionRuleStats, now: number): Record<string, unknown> & { active: boolean } {
  const out: Record<string, unknown> & { active: boolean } = { ...r, expiresAt: rfc3339(r.expiresAt), createdAt: rfc3339(r.createdAt), active: r.expiresAt > now };
  if (r.lastMatchAt !== undefined) out.lastMatchAt = rfc3339(r.lastMatchAt);
  return out;
}

/** Registers the suppression routes (see the module comment). */
export async function suppressionRoutes(app: FastifyInstance, opts: SuppressionRoutesOptions): Promise<void> {
  const authorize = opts.authorize ?? bearerAuthorize();
  const now = opts.now ?? Date.now;
  const errors = errorResponses();
  app.addHook('onResponse', auditHook(opts));
  const changed = changeApplier(opts.onChange, 'suppression rules');

  app.get<{ Querystring: { active?: 'true' | 'false' } }>(
    '/v1/suppressions',
    { preHandler: authorize('viewer'), schema: { querystring: suppressionsQuerySchema, response: { 200: listSchema(suppressionSchema), ...errors } } },
    async (req) => {
      const t = now();
      const active = req.query.active === undefined ? undefined : parseBool(req.query.active);
      const items = (await opts.store.listSuppressions()).map((r) => answer(r, t)).filter((r) => active === undefined || r.active === active);
      return { items, total: items.length };
    },
  );

  app.post<{ Body: SuppressionBody }>(
    '/v1/suppressions',
    {
      preHandler: authorize('admin'),
      config: { audit: { action: 'suppression.create', target: (req: FastifyRequest) => escapeText(JSON.stringify(req.body ?? null).slice(0, 300)) } },
      schema: { headers: userHeaderSchema, body: suppressionBodySchema, response: { 201: suppressionSchema, ...errors } },
    },
    async (req, reply) => {
      const t = now();
      const b = req.body;
      const rule: SuppressionRule = {
        id: `sup-${randomBytes(16).toString('hex')}`,
        expiresAt: expiryOf(b, t),
        reason: escapeText(b.reason),
        createdBy: identityOf(req),
        createdAt: t,
      };
      if (b.detector !== undefined) rule.detector = b.detector;
      if (b.entity !== undefined) {
        const e = requireCidr('body/entity', b.entity);
        rule.entity = e;
      }
      if (b.namespace !== undefined) rule.namespace = b.namespace;
      if (b.port !== undefined) rule.port = b.port;
      await opts.store.putSuppression(rule);
      await changed(req.log);
      return reply.status(201).send(answer({ ...rule, suppressed: 0 }, t));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/suppressions/:id',
    {
      preHandler: authorize('admin'),
      config: { audit: { action: 'suppression.delete', target: paramOf('id') } },
      schema: { headers: userHeaderSchema, params: ruleIdParamsSchema, response: { 204: { type: 'null' }, ...errors } },
    },
    async (req, reply) => {
      if (!(await opts.store.deleteSuppression(req.params.id))) throw new ApiError('FLOE_API_NOT_FOUND', `no suppression rule ${req.params.id}`);
      await changed(req.log);
      return reply.status(204).send();
    },
  );
}
