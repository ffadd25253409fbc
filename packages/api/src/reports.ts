/**
 * GET /v1/reports and GET /v1/reports/:id[.json|.csv|.html|.pdf]: kept compliance reports
 * (@floe/report archive), as a fastify plugin registered by buildApp when a report folder is
 * configured. Read-only; each route runs the `authorize('viewer')` preHandler when one is given.
 */
import type { FastifyPluginAsync, preHandlerHookHandler } from 'fastify';
import { keptReportJsonSchema, REPORT_FORMATS, REPORT_MEDIA_TYPES, reportJsonSchema, type ReportArchive, type ReportFormat } from '@floe/report';
import { ApiError, ERROR_CATALOGUE } from './errors.js';
import { errorSchema, pageSchema } from './schemas.js';
import { LIMIT, parseLimit } from './values.js';

/** Options of the reports plugin. */
export interface ReportRoutesOptions {
  /** The kept reports (openReportArchive(cfg.report.dir)). */
  archive: ReportArchive;
  /**
   * Returns the preHandler that admits a role or answers 401/403 (A1's requireRole). Default:
   * everyone may read reports. Report routes ask for `viewer`.
   */
  authorize?: (role: 'viewer' | 'analyst' | 'admin') => preHandlerHookHandler;
}

/** `:file` of GET /v1/reports/:file: a report id, optionally with a format extension. */
const FILE = /^(rpt-\d{8}T\d{6}Z-\d{8}T\d{6}Z-[0-9a-f]{8})(?:\.(json|csv|html|pdf))?$/;

const reportsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'string', format: 'floe-limit', description: `page size 1..${LIMIT.max} (default ${LIMIT.default})` },
    cursor: { type: 'string', maxLength: 200, description: 'the `next` of the previous page' },
  },
} as const;
const fileParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file'],
  properties: { file: { type: 'string', maxLength: 80, pattern: FILE.source, description: 'report id, optionally with .json, .csv, .html or .pdf (default json)' } },
} as const;

/** The index page cursor: base64url of the id of the last item returned (ids sort with generation time). */
const cursorOf = (id: string): string => Buffer.from(id).toString('base64url');
function afterCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!FILE.test(id) || id.includes('.')) throw new ApiError('FLOE_API_BAD_REQUEST', 'querystring/cursor is not the `next` of a page of GET /v1/reports');
  return id;
}

/** The reports routes (see the module comment). */
export const reportRoutes: FastifyPluginAsync<ReportRoutesOptions> = async (app, opts) => {
  const guard = opts.authorize ? { preHandler: opts.authorize('viewer') } : {};
  const errors = Object.fromEntries([...new Set(Object.values(ERROR_CATALOGUE).map((e) => e.status))].map((s) => [s, errorSchema]));

  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/v1/reports',
    {
      ...guard,
      schema: {
        querystring: reportsQuerySchema,
        response: { 200: pageSchema(keptReportJsonSchema), ...errors },
      },
    },
    async (req) => {
      const limit = req.query.limit === undefined ? LIMIT.default : (parseLimit(req.query.limit) as number);
      const all = await opts.archive.list();
      let start = 0;
      if (req.query.cursor !== undefined) {
        const id = afterCursor(req.query.cursor);
        const i = all.findIndex((k) => k.id === id);
        if (i < 0) throw new ApiError('FLOE_API_BAD_REQUEST', 'querystring/cursor names a report that is no longer kept');
        start = i + 1;
      }
      const items = all.slice(start, start + limit);
      const page: { items: typeof items; total: number; next?: string } = { items, total: all.length };
      if (start + limit < all.length) page.next = cursorOf(items[items.length - 1].id);
      return page;
    },
  );

  app.get<{ Params: { file: string } }>(
    '/v1/reports/:file',
    {
      ...guard,
      schema: {
        params: fileParamsSchema,
        response: {
          200: {
            description: 'the report in the format its extension names',
            content: {
              'application/json': { schema: reportJsonSchema },
              'text/csv': { schema: { type: 'string' } },
              'text/html': { schema: { type: 'string' } },
              'application/pdf': { schema: { type: 'string', format: 'binary' } },
            },
          },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const m = FILE.exec(req.params.file) as RegExpExecArray;
      const format = (m[2] ?? 'json') as ReportFormat;
      const body = await opts.archive.read(m[1], format);
      if (format !== 'json' && format !== 'html') reply.header('content-disposition', `attachment; filename="${m[1]}.${format}"`);
      // the kept file's bytes as they were written (the same numbers as every other format)
      return reply
        .type(REPORT_MEDIA_TYPES[format])
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
        .send(body);
    },
  );
};

/** The formats GET /v1/reports/:file serves. */
export const SERVED_REPORT_FORMATS: readonly ReportFormat[] = REPORT_FORMATS;
