/** GET /v1/audit (admin): the API audit log, newest first, paged, with filters. */
import type { FastifyInstance } from 'fastify';
import type { Store } from '@floe/store';
import { ApiError, ERROR_CATALOGUE, PROBLEM_CONTENT_TYPE } from '../errors.js';
import { requireRole } from '../identity.js';
import { auditEntrySchema, auditQuerySchema, pageSchema, problemSchema } from '../schemas.js';
import { auditOut } from '../times.js';
import { LIMIT, parseLimit, parseTime } from '../values.js';

const errors = Object.fromEntries(
  [...new Set(Object.values(ERROR_CATALOGUE).map((e) => e.status))].map((s) => [
    s,
    { description: 'problem details (RFC 9457)', content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } },
  ]),
);

interface AuditQuery {
  from?: string;
  to?: string;
  subject?: string;
  method?: string;
  status?: string;
  action?: string;
  limit?: string;
  cursor?: string;
}

function time(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = parseTime(v);
  if (t === undefined) throw new ApiError('FLOE_API_BAD_REQUEST', `querystring/${name} must be an RFC 3339 time or ms since epoch`);
  return t;
}

/** Registers GET /v1/audit on `app`. */
export async function auditRoutes(app: FastifyInstance, deps: { store: Store }): Promise<void> {
  app.get<{ Querystring: AuditQuery }>(
    '/v1/audit',
    {
      onRequest: requireRole('admin'),
      schema: {
        summary: 'The API audit log: every mutating call, newest first',
        tags: ['audit'],
        description: 'Role: admin.',
        security: [{ bearer: [] }],
        querystring: auditQuerySchema,
        response: { 200: pageSchema(auditEntrySchema), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await deps.store.queryApiAudit({
        from: time('from', q.from),
        to: time('to', q.to),
        subject: q.subject,
        method: q.method,
        status: q.status === undefined ? undefined : Number(q.status),
        action: q.action,
        limit: q.limit === undefined ? LIMIT.default : parseLimit(q.limit),
        cursor: q.cursor,
      });
      return { ...page, items: page.items.map(auditOut) };
    },
  );
}
