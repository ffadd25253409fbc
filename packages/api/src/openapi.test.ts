/**
 * /openapi.json is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator, the 3.1
 * JSON schemas) and lists every route the server registers (collected with fastify's onRoute
 * hook, registeredRoutes), including routes a plugin adds later (`deps.plugins`: A2 triage,
 * A4 reports…): a route added without a schema fails here. /docs serves the interactive page.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { registeredRoutes } from './app.js';
import { requireRole } from './identity.js';
import { harness } from './test-harness.js';

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { security?: unknown[]; description?: string; responses?: Record<string, { content?: Record<string, unknown> }>; requestBody?: unknown; parameters?: unknown[] }>
  >;
};

/** A route a later plugin adds, as A2/A4 will. */
async function laterPlugin(api: FastifyInstance): Promise<void> {
  api.post(
    '/v1/example/:id/ack',
    {
      onRequest: requireRole('analyst'),
      schema: {
        summary: 'example of a later route',
        tags: ['example'],
        security: [{ bearer: [] }],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        body: { type: 'object', properties: { reason: { type: 'string' } }, additionalProperties: false },
        response: { 204: { type: 'null' } },
      },
    },
    async (_req, reply) => reply.status(204).send(),
  );
}

describe('OpenAPI 3.1', () => {
  it('/openapi.json validates as OpenAPI 3.1 and lists every registered route, a later plugin’s too', async (t) => {
    const h = await harness(t, { api: { plugins: [laterPlugin], security: { anonymousRole: undefined } } });
    // a plugin registered straight on the app (as A2's triage routes are), not through deps.plugins
    h.app.register(async (api) => {
      api.get(
        '/v1/example/list',
        { onRequest: requireRole('viewer'), schema: { summary: 'another later route', tags: ['example'], security: [{ bearer: [] }], response: { 200: { type: 'object' } } } },
        async () => ({}),
      );
    });
    const r = await h.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(r.statusCode, 200);
    const doc = r.json() as Doc;
    assert.equal(doc.openapi, '3.1.0');
    const v = new Validator();
    const res = await v.validate(doc as never);
    assert.equal(res.valid, true, JSON.stringify(res.errors, null, 1)?.slice(0, 2000));
    assert.equal(v.version, '3.1');

    const routes = registeredRoutes(h.app).filter((x) => !(x.schema as { hide?: boolean } | undefined)?.hide);
    const listed = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
    const registered = new Set(routes.flatMap((x) => [x.method].flat().map((m) => `${m} ${x.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)));
    assert.deepEqual(
      [...registered].filter((x) => !listed.has(x)),
      [],
      'registered but not documented',
    );
    assert.deepEqual(
      [...listed].filter((x) => !registered.has(x)),
      [],
      'documented but not registered',
    );
    // the later routes are authenticated like the core ones
    const anon = await h.app.inject({ method: 'GET', url: '/v1/example/list' });
    assert.equal(anon.statusCode, 401, anon.body);
    assert.equal(anon.json().code, 'FLOE_API_UNAUTHORIZED');
    for (const want of [
      'GET /v1/example/list',
      'GET /v1/findings',
      'POST /v1/decisions',
      'DELETE /v1/decisions/{target}',
      'GET /v1/audit',
      'POST /v1/tokens',
      'POST /v1/example/{id}/ack',
      'GET /healthz',
      'GET /openapi.json',
    ]) {
      assert.ok(registered.has(want), want);
    }
    // every route has a response schema; every write route has its input schema; role routes say so
    for (const x of routes) {
      const schema = x.schema as { response?: object; body?: object; params?: object; security?: unknown[] } | undefined;
      assert.ok(schema?.response, `${x.method} ${x.url} has a response schema`);
      if (x.method === 'POST') assert.ok(schema?.body, `${x.method} ${x.url} has a body schema`);
      const hooks = [x.onRequest].flat().filter(Boolean) as Array<{ floeRole?: string }>;
      const role = hooks.find((hk) => hk.floeRole)?.floeRole;
      if (role) assert.deepEqual(schema?.security, [{ bearer: [] }], `${x.method} ${x.url} (role ${role}) declares bearer security`);
    }
    // errors are documented as RFC 9457 problem+json
    const post = doc.paths['/v1/decisions'].post;
    assert.ok(post.responses?.['409']?.content?.['application/problem+json']);
    assert.ok(post.requestBody, 'POST /v1/decisions documents its body');
  });

  it('/docs serves the interactive Swagger UI page for the document', async (t) => {
    const h = await harness(t);
    const page = await h.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Swagger UI/);
    const init = await h.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    assert.equal(init.statusCode, 200);
    const json = await h.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(json.json().openapi, '3.1.0');
  });
});
