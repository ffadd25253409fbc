// Issue 8 part 3: triage, suppression rules, the run-time never-block list and decision
// extension, over real HTTP (the app listening on a loopback port) against the real DuckDB store,
// responder, protected set and suppressor (test-harness.ts wires them as @floe/runtime does).
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { findingFixture } from '@floe/store/contract';
import type { AuditEvent } from './access.js';
import { makeApiToken, type NewApiToken } from './api-tokens.js';
import type { ApiRole } from './identity.js';
import { startApi } from './app.js';
import { harness, T0, type Harness, type HarnessOptions } from './test-harness.js';

const HOUR = 3_600_000;

interface Answer {
  status: number;
  body: Record<string, unknown> & { code?: string; message?: string; items?: Array<Record<string, unknown>> };
  headers: Headers;
}

/**
 * A harness listening on 127.0.0.1, port chosen by the kernel, and a fetch helper. Callers are
 * real API tokens (stored hashed, checked by the security context): a request naming a user in
 * `x-floe-user` is sent with the bearer token of that user (role `x-test-role`, default admin),
 * made on first use; `who(name, role?)` is the identity the audit and triage record for it.
 */
async function served(
  t: TestContext,
  opts: HarnessOptions = {},
): Promise<Harness & { call: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>; who: (name: string, role?: ApiRole) => string }> {
  const h = await harness(t, opts);
  const base = await startApi(h.app, { host: '127.0.0.1', port: 0 });
  const tokens = new Map<string, NewApiToken>();
  const tokenOf = async (name: string, role: ApiRole): Promise<NewApiToken> => {
    let tok = tokens.get(`${name}/${role}`);
    if (!tok) {
      tok = makeApiToken({ role, name, createdBy: 'test', now: T0 });
      await h.store.insertApiToken(tok.record);
      tokens.set(`${name}/${role}`, tok);
    }
    return tok;
  };
  const call = async (method: string, path: string, body?: unknown, given: Record<string, string> = {}): Promise<Answer> => {
    const { 'x-floe-user': user, 'x-test-role': role, ...headers } = given;
    if (user !== undefined) headers.authorization = `Bearer ${(await tokenOf(user, (role as ApiRole | undefined) ?? 'admin')).text}`;
    const r = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Answer['body']) : {}, headers: r.headers };
  };
  const who = (name: string, role: ApiRole = 'admin'): string => `token:${tokens.get(`${name}/${role}`)?.record.id ?? '?'}`;
  return { ...h, call, who };
}

const RANK: Record<ApiRole, number> = { viewer: 0, analyst: 1, admin: 2 };

describe('triage (issue 8)', () => {
  it('POST /v1/findings/:id/triage: who, when and why kept; state on GET /v1/findings and ?state=; history oldest first', async (t) => {
    const h = await served(t);
    await h.store.insertFindings([findingFixture({ id: 'f-a', lastSeen: T0 - 2 }), findingFixture({ id: 'f-b', lastSeen: T0 - 1 })]);
    let r = await h.call('POST', '/v1/findings/f-a/triage', { state: 'acknowledged' }, { 'x-floe-user': 'alice' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body, { findingId: 'f-a', state: 'acknowledged', by: h.who('alice'), at: new Date(T0).toISOString() });
    h.clock.now = T0 + 60_000;
    r = await h.call('POST', '/v1/findings/f-a/triage', { state: 'false_positive', reason: 'nightly backup sweep \u001b[31m' }, { 'x-floe-user': 'bob' });
    assert.equal(r.status, 201);
    assert.equal(r.body.reason, 'nightly backup sweep \\x1b[31m', 'stored escaped');

    const list = await h.call('GET', '/v1/findings');
    assert.deepEqual(
      list.body.items?.map((f) => [f.id, f.state, (f.triage as { by?: string } | undefined)?.by]),
      [
        ['f-b', 'open', undefined],
        ['f-a', 'false_positive', h.who('bob')],
      ],
    );
    assert.deepEqual(
      (await h.call('GET', '/v1/findings?state=open')).body.items?.map((f) => f.id),
      ['f-b'],
    );
    assert.deepEqual(
      (await h.call('GET', '/v1/findings?state=false_positive')).body.items?.map((f) => f.id),
      ['f-a'],
    );
    assert.equal((await h.call('GET', '/v1/findings?state=acknowledged')).body.total, 0);
    const hist = await h.call('GET', '/v1/findings/f-a/triage');
    assert.deepEqual(hist.body, {
      findingId: 'f-a',
      state: 'false_positive',
      history: [
        { findingId: 'f-a', state: 'acknowledged', by: h.who('alice'), at: new Date(T0).toISOString() },
        { findingId: 'f-a', state: 'false_positive', reason: 'nightly backup sweep \\x1b[31m', by: h.who('bob'), at: new Date(T0 + 60_000).toISOString() },
      ],
    });
    assert.deepEqual((await h.call('GET', '/v1/findings/f-b/triage')).body, { findingId: 'f-b', state: 'open', history: [] });
  });

  it('triage refusals: a false positive without a reason, an unknown state or field, an unknown finding (POST and GET), a bad ?state=', async (t) => {
    const h = await served(t);
    await h.store.insertFindings([findingFixture({ id: 'f-a' })]);
    for (const body of [{ state: 'false_positive' }, { state: 'closed' }, { state: 'resolved', by: 'mallory' }, { state: 'resolved', reason: '' }, { reason: 'x' }, { state: 7 }]) {
      const r = await h.call('POST', '/v1/findings/f-a/triage', body);
      assert.deepEqual([r.status, r.body.code], [400, 'FLOE_API_BAD_REQUEST'], JSON.stringify(body));
    }
    const unknown = await h.call('POST', '/v1/findings/nope/triage', { state: 'resolved' });
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'FLOE_API_NOT_FOUND']);
    // the GET of an unknown finding is the same 404, not an empty "open" history
    const unknownGet = await h.call('GET', '/v1/findings/nope/triage');
    assert.deepEqual([unknownGet.status, unknownGet.body.code, unknownGet.body.detail], [404, 'FLOE_API_NOT_FOUND', 'no finding nope']);
    assert.match(unknownGet.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const bad = await h.call('GET', '/v1/findings?state=closed');
    assert.deepEqual([bad.status, bad.body.code], [400, 'FLOE_API_BAD_REQUEST']);
    assert.deepEqual(await h.store.triageHistory('f-a'), [], 'nothing written by a refused request');
  });

  it('roles: requireRole on every route (viewer reads, analyst triages and extends, admin edits rules and the never-block list) with real tokens; every mutation is audited with the token identity, refusals too', async (t) => {
    const events: AuditEvent[] = [];
    const h = await served(t, { api: { security: { anonymousRole: undefined }, audit: (_req, e) => void events.push(e) } });
    await h.store.insertFindings([findingFixture({ id: 'f-a' })]);
    const block = await h.call('POST', '/v1/decisions', { target: '203.0.113.9', reason: 'test', duration: '1h' }, { 'x-floe-user': 'ops' });
    assert.equal(block.status, 201, JSON.stringify(block.body));
    const as = (role: ApiRole) => ({ 'x-test-role': role, 'x-floe-user': role });
    const cases: Array<[string, string, unknown, ApiRole]> = [
      ['GET', '/v1/findings/f-a/triage', undefined, 'viewer'],
      ['GET', '/v1/suppressions', undefined, 'viewer'],
      ['GET', '/v1/never-block', undefined, 'viewer'],
      ['POST', '/v1/findings/f-a/triage', { state: 'acknowledged' }, 'analyst'],
      ['PATCH', '/v1/decisions/203.0.113.9', { duration: '2h' }, 'analyst'],
      ['POST', '/v1/suppressions', { detector: 'portscan.vertical', duration: '1d', reason: 'scanner' }, 'admin'],
      ['POST', '/v1/never-block', { cidr: '192.0.2.10', reason: 'monitoring' }, 'admin'],
      ['DELETE', '/v1/never-block/192.0.2.10%2F32', undefined, 'admin'],
    ];
    for (const [method, path, body, role] of cases) {
      for (const who of ['nobody', 'viewer', 'analyst', 'admin'] as const) {
        const allowed = who !== 'nobody' && RANK[who] >= RANK[role];
        if (allowed && who !== role) continue; // a mutation succeeds once, by its own role
        const r = await h.call(method, path, body, who === 'nobody' ? {} : as(who));
        if (allowed) assert.ok(r.status < 300, `${method} ${path} as ${who}: ${r.status} ${JSON.stringify(r.body)}`);
        else if (who === 'nobody') assert.deepEqual([r.status, r.body.code], [401, 'FLOE_API_UNAUTHORIZED'], `${method} ${path} as nobody`);
        else assert.deepEqual([r.status, r.body.code], [403, 'FLOE_API_FORBIDDEN'], `${method} ${path} as ${who}`);
      }
    }
    const byAction = (a: string) => events.filter((e) => e.action === a).map((e) => [e.subject, e.status, e.outcome, e.target]);
    assert.deepEqual(byAction('finding.triage'), [
      ['anonymous', 401, 'refused', 'f-a'],
      [h.who('viewer', 'viewer'), 403, 'refused', 'f-a'],
      [h.who('analyst', 'analyst'), 201, 'ok', 'f-a'],
    ]);
    assert.deepEqual(byAction('never-block.delete').at(-1), [h.who('admin'), 204, 'ok', '192.0.2.10/32']);
    assert.equal(byAction('suppression.create').at(-1)?.[1], 201);
    assert.equal(byAction('decision.extend').at(-1)?.[1], 200);
    assert.equal(events.filter((e) => e.action.startsWith('finding.triage') && e.status === 201).length, 1);
    assert.ok(!events.some((e) => /GET/.test(e.action)), 'reads are not audited');
    // the store's audit log (the security context) names the same token identities
    const audit = await h.store.queryApiAudit({});
    assert.ok(
      audit.items.some((e) => e.subject === h.who('analyst', 'analyst') && e.status === 201),
      JSON.stringify(audit.items.slice(0, 3)),
    );
  });
});

describe('suppression rules (issue 8)', () => {
  it('a rule created over HTTP applies at once: the responder suppresses the finding it matches (no block) and the rule counts it', async (t) => {
    const h = await served(t);
    const scan = findingFixture({ id: 'scan-1', entity: { addr: '198.51.100.23' }, detector: 'portscan.vertical', severity: 'critical' });
    const created = await h.call(
      'POST',
      '/v1/suppressions',
      { detector: 'portscan.vertical', entity: '198.51.100.0/24', duration: '7d', reason: 'our vulnerability scanner' },
      { 'x-floe-user': 'alice' },
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body.id);
    assert.match(id, /^sup-[0-9a-f]{32}$/);
    assert.deepEqual(created.body, {
      id,
      detector: 'portscan.vertical',
      entity: '198.51.100.0/24',
      expiresAt: new Date(T0 + 7 * 24 * HOUR).toISOString(),
      reason: 'our vulnerability scanner',
      createdBy: h.who('alice'),
      createdAt: new Date(T0).toISOString(),
      suppressed: 0,
      active: true,
    });
    const o = h.responder.respond(scan, h.clock.now);
    assert.equal(o.kind, 'ignored');
    assert.deepEqual(o.kind === 'ignored' && [o.cause, o.suppression?.ruleId], ['suppressed', id]);
    // the processor's decide step marks the finding (pipeline tests drive it); here the mark directly
    await h.store.insertFindings([scan]);
    await h.store.markSuppressed([{ findingId: scan.id, ruleId: id, at: T0 + 5 }]);
    const list = await h.call('GET', '/v1/suppressions');
    assert.deepEqual(
      list.body.items?.map((r) => [r.id, r.suppressed, r.lastMatchAt]),
      [[id, 1, new Date(T0 + 5).toISOString()]],
    );
    const f = (await h.call('GET', '/v1/findings?suppressed=true')).body.items?.[0];
    assert.deepEqual(f?.suppression, { ruleId: id, at: new Date(T0 + 5).toISOString() });

    // another entity, another detector: not suppressed
    assert.equal(h.responder.respond(findingFixture({ id: 'scan-2', entity: { addr: '198.51.101.23' }, severity: 'critical' }), h.clock.now).kind, 'decision');

    // expired: listed as inactive, no longer applied
    h.clock.now = T0 + 8 * 24 * HOUR;
    assert.deepEqual(
      (await h.call('GET', '/v1/suppressions?active=false')).body.items?.map((r) => r.active),
      [false],
    );
    assert.equal((await h.call('GET', '/v1/suppressions?active=true')).body.total, 0);
    assert.equal(h.responder.respond({ ...scan, id: 'scan-3' }, h.clock.now).kind, 'decision', 'an expired rule suppresses nothing');

    const del = await h.call('DELETE', `/v1/suppressions/${id}`);
    assert.equal(del.status, 204);
    assert.deepEqual([(await h.call('DELETE', `/v1/suppressions/${id}`)).status], [404]);
    assert.equal((await h.call('GET', '/v1/suppressions')).body.total, 0);
  });

  it('rule bodies: at least one matcher, exactly one of expiresAt/duration, an expiry in (now, now + 365 d], a CIDR without host bits, an RFC 1123 namespace, a port 1..65535', async (t) => {
    const h = await served(t);
    const bad = [
      { duration: '1h', reason: 'no matcher' },
      { port: 22, reason: 'no expiry' },
      { port: 22, duration: '1h', expiresAt: String(T0 + HOUR), reason: 'both' },
      { port: 22, expiresAt: String(T0 - 1), reason: 'past' },
      { port: 22, expiresAt: String(T0 + 366 * 24 * HOUR), reason: 'too far' },
      { port: 22, duration: '366d', reason: 'too long' },
      { entity: '10.0.0.5/24', duration: '1h', reason: 'host bits' },
      { namespace: 'Kube_System', duration: '1h', reason: 'not a label' },
      { port: 0, duration: '1h', reason: 'port' },
      { port: 65_536, duration: '1h', reason: 'port' },
      { port: '22', duration: '1h', reason: 'port as text' },
      { port: 22, duration: '1h' },
      { port: 22, duration: '1h', reason: 'x', id: 'sup-mine' },
    ];
    for (const body of bad) {
      const r = await h.call('POST', '/v1/suppressions', body);
      assert.deepEqual([r.status, r.body.code], [400, 'FLOE_API_BAD_REQUEST'], JSON.stringify(body));
    }
    assert.equal((await h.call('GET', '/v1/suppressions')).body.total, 0);
    const ok = await h.call('POST', '/v1/suppressions', { namespace: 'kube-system', port: 53, expiresAt: '2025-03-02T12:00:00Z', reason: 'kube-dns' });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.expiresAt, new Date(T0 + 24 * HOUR).toISOString());
  });
});

describe('never-block list at run time (issue 8)', () => {
  it('an entry added over HTTP wins at once over new blocks, extensions and the responder; listed with the policy entries; removed again', async (t) => {
    const h = await served(t, { responder: { neverBlock: ['10.96.0.1/32'] } });
    // an active block of the prefix that will be protected, and one of the address itself
    assert.equal((await h.call('POST', '/v1/decisions', { target: '10.20.0.0/24', reason: 'noisy subnet', duration: '1h' })).status, 201);
    assert.equal((await h.call('POST', '/v1/decisions', { target: '10.30.0.7', reason: 'scanner', duration: '1h' })).status, 201);

    const add = await h.call('POST', '/v1/never-block', { cidr: '10.20.0.5', reason: 'backup server' }, { 'x-floe-user': 'root-admin' });
    assert.equal(add.status, 201, JSON.stringify(add.body));
    assert.deepEqual(add.body, { cidr: '10.20.0.5/32', source: 'api', reason: 'backup server', createdBy: h.who('root-admin'), createdAt: new Date(T0).toISOString() });
    assert.equal((await h.call('POST', '/v1/never-block', { cidr: '10.30.0.7/32', reason: 'partner' })).status, 201);
    assert.equal((await h.call('POST', '/v1/never-block', { cidr: '10.30.0.7', reason: 'partner (renamed)' })).status, 200, 'replaced');

    const list = await h.call('GET', '/v1/never-block');
    assert.deepEqual(
      list.body.items?.map((e) => [e.cidr, e.source, e.reason]),
      [
        ['10.96.0.1/32', 'policy', 'policy respond.neverBlock'],
        ['10.20.0.5/32', 'api', 'backup server'],
        ['10.30.0.7/32', 'api', 'partner (renamed)'],
      ],
    );
    // the protected set the responder and the enforcer share now names it
    assert.equal(h.guard.admit('10.20.0.0/24').outcome, 'split');
    assert.equal(h.guard.admit('10.30.0.7/32').outcome, 'held');

    // new blocks and extensions are refused, with the entry's label
    const block = await h.call('POST', '/v1/decisions', { target: '10.20.0.5', reason: 'x', duration: '1h' });
    assert.deepEqual([block.status, block.body.code], [422, 'FLOE_RESPOND_NEVER_BLOCK']);
    assert.match(String(block.body.detail), new RegExp(`never-block list \\(added at run time by ${h.who('root-admin')}: backup server\\)`));
    const ext = await h.call('PATCH', '/v1/decisions/10.30.0.7', { duration: '4h' });
    assert.deepEqual([ext.status, ext.body.code], [422, 'FLOE_RESPOND_NEVER_BLOCK']);
    const det = h.responder.respond(findingFixture({ id: 'f-z', entity: { addr: '10.30.0.7' }, severity: 'critical' }), h.clock.now);
    assert.deepEqual([det.kind, det.kind === 'refused' && det.cause], ['refused', 'never-block']);

    // the policy's entries are not removable here; the run-time ones are
    assert.equal((await h.call('DELETE', '/v1/never-block/10.96.0.1%2F32')).status, 404);
    assert.equal((await h.call('DELETE', '/v1/never-block/10.20.0.5%2F32')).status, 204);
    assert.equal(h.guard.admit('10.20.0.0/24').outcome, 'ok', 'applied at once');
    assert.equal((await h.call('DELETE', '/v1/never-block/10.20.0.5%2F32')).status, 404);
    for (const body of [{ cidr: '10.0.0.5/24', reason: 'x' }, { cidr: 'db.internal', reason: 'x' }, { cidr: '10.0.0.5' }, { cidr: '10.0.0.5', reason: 'x', by: 'me' }]) {
      const r = await h.call('POST', '/v1/never-block', body);
      assert.deepEqual([r.status, r.body.code], [400, 'FLOE_API_BAD_REQUEST'], JSON.stringify(body));
    }
  });
});

describe('decision extend (issue 8)', () => {
  it('PATCH /v1/decisions/:target: extends an active block through the responder (audited); not later = 409 with the kept block; none = 404', async (t) => {
    const h = await served(t);
    assert.equal((await h.call('POST', '/v1/decisions', { target: '203.0.113.7', reason: 'scanner', duration: '1h' })).status, 201);
    h.clock.now = T0 + 10 * 60_000;
    const ext = await h.call('PATCH', '/v1/decisions/203.0.113.7%2F32', { duration: '4h', reason: 'still scanning' }, { 'x-floe-user': 'carol' });
    assert.equal(ext.status, 200, JSON.stringify(ext.body));
    assert.deepEqual(
      [ext.body.expiresAt, ext.body.createdAt, ext.body.updatedAt, ext.body.origin],
      [new Date(h.clock.now + 4 * HOUR).toISOString(), new Date(T0).toISOString(), new Date(h.clock.now).toISOString(), `api:${h.who('carol')}`],
    );
    assert.match(String(ext.body.reason), /still scanning/);
    const audit = await h.store.queryAudit({ target: '203.0.113.7/32' });
    assert.deepEqual(
      audit.map((a) => a.change),
      ['extend', 'create'],
    );
    // by an absolute time
    const at = await h.call('PATCH', '/v1/decisions/203.0.113.7', { expiresAt: new Date(h.clock.now + 24 * HOUR).toISOString() });
    assert.deepEqual([at.status, at.body.expiresAt], [200, new Date(h.clock.now + 24 * HOUR).toISOString()]);
    assert.match(String(at.body.reason), /extended by anonymous/);
    // not later: kept
    const shorter = await h.call('PATCH', '/v1/decisions/203.0.113.7', { duration: '1h' });
    assert.deepEqual(
      [shorter.status, shorter.body.code, (shorter.body.decision as { expiresAt?: string }).expiresAt],
      [409, 'FLOE_RESPOND_ALREADY_BLOCKED', new Date(h.clock.now + 24 * HOUR).toISOString()],
    );
    // no active block
    const none = await h.call('PATCH', '/v1/decisions/203.0.113.8', { duration: '1h' });
    assert.deepEqual([none.status, none.body.code], [404, 'FLOE_API_NOT_FOUND']);
    h.clock.now += 25 * HOUR;
    assert.equal((await h.call('PATCH', '/v1/decisions/203.0.113.7', { duration: '1h' })).status, 404, 'an expired block is not extended');
    for (const body of [{}, { duration: '1h', expiresAt: String(h.clock.now + HOUR) }, { duration: 0 }, { duration: '1h', target: '203.0.113.9' }]) {
      const r = await h.call('PATCH', '/v1/decisions/203.0.113.7', body);
      assert.deepEqual([r.status, r.body.code], [400, 'FLOE_API_BAD_REQUEST'], JSON.stringify(body));
    }
  });

  it('PATCH /v1/decisions/:target of an active dry-run block (the real responder in dry-run) is 409 FLOE_API_DRY_RUN_BLOCK and changes nothing; no block stays 404', async (t) => {
    const h = await served(t, { responder: { dryRun: true } });
    const made = await h.call('POST', '/v1/decisions', { target: '203.0.113.7', reason: 'scanner', duration: '1h' });
    assert.deepEqual([made.status, made.body.dryRun], [201, true], JSON.stringify(made.body));
    const listed = await h.call('GET', '/v1/decisions?active=true');
    assert.deepEqual(
      listed.body.items?.map((d) => [d.target, d.dryRun]),
      [['203.0.113.7/32', true]],
      'listed as active',
    );
    h.clock.now = T0 + 10 * 60_000;
    const ext = await h.call('PATCH', '/v1/decisions/203.0.113.7', { duration: '4h' });
    assert.deepEqual([ext.status, ext.body.code], [409, 'FLOE_API_DRY_RUN_BLOCK'], JSON.stringify(ext.body));
    assert.match(ext.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.match(String(ext.body.detail), /203\.0\.113\.7\/32 is a dry-run decision .* cannot be extended; it ends at 2025-03-01T13:00:00\.000Z/);
    const stored = await h.store.getDecision('203.0.113.7/32');
    assert.deepEqual([stored?.expiresAt, stored?.updatedAt], [T0 + HOUR, T0], 'the block is unchanged');
    assert.deepEqual(
      (await h.store.queryAudit({ target: '203.0.113.7/32' })).map((a) => a.change),
      ['create'],
    );
    const none = await h.call('PATCH', '/v1/decisions/203.0.113.8', { duration: '1h' });
    assert.deepEqual([none.status, none.body.code], [404, 'FLOE_API_NOT_FOUND'], 'no block at all');
    h.clock.now = T0 + 2 * HOUR;
    const expired = await h.call('PATCH', '/v1/decisions/203.0.113.7', { duration: '1h' });
    assert.deepEqual([expired.status, expired.body.code], [404, 'FLOE_API_NOT_FOUND'], 'an expired dry-run block');
  });
});
