import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { DataGapKind, Severity } from '@floe/flow';
import type { Store } from '@floe/store';
import { Counter, type Registry } from 'prom-client';
import { requireBearer } from './auth.js';
import type { ManualBlockRequest, ManualBlockResult } from './decisions.js';
import { ApiError, ERROR_CATALOGUE, INTERNAL_ERROR_BODY, toErrorBody, type ErrorBody } from './errors.js';
import { escapeText } from '@floe/flow';
import {
  blockBodySchema,
  decisionSchema,
  decisionsQuerySchema,
  errorSchema,
  findingSchema,
  findingsQuerySchema,
  gapsPageSchema,
  gapsQuerySchema,
  pageSchema,
  targetParamsSchema,
  userHeaderSchema,
} from './schemas.js';
import { LIMIT, normalizeAddress, normalizeCidr, parseBool, parseDuration, parseLimit, parseTime } from './values.js';

/** What the API needs; it owns none of it (STYLE.md pattern 15). */
export interface ApiDeps {
  store: Store;
  /**
   * Orders a block (createDecisionHandlers in decisions.ts over the real responder and writer);
   * resolves to the stored decision and whether it is new or an extension. Thrown errors with a
   * catalogued code map to their status (errors.ts); any other is a 500.
   */
  onManualBlock: (req: ManualBlockRequest) => Promise<ManualBlockResult>;
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

/**
 * Response header of POST /v1/decisions saying what the block did: `created` (201, a new
 * decision) or `extended` (200, an active block now ends later).
 */
export const BLOCK_CHANGE_HEADER = 'floe-block';

const DEFAULT_USER = 'api';

/** Query strings arrive as text and are checked by schema, then converted here (no coercion). */
interface FindingsQuery {
  from?: string;
  to?: string;
  detector?: string;
  entity?: string;
  minSeverity?: Severity;
  namespace?: string;
  pod?: string;
  workload?: string;
  limit?: string;
  cursor?: string;
}

interface DecisionsQuery {
  active?: 'true' | 'false';
  target?: string;
  origin?: string;
  namespace?: string;
  pod?: string;
  workload?: string;
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
}

interface GapsQuery {
  from?: string;
  to?: string;
  node?: string;
  source?: string;
  kind?: DataGapKind;
  limit?: string;
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

function limit(v: string | undefined): number {
  if (v === undefined) return LIMIT.default;
  const n = parseLimit(v);
  if (n === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', `querystring/limit must be an integer 1..${LIMIT.max}`);
  return n;
}

function cidr(name: string, v: string): string {
  const t = normalizeCidr(v);
  if (t === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', `${name} must be an IPv4/IPv6 address or CIDR prefix without host bits`);
  return t;
}

function address(name: string, v: string): string {
  const a = normalizeAddress(v);
  if (a === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', `${name} must be an IPv4/IPv6 address`);
  return a;
}

/** What each custom format accepts, for error messages. */
const FORMAT_TEXT: Record<string, string> = {
  'floe-time': 'must be a time: ms since epoch or ISO 8601 (2026-11-30T12:00:00Z)',
  'floe-cidr': 'must be an IPv4/IPv6 address or CIDR prefix without host bits (203.0.113.7, 2001:db8::/64)',
  'floe-addr': 'must be an IPv4/IPv6 address (203.0.113.7, 2001:db8::7)',
  'floe-limit': `must be an integer 1..${LIMIT.max}`,
};

/** One validation error as a sentence naming the field and what it accepts. */
function describeSchemaError(e: { keyword: string; message?: string; params: Record<string, unknown> }): string {
  if (e.keyword === 'additionalProperties') return `has an unknown field "${escapeText(String(e.params.additionalProperty).slice(0, 64))}"`;
  if (e.keyword === 'format' && FORMAT_TEXT[String(e.params.format)]) return FORMAT_TEXT[String(e.params.format)];
  if (e.keyword === 'enum') return `must be one of: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`;
  return e.message ?? e.keyword;
}

/**
 * The request as logged ("incoming request"): fastify's fields, with the URL (input: a path may
 * decode to C1 controls or bidi characters) escaped and cut to 200 characters.
 */
function safeRequest(req: FastifyRequest): Record<string, unknown> {
  const url = String(req.url);
  return { method: req.method, url: escapeText(url.length > 200 ? `${url.slice(0, 200)}…` : url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/**
 * Builds the floe API without listening (tests drive it with `inject()`; `startApi` listens).
 *
 * Routes: GET /healthz, GET /metrics, GET /v1/findings, GET /v1/decisions, POST /v1/decisions,
 * DELETE /v1/decisions/:target, GET /v1/gaps — see README.md. Every route validates its input with a JSON
 * schema (no type coercion) and serialises its output with one; bodies must be
 * application/json (else 415); one error handler maps errors to `{ statusCode, code, message }`
 * through the catalogue (errors.ts), anything uncatalogued to a logged 500.
 */
export function buildApp(deps: ApiDeps): FastifyInstance {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger.child({}, { serializers: { req: safeRequest } }) } : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    // A request node's HTTP parser refuses (control bytes in the URL or a header, a bad request
    // line, headers too large) never reaches routing: answer it with a catalogued body too.
    clientErrorHandler: (err, socket) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const body = JSON.stringify({ statusCode: 400, code: 'FLOE_API_BAD_REQUEST', message: 'malformed HTTP request' } satisfies ErrorBody);
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
    // Errors fastify raises before routing (a malformed %-escape in the path: FST_ERR_BAD_URL)
    // get the same catalogued body as every other error.
    frameworkErrors: (err, req, reply) => {
      const known = toErrorBody(err);
      if (known === undefined) req.log.error({ err }, 'request failed: unexpected error');
      const body = known ?? INTERNAL_ERROR_BODY;
      // (frameworkErrors' reply is typed for no route schema; the body is the error schema's)
      void (reply as unknown as { status(code: number): { send(b: ErrorBody): unknown } }).status(body.statusCode).send(body);
    },
    // Unknown fields are errors, not silently dropped (fastify's default removes them): a
    // client that sends `durationMs` must hear that the field is `duration`.
    schemaErrorFormatter: (errors, dataVar) => new Error(errors.map((e) => `${dataVar}${e.instancePath} ${describeSchemaError(e)}`).join('; ')),
    ajv: {
      customOptions: {
        removeAdditional: false,
        // No coercion anywhere (fastify's default coerces): `"duration": true` is not 1 ms and
        // `"target": ["…"]` is not a string. Query strings are text, checked by format and
        // converted explicitly (values.ts).
        coerceTypes: false,
        useDefaults: false,
        // `duration` is an integer or a string (one keyword each, no coercion between them)
        allowUnionTypes: true,
        formats: {
          'floe-time': { type: 'string', validate: (s: string) => parseTime(s) !== undefined },
          'floe-cidr': { type: 'string', validate: (s: string) => normalizeCidr(s) !== undefined },
          'floe-addr': { type: 'string', validate: (s: string) => normalizeAddress(s) !== undefined },
          'floe-limit': { type: 'string', validate: (s: string) => parseLimit(s) !== undefined },
        },
      },
    },
  }) as unknown as FastifyInstance;
  // JSON only: fastify also parses text/plain by default, which then failed the schema as a 400;
  // any body that is not application/json is a 415 (FLOE_API_UNSUPPORTED_MEDIA_TYPE).
  app.removeContentTypeParser('text/plain');

  const requests = requestsCounter(deps.registry);
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  // One error handler: catalogued errors with their status; anything else is a 500 with a
  // generic message, logged once here with its cause.
  app.setErrorHandler((err, req, reply) => {
    const body = toErrorBody(err);
    if (body === undefined) {
      req.log.error({ err }, 'request failed: unexpected error');
      return reply.status(500).send(INTERNAL_ERROR_BODY);
    }
    if (err instanceof ApiError) reply.headers(err.headers);
    if (body.statusCode >= 500) req.log.warn({ code: body.code, message: body.message }, 'request failed');
    else req.log.debug({ code: body.code, message: body.message }, 'request refused');
    return reply.status(body.statusCode).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ statusCode: 404, code: 'FLOE_API_NOT_FOUND', message: `no route ${req.method} ${escapeText(req.url.split('?')[0].slice(0, 200))}` }),
  );

  /** An error schema for every status the catalogue has. */
  const errors = Object.fromEntries([...new Set(Object.values(ERROR_CATALOGUE).map((e) => e.status))].map((s) => [s, errorSchema]));

  // Write routes check the token before their body or params are parsed: a client without it
  // learns nothing about the request's shape.
  const token = deps.token;
  const writeAuth = token ? { onRequest: async (req: { headers: { authorization?: string } }) => requireBearer(req.headers.authorization, token) } : {};

  app.get(
    '/healthz',
    {
      schema: { response: { 200: { type: 'object', additionalProperties: true }, 503: { type: 'object', additionalProperties: true } } },
    },
    async (_req, reply) => {
      const h = deps.health();
      return reply.status(h.ok ? 200 : 503).send(h);
    },
  );

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(text);
  });

  app.get<{ Querystring: FindingsQuery }>(
    '/v1/findings',
    {
      schema: { querystring: findingsQuerySchema, response: { 200: pageSchema(findingSchema), ...errors } },
    },
    async (req) => {
      const q = req.query;
      return deps.store.queryFindings({
        from: time('from', q.from),
        to: time('to', q.to),
        detector: q.detector,
        entity: q.entity === undefined ? undefined : address('querystring/entity', q.entity),
        minSeverity: q.minSeverity,
        namespace: q.namespace,
        pod: q.pod,
        workload: q.workload,
        limit: limit(q.limit),
        cursor: q.cursor,
      });
    },
  );

  app.get<{ Querystring: DecisionsQuery }>(
    '/v1/decisions',
    {
      schema: { querystring: decisionsQuerySchema, response: { 200: pageSchema(decisionSchema), ...errors } },
    },
    async (req) => {
      const q = req.query;
      const t = now();
      const active = q.active === undefined ? undefined : parseBool(q.active);
      return deps.store.queryDecisions({
        activeAt: active === true ? t : undefined,
        expiredAt: active === false ? t : undefined,
        target: q.target === undefined ? undefined : cidr('querystring/target', q.target),
        origin: q.origin,
        namespace: q.namespace,
        pod: q.pod,
        workload: q.workload,
        from: time('from', q.from),
        to: time('to', q.to),
        limit: limit(q.limit),
        cursor: q.cursor,
      });
    },
  );

  app.get<{ Querystring: GapsQuery }>(
    '/v1/gaps',
    {
      schema: { querystring: gapsQuerySchema, response: { 200: gapsPageSchema, ...errors } },
    },
    async (req) => {
      const q = req.query;
      const filters = { from: time('from', q.from), to: time('to', q.to), node: q.node, source: q.source, kind: q.kind };
      // the summary covers the whole period (every page), so each page states the data's completeness
      const [page, summary] = await Promise.all([deps.store.queryGaps({ ...filters, limit: limit(q.limit), cursor: q.cursor }), deps.store.gapSummary(filters)]);
      return { ...page, summary };
    },
  );

  app.post<{ Body: { target: string; duration?: string | number; reason: string }; Headers: { 'x-floe-user'?: string } }>(
    '/v1/decisions',
    {
      ...writeAuth,
      schema: { headers: userHeaderSchema, body: blockBodySchema, response: { 200: decisionSchema, 201: decisionSchema, ...errors } },
    },
    async (req, reply) => {
      const b = req.body;
      let durationMs: number | undefined;
      if (b.duration !== undefined) {
        durationMs = parseDuration(b.duration);
        if (durationMs === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', 'body/duration must be 1 ms .. 365 d, as an integer of ms or <n>ms|s|m|h|d');
      }
      const request: ManualBlockRequest = {
        target: cidr('body/target', b.target),
        // stored and printed as given, but never able to drive a terminal (escape.ts)
        reason: escapeText(b.reason),
        user: req.headers['x-floe-user'] ?? DEFAULT_USER,
      };
      if (durationMs !== undefined) request.durationMs = durationMs;
      const { decision, change } = await deps.onManualBlock(request);
      const extended = change === 'extend';
      return reply
        .status(extended ? 200 : 201)
        .header(BLOCK_CHANGE_HEADER, extended ? 'extended' : 'created')
        .send(decision);
    },
  );

  app.delete<{ Params: { target: string }; Headers: { 'x-floe-user'?: string } }>(
    '/v1/decisions/:target',
    {
      ...writeAuth,
      schema: {
        headers: userHeaderSchema,
        params: targetParamsSchema,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const target = cidr('params/target', req.params.target);
      const removed = await deps.onUnblock(target, req.headers['x-floe-user'] ?? DEFAULT_USER);
      if (!removed) throw new ApiError('FLOE_API_NOT_FOUND', `no decision for ${target}`);
      return reply.status(204).send();
    },
  );

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
