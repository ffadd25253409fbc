/**
 * Access options shared by the triage, suppression, never-block and decision-extend route
 * plugins (issue 8): who may call a route (`authorize(role)` returns a fastify preHandler) and
 * the audit of every mutating call (`audit`). The defaults keep today's behaviour: viewer routes
 * open, analyst and admin routes behind the bearer token when `api.token` is set; the lead plugs
 * in @floe/api's role checks and audit log (`requireRole`, `auditMutation`) through the same options.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { requireBearer } from './auth.js';

import type { ApiRole } from './identity.js';

/** Returns the preHandler that lets `role` (or a higher one) through and refuses others with a catalogued error. */
export type Authorize = (role: ApiRole) => preHandlerAsyncHookHandler;

/** One mutating call, as the audit callback receives it. */
export interface AuditEvent {
  /** What was asked, e.g. `finding.triage`, `suppression.create`, `never-block.delete`, `decision.extend`. */
  action: string;
  /** What it was about: a finding id, rule id, CIDR or decision target (escaped, as received in the path or body). */
  target: string;
  /** HTTP status answered. */
  status: number;
  /** `ok` below 400, else `refused` (4xx) or `error` (5xx). */
  outcome: 'ok' | 'refused' | 'error';
  /** Who asked (see {@link identityOf}). */
  subject: string;
  /** The request's source address. */
  from: string;
  /** When the answer was sent (ms since epoch). */
  at: number;
}

/** Receives every mutating call of these plugins after it is answered (audited also when refused). */
export type AuditFn = (req: FastifyRequest, event: AuditEvent) => void | Promise<void>;

/**
 * The default audit: one info line per mutating call in the API's log (`msg: "audit"`, the event
 * under `audit`), until an audit log store is plugged in through `ApiDeps.audit`.
 */
export const logAudit: AuditFn = (req, event) => {
  req.log.info({ audit: event }, 'audit');
};

/** Options every plugin of this group takes. */
export interface RouteAccess {
  /** Default: {@link bearerAuthorize} of no token — everything allowed. */
  authorize?: Authorize;
  /** Default: none in the plugins; buildApp passes {@link logAudit} when ApiDeps.audit is absent. */
  audit?: AuditFn;
  /** Clock, ms since epoch; default Date.now. */
  now?: () => number;
}

/**
 * The default authorization: with a `token`, analyst and admin routes require
 * `Authorization: Bearer <token>` (ApiError FLOE_API_UNAUTHORIZED otherwise), viewer routes stay
 * open; without one, everything is open (as the API's other routes).
 */
export function bearerAuthorize(token?: string): Authorize {
  return (role) => async (req) => {
    if (token && role !== 'viewer') requireBearer(req.headers.authorization, token);
  };
}

/**
 * Who makes the request: the authenticated identity's subject when authentication set one
 * (`request.identity.subject`), else the `x-floe-user` label (checked by the route schema),
 * else `api`.
 */
export function identityOf(req: FastifyRequest): string {
  const id = (req as FastifyRequest & { identity?: { subject?: unknown } }).identity;
  if (id && typeof id.subject === 'string' && id.subject !== '') return id.subject;
  const h = req.headers['x-floe-user'];
  return typeof h === 'string' && h !== '' ? h : 'api';
}

/** Route config key naming a mutating route's audit action. */
export interface AuditConfig {
  audit?: { action: string; target: (req: FastifyRequest) => string };
}

declare module 'fastify' {
  interface FastifyContextConfig extends AuditConfig {}
}

/**
 * The onResponse hook of a plugin: audits every answered request of a route whose config names
 * an audit action. An audit callback that fails is logged, never turned into an error answer
 * (the answer is already sent).
 */
export function auditHook(access: RouteAccess): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const now = access.now ?? Date.now;
  return async (req, reply) => {
    const cfg = (req.routeOptions.config as AuditConfig | undefined)?.audit;
    if (!cfg || !access.audit) return;
    const status = reply.statusCode;
    try {
      await Promise.resolve(
        access.audit(req, {
          action: cfg.action,
          target: cfg.target(req),
          status,
          outcome: status < 400 ? 'ok' : status < 500 ? 'refused' : 'error',
          subject: identityOf(req),
          from: req.ip,
          at: now(),
        }),
      );
    } catch (err) {
      req.log.error({ err, action: cfg.action }, 'audit callback failed');
    }
  };
}

/**
 * After a route stored a change of the never-block list or the suppression rules: applies it in
 * this process at once (`onChange`, the triage sync's refresh). A failure is logged, not
 * answered: the change is stored, and the periodic re-read applies it.
 * @param what the stored thing, for the log line (`never-block list`, `suppression rules`).
 */
export function changeApplier(onChange: (() => Promise<void>) | undefined, what: string): (log: { error(o: object, m: string): void }) => Promise<void> {
  return async (log) => {
    try {
      await onChange?.();
    } catch (err) {
      log.error({ err }, `${what} stored but not applied in this process yet (the next re-read applies it)`);
    }
  };
}
