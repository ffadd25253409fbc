/**
 * Authentication and rate limits of every request (one app-level `onRequest` hook, before any
 * route hook and before the body is read):
 *
 * 1. the client address is counted (`perAddress` requests per window, @fastify/rate-limit's store
 *    and key: an IPv4-mapped IPv6 address counts as its IPv4 address, IPv6 by /64);
 * 2. the `Authorization: Bearer` credential, when present, becomes `request.identity`: the shared
 *    `api.token` (role `api.tokenRole`), a stored API token (`floe_<id>_<secret>`, api-tokens.ts),
 *    or, with OIDC configured, a JWT of the issuer (oidc.ts). A credential that fails leaves the
 *    caller anonymous WITHOUT a role and records why (`request.authFailure`), so requireRole
 *    answers 401 and failed attempts still count against the address;
 * 3. without a credential the caller is anonymous with `anonymousRole` (none: 401 on role routes).
 *    When that role is granted (the open loopback API: anonymous callers are admin), the request
 *    must also come from this machine's own clients, not from a web page (DNS rebinding, a
 *    cross-site form or fetch): its `Host` must name a loopback host (isLoopbackAuthority), else
 *    421 FLOE_API_MISDIRECTED; and a state-changing one (POST, PUT, PATCH, DELETE) carrying an
 *    `Origin` that is not a loopback origin, or `Sec-Fetch-Site: cross-site`, is refused with 403
 *    FLOE_API_CROSS_SITE. A request with a valid credential is not held to either rule (a real
 *    deployment is reached by name, and a bearer token is never sent by a browser on its own);
 *    an anonymous caller without a role gets its 401 from requireRole as before;
 * 4. an authenticated identity is counted too (`perToken` requests per window).
 *
 * Beyond a limit: 429 FLOE_API_RATE_LIMITED with `Retry-After` (seconds, RFC 9110 section 10.2.3).
 * Routes with `config: { floePublic: true }` (GET /healthz) skip all of it.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '@floe/store';
import { Counter, type Registry } from 'prom-client';
import { isIP } from 'node:net';
import { escapeText } from '@floe/flow';
import { AUTH_REALM, tokenMatches } from './auth.js';
import { API_TOKEN_RE, verifyApiToken } from './api-tokens.js';
import { MUTATING_METHODS } from './audit.js';
import { ApiError } from './errors.js';
import { ANONYMOUS, isApiRole, type ApiRole, type Identity } from './identity.js';
import { looksLikeJwt, OidcRefusal, type OidcVerifier } from './oidc.js';
import { isLoopbackHost } from './token.js';

/** Rate limits: requests per window per client address and per authenticated identity. */
export interface RateLimitOptions {
  perAddress: number;
  perToken: number;
  /** Window length, ms. */
  windowMs: number;
}

/** Default limits (also the `api.rateLimit` configuration defaults). */
export const DEFAULT_RATE_LIMITS: Readonly<RateLimitOptions> = Object.freeze({ perAddress: 6000, perToken: 3000, windowMs: 60_000 });

/** Who may call, and how often (ApiDeps.security). */
export interface SecurityOptions {
  /** The shared `api.token` (compared in constant time), absent: none. */
  sharedToken?: string;
  /** Role of the shared token; default admin. */
  sharedTokenRole?: ApiRole;
  /** Role of a request without credentials; absent: no role (401 on every route that needs one). */
  anonymousRole?: ApiRole;
  /** OIDC JWT verifier (createOidcVerifier), absent: JWTs are refused like any unknown token. */
  oidc?: OidcVerifier;
  rateLimit?: Partial<RateLimitOptions>;
  /** GET /metrics needs a viewer role or higher. */
  metricsRequireAuth?: boolean;
}

/** The subject of the shared token. */
export const SHARED_TOKEN_SUBJECT = 'config:api.token';

/** Why a presented credential failed: the `reason` label of floe_api_auth_failures_total. */
export type AuthFailureReason = 'scheme' | 'unknown' | 'expired' | 'revoked' | 'oidc';

/** A 401 for a failed credential, with its reason for the metric. */
function unauthorized(detail: string, reason: AuthFailureReason): ApiError & { reason: AuthFailureReason } {
  return Object.assign(new ApiError('FLOE_API_UNAUTHORIZED', detail, { headers: { 'www-authenticate': `Bearer realm="${AUTH_REALM}", error="invalid_token"` } }), { reason });
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

/** An authority: `[IPv6]` or a name / IPv4 address without colons, then an optional `:port`. */
const AUTHORITY_RE = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

/**
 * Whether an HTTP authority — a `Host` header value, or the `host[:port]` of an `Origin` — names
 * this machine: `localhost` or a name under `.localhost` (RFC 6761 section 6.3; a trailing dot
 * allowed, case-insensitive), an IPv4 address in 127.0.0.0/8, or `[::1]` (or an IPv4-mapped
 * loopback address in brackets), each with or without a port. Anything else is false: another
 * name, a non-loopback address, an unbracketed IPv6 address, an empty or malformed value.
 */
export function isLoopbackAuthority(authority: string): boolean {
  const m = AUTHORITY_RE.exec(authority);
  if (!m) return false;
  if (m[1] !== undefined) return isIP(m[1]) === 6 && isLoopbackHost(m[1]);
  const name = m[2].toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return isIP(name) === 4 && isLoopbackHost(name);
}

/**
 * Whether an `Origin` header value (RFC 6454 section 7: `scheme://host[:port]`, or `null`) is a
 * loopback origin (an http or https origin whose authority isLoopbackAuthority accepts). `null`
 * and anything unparsable are not.
 */
export function isLoopbackOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const u = new URL(origin);
  return (u.protocol === 'http:' || u.protocol === 'https:') && isLoopbackAuthority(u.host);
}

/**
 * The refusal of a request that would be served with the anonymous role, when it does not come
 * from a client of this machine (the module comment, step 3), or undefined when it may proceed.
 */
function foreignAnonymous(req: FastifyRequest): ApiError | undefined {
  const host = req.headers.host;
  if (host === undefined || !isLoopbackAuthority(host)) {
    return new ApiError(
      'FLOE_API_MISDIRECTED',
      `requests without a bearer token are served only for a loopback Host (localhost, 127.0.0.1, [::1]), not ${host === undefined ? 'none' : `"${host.slice(0, 100)}"`}; call the API at a loopback address or present a token`,
    );
  }
  if (!MUTATING_METHODS.has(req.method)) return undefined;
  const origin = req.headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin)) {
    return new ApiError(
      'FLOE_API_CROSS_SITE',
      `a ${req.method} without a bearer token from the web origin "${origin.slice(0, 100)}" is refused; only loopback origins may change state anonymously`,
    );
  }
  if (req.headers['sec-fetch-site'] === 'cross-site')
    return new ApiError('FLOE_API_CROSS_SITE', `a cross-site ${req.method} without a bearer token is refused (Sec-Fetch-Site: cross-site)`);
  return undefined;
}

type Limiter = (req: FastifyRequest) => Promise<{ isExceeded?: boolean; ttlInSeconds?: number; isAllowed: boolean }>;

/** The identity a credential stands for, or the 401 that refuses it. */
async function authenticate(header: string, opts: SecurityOptions, store: Pick<Store, 'getApiToken'>, now: number): Promise<Identity | (ApiError & { reason: AuthFailureReason })> {
  const m = /^Bearer +(\S+) *$/i.exec(header);
  if (!m) return unauthorized('the Authorization header must be "Bearer <token>"', 'scheme');
  const text = m[1];
  if (opts.sharedToken && tokenMatches(text, opts.sharedToken)) return { subject: SHARED_TOKEN_SUBJECT, role: opts.sharedTokenRole ?? 'admin', via: 'token' };
  if (API_TOKEN_RE.test(text)) {
    const got = await verifyApiToken(store, text, now);
    if (typeof got === 'string') return unauthorized(got === 'unknown' ? 'the bearer token is not valid' : `the bearer token is ${got}`, got);
    return { subject: `token:${got.id}`, role: isApiRole(got.role) ? got.role : undefined, via: 'token' };
  }
  if (opts.oidc && looksLikeJwt(text)) {
    return opts.oidc(text).then(
      (o): Identity => {
        // an OIDC subject is the issuer's text: escaped and cut before it reaches a log or the audit
        const sub = `oidc:${escapeText(o.sub).slice(0, 200)}`;
        return o.role ? { subject: sub, role: o.role, via: 'oidc' } : { subject: sub, via: 'oidc' };
      },
      (e: unknown) => unauthorized(`the OIDC token is refused: ${e instanceof OidcRefusal ? e.reason : 'verification failed'}`, 'oidc'),
    );
  }
  return unauthorized('the bearer token is not valid', 'unknown');
}

/**
 * Installs authentication and rate limits on `app` (see the module comment). Call it before any
 * route is added.
 */
export async function installSecurity(app: FastifyInstance, store: Pick<Store, 'getApiToken'>, opts: SecurityOptions, now: () => number, registry: Registry): Promise<void> {
  const limits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimit };
  const authFailures = counter(registry, 'floe_api_auth_failures_total', 'Bearer credentials the API refused, by reason', ['reason']);
  const limited = counter(registry, 'floe_api_rate_limited_total', 'Requests refused with 429 by the API rate limits, by limit', ['limit']);
  await app.register(rateLimit, { global: false, timeWindow: limits.windowMs, max: limits.perAddress });
  const create = (app as unknown as { createRateLimit(o: object): Limiter }).createRateLimit;
  // the plugin's own key for addresses: IPv4-mapped IPv6 as IPv4, other IPv6 grouped by /64
  const perAddress = create({ max: limits.perAddress, timeWindow: limits.windowMs });
  const perToken = create({ max: limits.perToken, timeWindow: limits.windowMs, keyGenerator: (req: FastifyRequest) => `id:${req.identity.subject}` });
  const check = async (limiter: Limiter, req: FastifyRequest, what: string) => {
    const r = await limiter(req);
    if (r.isExceeded) {
      limited.inc({ limit: what });
      req.rateLimited = true;
      const retry = String(Math.max(1, r.ttlInSeconds ?? 1));
      throw new ApiError('FLOE_API_RATE_LIMITED', `too many requests from this ${what}; retry after ${retry} s`, { headers: { 'retry-after': retry } });
    }
  };
  const anonymous: Identity = opts.anonymousRole ? { ...ANONYMOUS, role: opts.anonymousRole } : ANONYMOUS;

  app.decorateRequest('identity', null as unknown as Identity);
  app.addHook('onRequest', async (req) => {
    if ((req.routeOptions.config as { floePublic?: boolean } | undefined)?.floePublic) {
      req.identity = ANONYMOUS;
      return;
    }
    req.identity = ANONYMOUS;
    await check(perAddress, req, 'address');
    const header = req.headers.authorization;
    if (header === undefined) {
      // only an anonymous role is worth a web page's attack: without one, requireRole answers 401
      if (anonymous.role !== undefined) {
        const refused = foreignAnonymous(req);
        if (refused) throw refused;
      }
      req.identity = anonymous;
      return;
    }
    const got = await authenticate(header, opts, store, now());
    if (got instanceof ApiError) {
      authFailures.inc({ reason: got.reason });
      req.authFailure = got;
      return;
    }
    req.identity = got;
    await check(perToken, req, 'token');
  });
}
