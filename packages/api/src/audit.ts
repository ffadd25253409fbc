/**
 * The API audit log: every mutating request (POST, PUT, PATCH, DELETE) — refused ones included —
 * except those the rate limits refuse (429, counted in floe_api_rate_limited_total: a flood must
 * not fill the audit table) — is written to the store's `api_audit` table before its answer leaves (an `onSend` hook): who
 * (the authenticated identity, never a header the caller chose), what (method, route, path, and
 * the action and target the handler named with auditMutation), when, from where (client
 * address) and the result (HTTP status). A failed write is logged and counted; the answer is sent.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ApiAuditEntry, Store } from '@floe/store';
import { escapeText } from '@floe/flow';
import { Counter, type Registry } from 'prom-client';
import { ANONYMOUS } from './identity.js';

/** Methods whose requests are audited. */
export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function failures(registry: Registry): Counter {
  const name = 'floe_api_audit_write_failures_total';
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help: 'API audit entries the store failed to write', registers: [registry] });
}

/**
 * A unique entry id that sorts in write order within one process (the monotonic clock in ns, 16
 * hex digits, then 4 random bytes), so entries of one millisecond page in the order they were made.
 */
function entryId(): string {
  return `${process.hrtime.bigint().toString(16).padStart(16, '0')}${randomBytes(4).toString('hex')}`;
}

/** Installs the audit hook on `app`. */
export function installAudit(app: FastifyInstance, store: Pick<Store, 'appendApiAudit'>, registry: Registry, now: () => number): void {
  const failed = failures(registry);
  app.addHook('onSend', async (req, reply, payload) => {
    if (!MUTATING_METHODS.has(req.method) || req.rateLimited) return payload;
    const id = req.identity ?? ANONYMOUS;
    const path = escapeText(req.url.split('?')[0]);
    const entry: ApiAuditEntry = {
      id: entryId(),
      at: now(),
      subject: id.subject,
      via: id.via,
      method: req.method,
      route: req.routeOptions.url ?? 'unmatched',
      path: path.length > 200 ? `${path.slice(0, 199)}…` : path,
      status: reply.statusCode,
      ip: req.ip,
      requestId: String(req.id),
    };
    if (id.role) entry.role = id.role;
    if (req.auditDetail) {
      entry.action = req.auditDetail.action;
      if (req.auditDetail.target !== undefined) entry.target = escapeText(req.auditDetail.target);
    }
    try {
      await store.appendApiAudit(entry);
    } catch (err) {
      failed.inc();
      req.log.error({ err, audit: entry }, 'api audit entry not written');
    }
    return payload;
  });
}
