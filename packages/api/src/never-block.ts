/**
 * The never-block list at run time (issue 8), a fastify plugin:
 *
 * - `GET /v1/never-block` (viewer) — the policy's `respond.neverBlock` (`source: policy`, edited
 *   in the policy file) and the entries added at run time (`source: api`), which are stored.
 * - `POST /v1/never-block` (admin) `{ cidr, reason }` — adds (201) or replaces (200) a run-time entry.
 * - `DELETE /v1/never-block/:cidr` (admin, URL-encoded CIDR) — 204, or 404 FLOE_API_NOT_FOUND
 *   (the policy's entries cannot be removed here).
 *
 * The store is the truth: `floe run` and every role process load the run-time entries at start,
 * merge them with the policy's into the one protected set of the responder and the enforcer,
 * and re-read them every few seconds; `onChange` applies a change in this process at once: the
 * responder refuses blocks overlapping it, and the enforcer takes any block covering it out of
 * the kernel (split around it, or removed). Mutations are audited (`never-block.add`, `never-block.delete`).
 */
import { escapeText } from '@floe/flow';
import { rfc3339 } from './times.js';
import type { NeverBlockEntry, Store } from '@floe/store';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditHook, bearerAuthorize, changeApplier, identityOf, type RouteAccess } from './access.js';
import { ApiError } from './errors.js';
import { userHeaderSchema } from './schemas.js';
import { errorResponses, paramOf } from './triage.js';
import { cidrParamsSchema, listSchema, neverBlockBodySchema, neverBlockEntrySchema } from './triage-schemas.js';
import { normalizeCidr, requireCidr } from './values.js';

/** Options of {@link neverBlockRoutes}. */
export interface NeverBlockRoutesOptions extends RouteAccess {
  store: Pick<Store, 'putNeverBlock' | 'deleteNeverBlock' | 'listNeverBlock'>;
  /** The policy's `respond.neverBlock` (listed, not editable here). */
  policyNeverBlock?: readonly string[];
  /** Called after the list changed in the store (apply it now); its failure is logged, the answer stands. */
  onChange?: () => Promise<void>;
}

/** A never-block entry as answered. */
interface EntryAnswer {
  cidr: string;
  source: 'api' | 'policy';
  reason: string;
  createdBy?: string;
  createdAt?: string;
}

/** Registers the never-block routes (see the module comment). */
export async function neverBlockRoutes(app: FastifyInstance, opts: NeverBlockRoutesOptions): Promise<void> {
  const authorize = opts.authorize ?? bearerAuthorize();
  const now = opts.now ?? Date.now;
  const errors = errorResponses();
  app.addHook('onResponse', auditHook(opts));
  const changed = changeApplier(opts.onChange, 'never-block list');

  app.get('/v1/never-block', { preHandler: authorize('viewer'), schema: { response: { 200: listSchema(neverBlockEntrySchema), ...errors } } }, async () => {
    const policy: EntryAnswer[] = (opts.policyNeverBlock ?? []).map((c) => ({ cidr: normalizeCidr(c) ?? c, source: 'policy', reason: 'policy respond.neverBlock' }));
    const api: EntryAnswer[] = (await opts.store.listNeverBlock()).map((e) => ({ ...e, createdAt: rfc3339(e.createdAt), source: 'api' }));
    const items = [...policy, ...api];
    return { items, total: items.length };
  });

  app.post<{ Body: { cidr: string; reason: string } }>(
    '/v1/never-block',
    {
      preHandler: authorize('admin'),
      config: { audit: { action: 'never-block.add', target: (req: FastifyRequest) => escapeText(String((req.body as { cidr?: unknown } | undefined)?.cidr ?? '').slice(0, 64)) } },
      schema: { headers: userHeaderSchema, body: neverBlockBodySchema, response: { 200: neverBlockEntrySchema, 201: neverBlockEntrySchema, ...errors } },
    },
    async (req, reply) => {
      const cidr = requireCidr('body/cidr', req.body.cidr);
      const existed = (await opts.store.listNeverBlock()).some((e) => e.cidr === cidr);
      const entry: NeverBlockEntry = { cidr, reason: escapeText(req.body.reason), createdBy: identityOf(req), createdAt: now() };
      await opts.store.putNeverBlock(entry);
      await changed(req.log);
      return reply.status(existed ? 200 : 201).send({ ...entry, createdAt: rfc3339(entry.createdAt), source: 'api' });
    },
  );

  app.delete<{ Params: { cidr: string } }>(
    '/v1/never-block/:cidr',
    {
      preHandler: authorize('admin'),
      config: { audit: { action: 'never-block.delete', target: paramOf('cidr') } },
      schema: { headers: userHeaderSchema, params: cidrParamsSchema, response: { 204: { type: 'null' }, ...errors } },
    },
    async (req, reply) => {
      const cidr = requireCidr('params/cidr', req.params.cidr);
      if (!(await opts.store.deleteNeverBlock(cidr))) throw new ApiError('FLOE_API_NOT_FOUND', `no run-time never-block entry ${cidr}`);
      await changed(req.log);
      return reply.status(204).send();
    },
  );
}
