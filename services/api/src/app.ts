import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Decision, Severity } from '@floe/flow';
import type { Store } from '@floe/store';
import { Counter, type Registry } from 'prom-client';
import { requireBearer } from './auth.js';
import { ApiError, toErrorBody } from './errors.js';
import {
  blockBodySchema, cidrSchema, decisionSchema, decisionsQuerySchema, errorSchema, findingSchema, findingsQuerySchema,
  pageSchema, userHeaderSchema,
} from './schemas.js';
import { normalizeCidr, parseDuration, parseTime } from './values.js';

/** A manual block request handed to the responder. `durationMs` absent = the responder's default. */
export interface ManualBlockRequest {
  target: string;
  durationMs?: number;
  reason: string;
  user: string;
}

/** What the API needs; it owns none of it (STYLE.md pattern 15). */
export interface ApiDeps {
  store: Store;
  /** Orders a block; resolves to the stored decision. Domain errors (FLOE_RESPOND_…) map to HTTP (errors.ts). */
  onManualBlock: (req: ManualBlockRequest) => Promise<Decision>;
  /** Lifts the block on a target (normalised CIDR); false when there was none. */
  onUnblock: (target: string, user: string) => Promise<boolean>;
  /** Served on GET /metrics; the API adds floe_api_requests_total to it. */
  registry: Registry;
  /** Health of the process; GET /healthz answers 200 when `ok`, 503 otherwise, with this body. */
  health: () => Record<string, unknown> & { ok: boolean };
  /** A pino logger, or false / absent for none. */
  logger?: FastifyBaseLogger | false;
  /**
   * Bearer token POST and DELETE /v1/decisions require (`Authorization: Bearer <token>`,
   * compared in constant time; 401 FLOE_API_UNAUTHORIZED otherwise). Absent or empty: those
   * routes are open. GET routes, /healthz and /metrics are always open.
   */
  token?: string;
  /** Clock (ms since epoch) for `active=`; default Date.now. */
  now?: () => number;
}

/** Where startApi listens. */
export interface ListenOptions {
  host: string;
  port: number;
}

/** Default listen address: loopback only. */
export const DEFAULT_LISTEN: Readonly<ListenOptions> = Object.freeze({ host: '127.0.0.1', port: 8080 });

/** Largest accepted request body (bytes). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const DEFAULT_USER = 'api';

interface FindingsQuery {
  from?: string;
  to?: string;
  detector?: string;
  entity?: string;
  minSeverity?: Severity;
  limit: number;
  cursor?: string;
}

interface DecisionsQuery {
  active?: boolean;
  target?: string;
  origin?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

function requestsCounter(registry: Registry): Counter<'method' | 'route' | 'status'> {
  const name = 'floe_api_requests_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'method' | 'route' | 'status'>;
  return new Counter({
    name,
    help: 'HTTP requests answered by the floe API, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
}

function time(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = parseTime(v);
  if (t === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', `querystring/${name} must be ms since epoch or an ISO 8601 time`);
  return t;
}

function cidr(name: string, v: string): string {
  const t = normalizeCidr(v);
  if (t === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', `${name} must be an IPv4/IPv6 address or CIDR prefix without host bits`);
  return t;
}

/** What each custom format accepts, for error messages. */
const FORMAT_TEXT: Record<string, string> = {
  'floe-time': 'must be a time: ms since epoch or ISO 8601 (2026-11-30T12:00:00Z)',
  'floe-cidr': 'must be an IPv4/IPv6 address or CIDR prefix without host bits (203.0.113.7, 2001:db8::/64)',
};

/** One validation error as a sentence naming the field and what it accepts. */
function describeSchemaError(e: { keyword: string; message?: string; params: Record<string, unknown> }): string {
  if (e.keyword === 'additionalProperties') return `has an unknown field "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'format' && FORMAT_TEXT[String(e.params.format)]) return FORMAT_TEXT[String(e.params.format)];
  if (e.keyword === 'enum') return `must be one of: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`;
  return e.message ?? e.keyword;
}

/**
 * Builds the floe API without listening (tests drive it with `inject()`; `startApi` listens).
 *
 * Routes: GET /healthz, GET /metrics, GET /v1/findings, GET /v1/decisions, POST /v1/decisions,
 * DELETE /v1/decisions/:target — see README.md. Every route validates its input with a JSON
 * schema and serialises its output with one; one error handler maps errors to
 * `{ statusCode, code, message }` (errors.ts).
 */
export function buildApp(deps: ApiDeps): FastifyInstance {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Unknown fields are errors, not silently dropped (fastify's default removes them): a
    // client that sends `durationMs` must hear that the field is `duration`.
    schemaErrorFormatter: (errors, dataVar) => new Error(errors.map((e) => `${dataVar}${e.instancePath} ${describeSchemaError(e)}`).join('; ')),
    ajv: {
      customOptions: {
        removeAdditional: false,
        formats: {
          'floe-time': { type: 'string', validate: (s: string) => parseTime(s) !== undefined },
          'floe-cidr': { type: 'string', validate: (s: string) => normalizeCidr(s) !== undefined },
        },
      },
    },
  }) as unknown as FastifyInstance;

  const requests = requestsCounter(deps.registry);
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  app.setErrorHandler((err, req, reply) => {
    const body = toErrorBody(err);
    if (err instanceof ApiError) reply.headers(err.headers);
    if (body.statusCode >= 500) req.log.error({ err }, 'request failed');
    else req.log.debug({ code: body.code, message: body.message }, 'request refused');
    return reply.status(body.statusCode).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ statusCode: 404, code: 'FLOE_API_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema, 429: errorSchema, 500: errorSchema, 503: errorSchema };

  // Write routes check the token before their body or params are parsed: a client without it
  // learns nothing about the request's shape.
  const token = deps.token;
  const writeAuth = token
    ? { onRequest: async (req: { headers: { authorization?: string } }) => requireBearer(req.headers.authorization, token) }
    : {};

  app.get('/healthz', {
    schema: { response: { 200: { type: 'object', additionalProperties: true }, 503: { type: 'object', additionalProperties: true } } },
  }, async (_req, reply) => {
    const h = deps.health();
    return reply.status(h.ok ? 200 : 503).send(h);
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(text);
  });

  app.get<{ Querystring: FindingsQuery }>('/v1/findings', {
    schema: { querystring: findingsQuerySchema, response: { 200: pageSchema(findingSchema), ...errors } },
  }, async (req) => {
    const q = req.query;
    return deps.store.queryFindings({
      from: time('from', q.from),
      to: time('to', q.to),
      detector: q.detector,
      entity: q.entity,
      minSeverity: q.minSeverity,
      limit: q.limit,
      cursor: q.cursor,
    });
  });

  app.get<{ Querystring: DecisionsQuery }>('/v1/decisions', {
    schema: { querystring: decisionsQuerySchema, response: { 200: pageSchema(decisionSchema), ...errors } },
  }, async (req) => {
    const q = req.query;
    const t = now();
    return deps.store.queryDecisions({
      activeAt: q.active === true ? t : undefined,
      expiredAt: q.active === false ? t : undefined,
      target: q.target === undefined ? undefined : cidr('querystring/target', q.target),
      origin: q.origin,
      from: time('from', q.from),
      to: time('to', q.to),
      limit: q.limit,
      cursor: q.cursor,
    });
  });

  app.post<{ Body: { target: string; duration?: string | number; reason: string }; Headers: { 'x-floe-user'?: string } }>('/v1/decisions', {
    ...writeAuth,
    schema: { headers: userHeaderSchema, body: blockBodySchema, response: { 201: decisionSchema, ...errors } },
  }, async (req, reply) => {
    const b = req.body;
    let durationMs: number | undefined;
    if (b.duration !== undefined) {
      durationMs = parseDuration(b.duration);
      if (durationMs === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', 'body/duration must be 1 ms .. 365 d, as ms or <n>ms|s|m|h|d');
    }
    const request: ManualBlockRequest = { target: cidr('body/target', b.target), reason: b.reason, user: req.headers['x-floe-user'] ?? DEFAULT_USER };
    if (durationMs !== undefined) request.durationMs = durationMs;
    const decision = await deps.onManualBlock(request);
    return reply.status(201).send(decision);
  });

  app.delete<{ Params: { target: string }; Headers: { 'x-floe-user'?: string } }>('/v1/decisions/:target', {
    ...writeAuth,
    schema: {
      headers: userHeaderSchema,
      params: { type: 'object', required: ['target'], properties: { target: cidrSchema } },
      response: { 204: { type: 'null' }, ...errors },
    },
  }, async (req, reply) => {
    const target = cidr('params/target', req.params.target);
    const removed = await deps.onUnblock(target, req.headers['x-floe-user'] ?? DEFAULT_USER);
    if (!removed) throw new ApiError('FLOE_API_NOT_FOUND', `no decision for ${target}`);
    return reply.status(204).send();
  });

  return app;
}

/**
 * Listens on `opts` (default 127.0.0.1:8080; port 0 picks a free port).
 *
 * @returns the bound address, e.g. `http://127.0.0.1:8080`.
 * @throws the listen error (EADDRINUSE, EACCES, …).
 */
export async function startApi(app: FastifyInstance, opts: ListenOptions = DEFAULT_LISTEN): Promise<string> {
  return app.listen({ host: opts.host, port: opts.port });
}
