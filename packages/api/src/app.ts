import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type RouteOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import type { DataGapKind, Decision, Severity } from '@floe/flow';
import { Counter, type Registry } from 'prom-client';
import { installAudit } from './audit.js';
import { auditMutation, requireRole, type ApiRole } from './identity.js';
import { installSecurity, type SecurityOptions } from './security.js';
import { auditRoutes } from './routes/audit.js';
import { tokenRoutes } from './routes/tokens.js';
import { decisionOut, findingOut, gapOut, rfc3339 } from './times.js';
import type { Store, StoredFinding, TriageState } from '@floe/store';
import { logAudit, type AuditFn, type Authorize } from './access.js';
import { decisionExtendRoutes } from './decision-extend.js';
import { neverBlockRoutes } from './never-block.js';
import { suppressionRoutes } from './suppressions.js';
import { triageRoutes } from './triage.js';
import { findingAnswerSchema } from './triage-schemas.js';
import type { ManualBlockRequest, ManualBlockResult } from './decisions.js';
import { ApiError, ERROR_CATALOGUE, INTERNAL_ERROR_BODY, PROBLEM_CONTENT_TYPE, problem, toErrorBody, type ErrorBody } from './errors.js';
import { escapeText } from '@floe/flow';
import {
  blockBodySchema,
  decisionSchema,
  decisionsQuerySchema,
  problemSchema,
  findingsQuerySchema,
  gapsPageSchema,
  gapsQuerySchema,
  pageSchema,
  targetParamsSchema,
  userHeaderSchema,
} from './schemas.js';
import { openReportArchive } from '@floe/report';
import { reportRoutes, type ReportRoutesOptions } from './reports.js';
import { LIMIT, normalizeAddress, normalizeCidr, parseBool, requireCidr, parseDuration, parseLimit, parseTime } from './values.js';

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
   * The shared bearer token (`api.token`; compared in constant time) — kept for compatibility:
   * the same as `security.sharedToken`. When neither this, `security.sharedToken` nor
   * `security.oidc` is set and `security` does not say otherwise, anonymous callers are admin
   * (the open loopback API of earlier versions; resolveApiToken refuses it on other hosts).
   */
  token?: string;
  /** Authentication, roles and rate limits (security.ts). */
  security?: SecurityOptions;
  /** HTTPS: PEM certificate chain and key (api.tls; read by resolveApiTls). Absent: HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * More routes (A2 triage, A4 reports…): fastify plugins registered after the core routes. Any
   * plugin registered on the app (these, or `app.register(...)` in buildApp) gets authentication,
   * rate limits, the audit and the OpenAPI document, which live in the root context.
   */
  plugins?: ReadonlyArray<(api: FastifyInstance) => Promise<void>>;
  /** Clock (ms since epoch) for `active=`; default Date.now. */
  now?: () => number;
  /**
   * Who may call the triage, suppression, never-block and extend routes (issue 8): a role check
   * per route. Default: `bearerAuthorize(token)` — viewer routes open, analyst and admin routes
   * behind the bearer token when one is set.
   */
  authorize?: Authorize;
  /** Receives every mutating call of those routes once answered (access.ts AuditEvent); default logAudit (an info log line). */
  audit?: AuditFn;
  /** PATCH /v1/decisions/:target (createDecisionHandlers' onExtend); absent: the route is not registered. */
  onExtend?: (req: ManualBlockRequest) => Promise<Decision>;
  /** Called after the never-block list or the suppression rules changed in the store: apply them now. */
  onTriageChange?: () => Promise<void>;
  /** The policy's `respond.neverBlock`, listed by GET /v1/never-block. */
  policyNeverBlock?: readonly string[];
  /**
   * Kept compliance reports (reports.ts): a folder (report.dir) or the plugin's options. Absent:
   * no /v1/reports routes.
   */
  reports?: string | ReportRoutesOptions;
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

/** Routes each app registered (onRoute), for the OpenAPI coverage test. */
const ROUTES = new WeakMap<FastifyInstance, RouteOptions[]>();

/**
 * Every route `app` registered (method, url, schema), as fastify's onRoute hook saw them,
 * including routes plugins add later. Hidden routes (`schema.hide`: the /docs assets) included.
 */
export function registeredRoutes(app: FastifyInstance): ReadonlyArray<Pick<RouteOptions, 'method' | 'url' | 'schema' | 'onRequest'>> {
  return ROUTES.get(app) ?? [];
}

/** The decisions' user: the authenticated subject, escaped and cut to 128 characters (never x-floe-user). */
function userOf(req: FastifyRequest): string {
  return escapeText(req.identity.subject).slice(0, 128) || 'anonymous';
}

/** OpenAPI fields of a route: summary, tag, the role it needs and the bearer security scheme. */
export function routeDoc(summary: string, tag: string, role?: ApiRole): { summary: string; tags: string[]; description?: string; security?: Array<Record<string, string[]>> } {
  if (role === undefined) return { summary, tags: [tag], security: [] };
  return { summary, tags: [tag], description: `Role: ${role} or higher.`, security: [{ bearer: [] }] };
}

/** Query strings arrive as text and are checked by schema, then converted here (no coercion). */
interface FindingsQuery {
  from?: string;
  to?: string;
  detector?: string;
  entity?: string;
  minSeverity?: Severity;
  state?: TriageState;
  suppressed?: 'true' | 'false';
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

const cidr = requireCidr;

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

/** The answer to a request node's HTTP parser refused (it never reaches routing). */
const MALFORMED_HTTP_BODY = JSON.stringify(problem('FLOE_API_BAD_REQUEST', 'malformed HTTP request'));

/** Sends a problem body with its status, content type and the error's headers. */
function sendProblem(reply: { status(c: number): unknown; type(t: string): unknown; send(b: unknown): unknown }, body: ErrorBody, path: string): unknown {
  body.instance = escapeText(path.split('?')[0].slice(0, 200));
  reply.status(body.status);
  reply.type(PROBLEM_CONTENT_TYPE);
  return reply.send(body);
}

/**
 * Builds the floe API without listening (tests drive it with `inject()`; `startApi` listens).
 *
 * Routes (README.md has the table and the roles matrix): GET /healthz (open), GET /metrics,
 * GET /openapi.json and /docs (the OpenAPI 3.1 document and its interactive page, open),
 * GET /v1/findings, /v1/decisions, /v1/gaps (viewer), POST /v1/decisions and
 * DELETE /v1/decisions/:target (analyst), POST/GET /v1/tokens, DELETE /v1/tokens/:id and
 * GET /v1/audit (admin), then `deps.plugins`. Every route validates its input with a JSON schema
 * (no type coercion) and serialises its output with one; times answer in RFC 3339; bodies must be
 * application/json (else 415); errors are RFC 9457 problem+json with a stable FLOE_* code
 * (errors.ts), anything uncatalogued a logged 500. Every request is authenticated and rate-limited
 * (security.ts); every mutating one is audited (audit.ts).
 */
export function buildApp(deps: ApiDeps): FastifyInstance {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger.child({}, { serializers: { req: safeRequest } }) } : { logger: false }),
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
    bodyLimit: BODY_LIMIT_BYTES,
    exposeHeadRoutes: false,
    // A request node's HTTP parser refuses (control bytes in the URL or a header, a bad request
    // line, headers too large) never reaches routing: answer it with a problem body too.
    clientErrorHandler: (err, socket) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const body = MALFORMED_HTTP_BODY;
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
    // Errors fastify raises before routing (a malformed %-escape in the path: FST_ERR_BAD_URL)
    // get the same problem body as every other error.
    frameworkErrors: (err, req, reply) => {
      const known = toErrorBody(err);
      if (known === undefined) req.log.error({ err }, 'request failed: unexpected error');
      void sendProblem(reply as never, known ?? { ...INTERNAL_ERROR_BODY }, req.url);
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
  const routes: RouteOptions[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (r) => {
    routes.push(r);
  });
  // JSON only: fastify also parses text/plain by default, which then failed the schema as a 400;
  // any body that is not application/json is a 415 (FLOE_API_UNSUPPORTED_MEDIA_TYPE).
  app.removeContentTypeParser('text/plain');

  const requests = requestsCounter(deps.registry);
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  // One error handler: catalogued errors with their status as problem+json; anything else is a
  // 500 with a generic detail, logged once here with its cause.
  app.setErrorHandler((err, req, reply) => {
    const body = toErrorBody(err);
    if (body === undefined) {
      req.log.error({ err }, 'request failed: unexpected error');
      return sendProblem(reply, { ...INTERNAL_ERROR_BODY }, req.url);
    }
    if (err instanceof ApiError) reply.headers(err.headers);
    if (body.status >= 500) req.log.warn({ code: body.code, detail: body.detail }, 'request failed');
    else req.log.debug({ code: body.code, detail: body.detail }, 'request refused');
    return sendProblem(reply, body, req.url);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problem('FLOE_API_NOT_FOUND', `no route ${req.method} ${escapeText(req.url.split('?')[0].slice(0, 200))}`), req.url));

  const sharedToken = deps.security?.sharedToken ?? deps.token;
  const security: SecurityOptions = {
    ...deps.security,
    sharedToken,
    // no credential of any kind configured: the open loopback API of earlier versions
    anonymousRole: deps.security && 'anonymousRole' in deps.security ? deps.security.anonymousRole : sharedToken || deps.security?.oidc ? undefined : 'admin',
  };

  // Authentication, rate limits, the audit and the OpenAPI document belong to the ROOT context
  // (fastify-plugin): every route registered after them — the core routes below and any plugin
  // registered on this app later, at any depth — is authenticated, limited, audited and documented.
  app.register(
    fp(
      async (root) => {
        await installSecurity(root, deps.store, security, now, deps.registry);
        installAudit(root, deps.store, deps.registry, now);
        await root.register(swagger, {
          openapi: {
            openapi: '3.1.0',
            info: {
              title: 'floe API',
              version: '1.0.0',
              description:
                'Findings, decisions, data gaps, API tokens and the audit log of floe. Errors are RFC 9457 problem details (application/problem+json) with a stable `code`; times are RFC 3339; lists page with `next` → `cursor`.',
            },
            components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token (floe token create), the shared api.token, or an OIDC JWT' } } },
          },
        });
        await root.register(swaggerUi, { routePrefix: '/docs' });
      },
      { name: 'floe-api-security' },
    ),
  );
  app.register(async (v1) => coreRoutes(v1, deps, now));
  app.register(async (v1) => tokenRoutes(v1, { store: deps.store, now }));
  app.register(async (v1) => auditRoutes(v1, { store: deps.store }));
  for (const plugin of deps.plugins ?? []) app.register(plugin);
  // Issue 8: triage, suppression rules, the never-block list, decision extension and the kept
  // reports, each a plugin of its own file taking the same access options: the role check of
  // requireRole (the root context authenticated the caller) and an audit line (the root
  // context's audit log records every mutating call in the store).
  const access = { authorize: deps.authorize ?? (requireRole as Authorize), audit: deps.audit ?? logAudit, now };
  app.register(triageRoutes, { ...access, store: deps.store });
  app.register(suppressionRoutes, { ...access, store: deps.store, onChange: deps.onTriageChange });
  app.register(neverBlockRoutes, { ...access, store: deps.store, onChange: deps.onTriageChange, policyNeverBlock: deps.policyNeverBlock });
  if (deps.onExtend) app.register(decisionExtendRoutes, { ...access, onExtend: deps.onExtend });
  if (deps.reports !== undefined) {
    app.register(reportRoutes, typeof deps.reports === 'string' ? { archive: openReportArchive(deps.reports), authorize: access.authorize } : deps.reports);
  }
  app.register(async (meta) => {
    meta.get('/openapi.json', { schema: { ...routeDoc('This OpenAPI 3.1 document', 'meta'), response: { 200: { type: 'object', additionalProperties: true } } } }, async () =>
      app.swagger(),
    );
  });
  return app;
}

/** An error schema for every status the catalogue has, as RFC 9457 problem+json. */
const ERROR_RESPONSES = Object.fromEntries(
  [...new Set(Object.values(ERROR_CATALOGUE).map((e) => e.status))].map((s) => [
    s,
    { description: 'problem details (RFC 9457)', content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } },
  ]),
);

/** /healthz, /metrics and the findings, decisions and gaps routes. */
async function coreRoutes(app: FastifyInstance, deps: ApiDeps, now: () => number): Promise<void> {
  const errors = ERROR_RESPONSES;
  const viewer = requireRole('viewer');
  const analyst = requireRole('analyst');

  app.get(
    '/healthz',
    {
      config: { floePublic: true },
      schema: {
        ...routeDoc('Health of the process (open, no token)', 'meta'),
        response: { 200: { type: 'object', additionalProperties: true }, 503: { type: 'object', additionalProperties: true } },
      },
    },
    async (_req, reply) => {
      const h = deps.health();
      return reply.status(h.ok ? 200 : 503).send(h);
    },
  );

  app.get(
    '/metrics',
    {
      ...(deps.security?.metricsRequireAuth ? { onRequest: viewer } : {}),
      schema: {
        ...routeDoc('Prometheus metrics (text exposition format)', 'meta', deps.security?.metricsRequireAuth ? 'viewer' : undefined),
        response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors },
      },
    },
    async (_req, reply) => {
      const text = await deps.registry.metrics();
      return reply.type(deps.registry.contentType).send(text);
    },
  );

  app.get<{ Querystring: FindingsQuery }>(
    '/v1/findings',
    {
      onRequest: viewer,
      schema: {
        ...routeDoc('Findings, newest lastSeen first', 'findings', 'viewer'),
        querystring: findingsQuerySchema,
        response: { 200: pageSchema(findingAnswerSchema), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await deps.store.queryFindings({
        from: time('from', q.from),
        to: time('to', q.to),
        detector: q.detector,
        entity: q.entity === undefined ? undefined : address('querystring/entity', q.entity),
        minSeverity: q.minSeverity,
        state: q.state,
        suppressed: q.suppressed === undefined ? undefined : parseBool(q.suppressed),
        namespace: q.namespace,
        pod: q.pod,
        workload: q.workload,
        limit: limit(q.limit),
        cursor: q.cursor,
      });
      return { ...page, items: page.items.map(findingAnswer) };
    },
  );

  app.get<{ Querystring: DecisionsQuery }>(
    '/v1/decisions',
    {
      onRequest: viewer,
      schema: {
        ...routeDoc('Block decisions, newest updatedAt first', 'decisions', 'viewer'),
        querystring: decisionsQuerySchema,
        response: { 200: pageSchema(decisionSchema), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const t = now();
      const active = q.active === undefined ? undefined : parseBool(q.active);
      const page = await deps.store.queryDecisions({
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
      return { ...page, items: page.items.map(decisionOut) };
    },
  );

  app.get<{ Querystring: GapsQuery }>(
    '/v1/gaps',
    {
      onRequest: viewer,
      schema: { ...routeDoc('Data gaps of a period and its completeness summary', 'gaps', 'viewer'), querystring: gapsQuerySchema, response: { 200: gapsPageSchema, ...errors } },
    },
    async (req) => {
      const q = req.query;
      const filters = { from: time('from', q.from), to: time('to', q.to), node: q.node, source: q.source, kind: q.kind };
      // the summary covers the whole period (every page), so each page states the data's completeness
      const [page, summary] = await Promise.all([deps.store.queryGaps({ ...filters, limit: limit(q.limit), cursor: q.cursor }), deps.store.gapSummary(filters)]);
      return { ...page, items: page.items.map(gapOut), summary };
    },
  );

  app.post<{ Body: { target: string; duration?: string | number; reason: string }; Headers: { 'x-floe-user'?: string } }>(
    '/v1/decisions',
    {
      onRequest: analyst,
      schema: {
        ...routeDoc('Block a target (manual decision)', 'decisions', 'analyst'),
        headers: userHeaderSchema,
        body: blockBodySchema,
        response: { 200: decisionSchema, 201: decisionSchema, ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      let durationMs: number | undefined;
      if (b.duration !== undefined) {
        durationMs = parseDuration(b.duration);
        if (durationMs === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', 'body/duration must be 1 ms .. 365 d, as an integer of ms or <n>ms|s|m|h|d');
      }
      const target = cidr('body/target', b.target);
      auditMutation(req, { action: 'decision.block', target });
      const request: ManualBlockRequest = {
        target,
        // stored and printed as given, but never able to drive a terminal (escape.ts)
        reason: escapeText(b.reason),
        user: userOf(req),
      };
      if (durationMs !== undefined) request.durationMs = durationMs;
      let result: ManualBlockResult;
      try {
        result = await deps.onManualBlock(request);
      } catch (e) {
        // the 409's standing decision answers in RFC 3339 like every other decision
        if (e instanceof ApiError && e.extra.decision)
          throw new ApiError(e.code, e.message, { headers: { ...e.headers }, extra: { ...e.extra, decision: decisionOut(e.extra.decision as never) } });
        throw e;
      }
      const extended = result.change === 'extend';
      if (extended) auditMutation(req, { action: 'decision.extend', target });
      return reply
        .status(extended ? 200 : 201)
        .header(BLOCK_CHANGE_HEADER, extended ? 'extended' : 'created')
        .send(decisionOut(result.decision));
    },
  );

  app.delete<{ Params: { target: string }; Headers: { 'x-floe-user'?: string } }>(
    '/v1/decisions/:target',
    {
      onRequest: analyst,
      schema: {
        ...routeDoc('Lift the block on a target', 'decisions', 'analyst'),
        headers: userHeaderSchema,
        params: targetParamsSchema,
        response: { 204: { type: 'null', description: 'unblocked' }, ...errors },
      },
    },
    async (req, reply) => {
      const target = cidr('params/target', req.params.target);
      auditMutation(req, { action: 'decision.unblock', target });
      const removed = await deps.onUnblock(target, userOf(req));
      if (!removed) throw new ApiError('FLOE_API_NOT_FOUND', `no decision for ${target}`);
      return reply.status(204).send();
    },
  );
}

/**
 * A stored finding as GET /v1/findings answers it: times in RFC 3339 (findingOut), its triage
 * `state` (`open` when never triaged), and its latest triage change and suppression mark, when it
 * has them, with their times in RFC 3339 too.
 */
function findingAnswer(f: StoredFinding): Record<string, unknown> {
  const out: Record<string, unknown> = { ...findingOut(f), state: f.triage?.state ?? 'open' };
  if (f.triage) out.triage = { ...f.triage, at: rfc3339(f.triage.at) };
  if (f.suppression) out.suppression = { ...f.suppression, at: rfc3339(f.suppression.at) };
  return out;
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
