/**
 * Who is calling, and what they may do: the roles (viewer < analyst < admin), the identity every
 * request carries (`request.identity`), the `requireRole` hook routes declare, and
 * `auditMutation`, with which a handler names what it did for the audit log (audit.ts).
 *
 * A route file declares its role like this (see README.md, "Roles"):
 *
 * ```ts
 * app.post('/v1/triage/:id', { onRequest: requireRole('analyst'), schema: { ... } }, async (req) => {
 *   auditMutation(req, { action: 'finding.acknowledge', target: req.params.id });
 *   ...
 * });
 * ```
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { AUTH_REALM } from './auth.js';

/** API roles, least to most privileged. */
export const API_ROLES = Object.freeze(['viewer', 'analyst', 'admin'] as const);

/** One API role: viewer reads, analyst also triages and blocks, admin also manages tokens, audit, never-block and suppression. */
export type ApiRole = (typeof API_ROLES)[number];

/** How an identity was established. */
export type IdentityVia = 'token' | 'oidc' | 'anonymous';

/**
 * The authenticated caller of a request. `subject`: `token:<id>` for a stored API token,
 * `config:api.token` for the shared token, the OIDC `sub` claim (prefixed `oidc:`), or
 * `anonymous`. `role` is absent for an anonymous caller the configuration grants nothing.
 */
export interface Identity {
  readonly subject: string;
  readonly role?: ApiRole;
  readonly via: IdentityVia;
}

/** What a handler did, for the audit entry of its request (auditMutation). */
export interface AuditDetail {
  /** A dotted verb: `decision.block`, `decision.unblock`, `token.create`, `token.revoke`… */
  action: string;
  /** What it acted on: a CIDR, a token id, a finding id. At most 256 characters are kept. */
  target?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, set by the API's authentication hook before any route hook runs. */
    identity: Identity;
    /** What the handler did (auditMutation); recorded with the request's audit entry. */
    auditDetail?: AuditDetail;
    /** A presented credential that failed (bad, expired, revoked); requireRole answers it with 401. */
    authFailure?: ApiError;
    /** Refused by the API's rate limits (429): counted, not audited (a flood must not fill the audit table). */
    rateLimited?: boolean;
  }
}

/** The identity of a request without credentials that the configuration grants no role. */
export const ANONYMOUS: Identity = Object.freeze({ subject: 'anonymous', via: 'anonymous' });

/** Whether `role` is at least `min` (viewer < analyst < admin); false for no role. */
export function roleAtLeast(role: ApiRole | undefined, min: ApiRole): boolean {
  return role !== undefined && API_ROLES.indexOf(role) >= API_ROLES.indexOf(min);
}

/** Whether `v` is an API role name. */
export function isApiRole(v: unknown): v is ApiRole {
  return typeof v === 'string' && (API_ROLES as readonly string[]).includes(v);
}

/**
 * A fastify hook (use it as `onRequest`, so it runs before the body is parsed; it works as a
 * `preHandler` too) that lets a request through only when its identity has `min` or a higher role.
 * @throws ApiError FLOE_API_UNAUTHORIZED (401, `WWW-Authenticate: Bearer`) when the request
 *   presented a bad, expired or revoked credential, or none and anonymous callers have no role;
 *   FLOE_API_FORBIDDEN (403) when the identity's role is below `min`.
 */
export function requireRole(min: ApiRole): (req: FastifyRequest) => Promise<void> {
  const hook = async (req: FastifyRequest): Promise<void> => {
    if (req.authFailure) throw req.authFailure;
    const id = req.identity ?? ANONYMOUS;
    if (roleAtLeast(id.role, min)) return;
    if (id.via === 'anonymous') {
      throw new ApiError('FLOE_API_UNAUTHORIZED', `this route requires an Authorization: Bearer <token> header (role ${min} or higher)`, {
        headers: { 'www-authenticate': `Bearer realm="${AUTH_REALM}"` },
      });
    }
    throw new ApiError('FLOE_API_FORBIDDEN', `this route requires role ${min} or higher; the caller has ${id.role ?? 'no role'}`, {
      headers: { 'www-authenticate': `Bearer realm="${AUTH_REALM}", error="insufficient_scope"` },
    });
  };
  // the route table of the OpenAPI document and the README read it
  return Object.assign(hook, { floeRole: min });
}

/**
 * Names what the current request did, for its audit entry (every mutating request gets one;
 * this adds the action and target). Call it in the handler once the action is known.
 */
export function auditMutation(req: FastifyRequest, detail: AuditDetail): void {
  req.auditDetail = { action: detail.action.slice(0, 64), ...(detail.target === undefined ? {} : { target: detail.target.slice(0, 256) }) };
}
