/**
 * API tokens through the API (admin): POST /v1/tokens creates one and answers its secret once,
 * GET /v1/tokens lists them (never a hash or secret), DELETE /v1/tokens/:id revokes one.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '@floe/store';
import { makeApiToken, parseTokenTtl } from '../api-tokens.js';
import { ApiError, ERROR_CATALOGUE, PROBLEM_CONTENT_TYPE } from '../errors.js';
import { auditMutation, requireRole, type ApiRole } from '../identity.js';
import { newTokenSchema, problemSchema, tokenBodySchema, tokenParamsSchema, tokenSchema } from '../schemas.js';
import { tokenOut } from '../times.js';

const errors = Object.fromEntries(
  [...new Set(Object.values(ERROR_CATALOGUE).map((e) => e.status))].map((s) => [
    s,
    { description: 'problem details (RFC 9457)', content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } },
  ]),
);
const admin = requireRole('admin');
const doc = (summary: string) => ({ summary, tags: ['tokens'], description: 'Role: admin.', security: [{ bearer: [] }] });

/** Registers the token routes on `app`. */
export async function tokenRoutes(app: FastifyInstance, deps: { store: Store; now: () => number }): Promise<void> {
  app.post<{ Body: { role: ApiRole; name?: string; expires?: string } }>(
    '/v1/tokens',
    { onRequest: admin, schema: { ...doc('Create an API token (the secret is answered once)'), body: tokenBodySchema, response: { 201: newTokenSchema, ...errors } } },
    async (req, reply) => {
      const b = req.body;
      let ttlMs: number | undefined;
      if (b.expires !== undefined) {
        ttlMs = parseTokenTtl(b.expires);
        if (ttlMs === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', 'body/expires must be <n>m|h|d|w, 1 minute .. 10 years');
      }
      const t = makeApiToken({ role: b.role, name: b.name, createdBy: req.identity.subject.slice(0, 200), ttlMs, now: deps.now() });
      await deps.store.insertApiToken(t.record);
      auditMutation(req, { action: 'token.create', target: t.record.id });
      return reply.status(201).send({ token: tokenOut(t.record), secret: t.text });
    },
  );

  app.get(
    '/v1/tokens',
    {
      onRequest: admin,
      schema: {
        ...doc('List API tokens (revoked and expired included)'),
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: tokenSchema } } }, ...errors },
      },
    },
    async () => ({ items: (await deps.store.listApiTokens()).map(tokenOut) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    { onRequest: admin, schema: { ...doc('Revoke an API token'), params: tokenParamsSchema, response: { 204: { type: 'null', description: 'revoked' }, ...errors } } },
    async (req, reply) => {
      auditMutation(req, { action: 'token.revoke', target: req.params.id });
      if (!(await deps.store.revokeApiToken(req.params.id, deps.now()))) throw new ApiError('FLOE_API_NOT_FOUND', `no active token ${req.params.id}`);
      return reply.status(204).send();
    },
  );
}
