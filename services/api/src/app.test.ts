import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import type { Decision } from '@floe/flow';
import { createDuckDbStore, type Store } from '@floe/store';
import { decisionFixture, findingFixture } from '@floe/store/contract';
import { Counter, Registry } from 'prom-client';
import { buildApp, startApi, type ApiDeps, type ManualBlockRequest } from './app.js';
import { tokenMatches } from './auth.js';
import { API_ERRORS, DOMAIN_ERROR_STATUS } from './errors.js';

const T0 = Date.parse('2025-03-01T12:00:00Z');
const NEVER_BLOCK = '10.96.0.1/32';

/** A domain error as the responder throws it. */
class DomainError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

interface Harness {
  store: Store;
  registry: Registry;
  blocks: ManualBlockRequest[];
  app: ReturnType<typeof buildApp>;
  healthy: { ok: boolean };
}

/** The API over a real DuckDB store; block/unblock write decisions and audit rows to it. */
async function harness(t: TestContext, over: Partial<ApiDeps> = {}): Promise<Harness> {
  const store = createDuckDbStore({ path: ':memory:' });
  await store.start();
  const registry = new Registry();
  const blocks: ManualBlockRequest[] = [];
  const healthy = { ok: true };
  const app = buildApp({
    store,
    registry,
    now: () => T0,
    health: () => ({ ok: healthy.ok, store: 'duckdb', bus: healthy.ok ? 'up' : 'down' }),
    onManualBlock: async (req) => {
      if (req.target === NEVER_BLOCK) throw new DomainError('FLOE_RESPOND_NEVER_BLOCK', `${req.target} is on the never-block list`);
      blocks.push(req);
      const d = decisionFixture({ target: req.target, durationMs: req.durationMs ?? 3_600_000, updatedAt: T0, origin: `api:${req.user}`, reason: req.reason });
      await store.upsertDecision(d, { at: T0, target: d.target, change: 'create', origin: d.origin, reason: d.reason, decision: d });
      // An internal field the response schema must not let out.
      return { ...d, internal: 'not for clients' } as Decision;
    },
    onUnblock: (target, user) => store.deleteDecision(target, { at: T0, target, change: 'delete', origin: `api:${user}`, reason: 'unblock' }),
    ...over,
  });
  t.after(async () => {
    await app.close();
    await store.stop();
  });
  return { store, registry, blocks, app, healthy };
}

async function seedFindings(store: Store): Promise<void> {
  await store.insertFindings([
    findingFixture({ id: 'a', lastSeen: T0 - 3000, severity: 'low' }),
    findingFixture({ id: 'b', lastSeen: T0 - 2000, severity: 'high', detector: 'bruteforce.ssh', entity: { addr: '10.0.0.7' } }),
    findingFixture({ id: 'c', lastSeen: T0 - 1000, severity: 'critical' }),
    findingFixture({ id: 'd', lastSeen: T0, severity: 'medium' }),
    findingFixture({ id: 'e', lastSeen: T0 + 1000, severity: 'info' }),
  ]);
}

describe('api', () => {
  it('GET /healthz: 200 when ok, 503 with the same body shape when not', async (t) => {
    const h = await harness(t);
    let r = await h.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { ok: true, store: 'duckdb', bus: 'up' });
    h.healthy.ok = false;
    r = await h.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(r.statusCode, 503);
    assert.deepEqual(r.json(), { ok: false, store: 'duckdb', bus: 'down' });
  });

  it('GET /metrics: Prometheus text with a registered metric and the request counter', async (t) => {
    const h = await harness(t);
    new Counter({ name: 'floe_test_things_total', help: 'things', registers: [h.registry] }).inc(3);
    await h.app.inject({ method: 'GET', url: '/healthz' });
    const r = await h.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.match(r.body, /^floe_test_things_total 3$/m);
    assert.match(r.body, /^floe_api_requests_total\{method="GET",route="\/healthz",status="200"\} 1$/m);
  });

  it('GET /v1/findings: filters by detector, entity, minSeverity, ISO and ms times', async (t) => {
    const h = await harness(t);
    await seedFindings(h.store);
    const ids = async (qs: string) => {
      const r = await h.app.inject({ method: 'GET', url: `/v1/findings?${qs}` });
      assert.equal(r.statusCode, 200, r.body);
      return (r.json() as { items: Array<{ id: string }> }).items.map((f) => f.id);
    };
    assert.deepEqual(await ids(''), ['e', 'd', 'c', 'b', 'a']);
    assert.deepEqual(await ids('detector=bruteforce.ssh'), ['b']);
    assert.deepEqual(await ids('entity=10.0.0.7'), ['b']);
    assert.deepEqual(await ids('minSeverity=high'), ['c', 'b']);
    assert.deepEqual(await ids(`from=${new Date(T0 - 2000).toISOString()}&to=${T0}`), ['c', 'b']);
    const full = await h.app.inject({ method: 'GET', url: '/v1/findings?detector=bruteforce.ssh' });
    assert.deepEqual(full.json(), { items: [findingFixture({ id: 'b', lastSeen: T0 - 2000, severity: 'high', detector: 'bruteforce.ssh', entity: { addr: '10.0.0.7' } })], total: 1 });
  });

  it('GET /v1/findings: pages of 2 walk all 5 findings with the cursor, total on each page', async (t) => {
    const h = await harness(t);
    await seedFindings(h.store);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await h.app.inject({ method: 'GET', url: '/v1/findings', query: cursor ? { limit: '2', cursor } : { limit: '2' } });
      assert.equal(r.statusCode, 200, r.body);
      const body = r.json() as { items: Array<{ id: string }>; next?: string; total: number };
      assert.equal(body.total, 5);
      seen.push(...body.items.map((f) => f.id));
      cursor = body.next;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['e', 'd', 'c', 'b', 'a']);
  });

  it('GET /v1/findings: 400 FLOE_API_BAD_REQUEST for limit 0, 1001, abc, a bad time, a bad severity; 400 for a bad cursor', async (t) => {
    const h = await harness(t);
    for (const qs of ['limit=0', 'limit=1001', 'limit=abc', 'from=yesterday', 'to=2025-13-45T00:00:00Z', 'minSeverity=urgent']) {
      const r = await h.app.inject({ method: 'GET', url: `/v1/findings?${qs}` });
      assert.equal(r.statusCode, 400, qs);
      assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST', qs);
    }
    for (const qs of ['limit=1', 'limit=1000']) assert.equal((await h.app.inject({ method: 'GET', url: `/v1/findings?${qs}` })).statusCode, 200, qs);
    const bad = await h.app.inject({ method: 'GET', url: '/v1/findings?cursor=Zm9v' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'FLOE_STORE_BAD_CURSOR');
  });

  it('POST /v1/decisions: 201 with the decision, duration text, user header, target normalised, no unlisted field', async (t) => {
    const h = await harness(t);
    const r = await h.app.inject({ method: 'POST', url: '/v1/decisions', headers: { 'x-floe-user': 'alice' }, payload: { target: '203.0.113.7', duration: '4h', reason: 'scanner' } });
    assert.equal(r.statusCode, 201, r.body);
    const d = r.json();
    assert.equal(d.target, '203.0.113.7/32');
    assert.equal(d.durationMs, 4 * 3_600_000);
    assert.equal(d.origin, 'api:alice');
    assert.equal('internal' in d, false);
    assert.deepEqual(h.blocks, [{ target: '203.0.113.7/32', durationMs: 14_400_000, reason: 'scanner', user: 'alice' }]);
    const r2 = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '::ffff:198.51.100.0/120', duration: 60000, reason: 'x' } });
    assert.equal(r2.statusCode, 201, r2.body);
    assert.deepEqual(h.blocks[1], { target: '198.51.100.0/24', durationMs: 60_000, reason: 'x', user: 'api' });
    const r3 = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '2001:DB8:0:0::/64', reason: 'y' } });
    assert.equal(r3.statusCode, 201, r3.body);
    assert.deepEqual(h.blocks[2], { target: '2001:db8::/64', reason: 'y', user: 'api' });
  });

  it('POST /v1/decisions: 400 for bad CIDR, host bits, bad duration, empty reason, bad user; 409 never-block', async (t) => {
    const h = await harness(t);
    const cases: Array<[object, Record<string, string>?]> = [
      [{ target: '300.1.1.1', reason: 'r' }],
      [{ target: '10.0.0.5/24', reason: 'r' }],
      [{ target: '10.0.0.0/33', reason: 'r' }],
      [{ target: 'fe80::1%eth0', reason: 'r' }],
      [{ target: '10.0.0.1', duration: '1y', reason: 'r' }],
      [{ target: '10.0.0.1', duration: '366d', reason: 'r' }],
      [{ target: '10.0.0.1', duration: 0, reason: 'r' }],
      [{ target: '10.0.0.1', reason: '' }],
      [{ target: '10.0.0.1', reason: 'r' }, { 'x-floe-user': 'bad user!' }],
    ];
    for (const [payload, headers] of cases) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload, headers });
      assert.equal(r.statusCode, 400, `${JSON.stringify(payload)} ${r.body}`);
      assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST');
    }
    assert.equal(h.blocks.length, 0);
    const nb = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: NEVER_BLOCK, reason: 'r' } });
    assert.equal(nb.statusCode, 409);
    assert.equal(nb.json().code, 'FLOE_RESPOND_NEVER_BLOCK');
    const notJson = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: '<target/>', headers: { 'content-type': 'application/xml' } });
    assert.equal(notJson.statusCode, 415);
    assert.equal(notJson.json().code, 'FLOE_API_UNSUPPORTED_MEDIA_TYPE');
  });

  it('GET /v1/decisions: active=true|false at the clock, target and origin filters, paging', async (t) => {
    const h = await harness(t);
    const ds = [
      decisionFixture({ target: '192.0.2.1/32', updatedAt: T0 - 10_000, durationMs: 5000 }), // expired at T0
      decisionFixture({ target: '192.0.2.2/32', updatedAt: T0 - 5000, durationMs: 60_000, origin: 'api:alice' }),
      decisionFixture({ target: '2001:db8::/64', updatedAt: T0 - 1000, durationMs: 60_000 }),
    ];
    for (const d of ds) await h.store.upsertDecision(d, { at: d.updatedAt, target: d.target, change: 'create', origin: d.origin, reason: d.reason, decision: d });
    const targets = async (qs: string) => {
      const r = await h.app.inject({ method: 'GET', url: `/v1/decisions?${qs}` });
      assert.equal(r.statusCode, 200, r.body);
      return (r.json() as { items: Decision[] }).items.map((d) => d.target);
    };
    assert.deepEqual(await targets('active=true'), ['2001:db8::/64', '192.0.2.2/32']);
    assert.deepEqual(await targets('active=false'), ['192.0.2.1/32']);
    assert.deepEqual(await targets('origin=api:alice'), ['192.0.2.2/32']);
    assert.deepEqual(await targets(`target=${encodeURIComponent('2001:DB8::/64')}`), ['2001:db8::/64']);
    assert.deepEqual(await targets(`from=${T0 - 5000}&to=${T0}`), ['2001:db8::/64', '192.0.2.2/32']);
    const p1 = (await h.app.inject({ method: 'GET', url: '/v1/decisions?limit=2' })).json();
    assert.equal(p1.items.length, 2);
    const p2 = (await h.app.inject({ method: 'GET', url: '/v1/decisions', query: { limit: '2', cursor: p1.next } })).json();
    assert.deepEqual(p2.items.map((d: Decision) => d.target), ['192.0.2.1/32']);
    assert.equal(p2.next, undefined);
    assert.deepEqual(p2.items[0], ds[0]);
    const bad = await h.app.inject({ method: 'GET', url: '/v1/decisions?active=maybe' });
    assert.equal(bad.statusCode, 400);
  });

  it('DELETE /v1/decisions/:target: URL-encoded CIDR, 204 then 404; 400 for a bad CIDR', async (t) => {
    const h = await harness(t);
    const created = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '198.51.100.0/24', reason: 'r' } });
    assert.equal(created.statusCode, 201);
    const url = `/v1/decisions/${encodeURIComponent('198.51.100.0/24')}`;
    const del = await h.app.inject({ method: 'DELETE', url, headers: { 'x-floe-user': 'bob' } });
    assert.equal(del.statusCode, 204, del.body);
    assert.equal(del.body, '');
    assert.equal(await h.store.getDecision('198.51.100.0/24'), undefined);
    assert.equal((await h.store.queryAudit({ target: '198.51.100.0/24' }))[0].origin, 'api:bob');
    const again = await h.app.inject({ method: 'DELETE', url });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().code, 'FLOE_API_NOT_FOUND');
    const bad = await h.app.inject({ method: 'DELETE', url: `/v1/decisions/${encodeURIComponent('198.51.100.1/24')}` });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'FLOE_API_BAD_REQUEST');
  });

  it('unknown route: 404 FLOE_API_NOT_FOUND; a handler crash: 500 FLOE_API_INTERNAL without details', async (t) => {
    const h = await harness(t, { onUnblock: async () => { throw new Error('secret connection string'); } });
    const r = await h.app.inject({ method: 'GET', url: '/v2/nothing' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().code, 'FLOE_API_NOT_FOUND');
    const crash = await h.app.inject({ method: 'DELETE', url: '/v1/decisions/10.0.0.1' });
    assert.equal(crash.statusCode, 500);
    assert.deepEqual(crash.json(), { statusCode: 500, code: 'FLOE_API_INTERNAL', message: 'internal error' });
  });

  it('startApi listens and returns the bound address', async (t) => {
    const h = await harness(t);
    const addr = await startApi(h.app, { host: '127.0.0.1', port: 0 });
    assert.match(addr, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${addr}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { ok: boolean }).ok, true);
  });

  it('README.md documents every error code and documents no code that is gone', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const known = new Set([...Object.keys(API_ERRORS), ...DOMAIN_ERROR_STATUS.map(([c]) => c)]);
    for (const code of known) assert.match(readme, new RegExp(`\`${code}\``), `README lacks ${code}`);
    const documented = new Set(readme.match(/FLOE_[A-Z_]+/g) ?? []);
    for (const code of documented) assert.ok(known.has(code), `README documents unknown code ${code}`);
  });
});

// Regression (newcomer test): unknown body fields were silently dropped, so `durationMs`
// gave a 1 h block without a word.
it('POST /v1/decisions refuses unknown fields and explains formats', async (t) => {
  const { app } = await harness(t);
  const r = await app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '198.51.100.9', durationMs: 60000, reason: 'x' } });
  assert.equal(r.statusCode, 400);
  assert.match(r.json().message, /body has an unknown field "durationMs"/);
  const q = await app.inject({ method: 'GET', url: '/v1/findings?from=yesterday' });
  assert.equal(q.statusCode, 400);
  assert.match(q.json().message, /querystring\/from must be a time: ms since epoch or ISO 8601/);
  const s = await app.inject({ method: 'GET', url: '/v1/findings?minSeverity=urgent' });
  assert.match(s.json().message, /must be one of: info, low, medium, high, critical/);
  const u = await app.inject({ method: 'GET', url: '/v1/findings?limt=5' });
  assert.equal(u.statusCode, 400);
  assert.match(u.json().message, /unknown field "limt"/);
});

describe('bearer token on the write routes', () => {
  const TOKEN = 'floe-test-token-0123456789abcdef';
  const post = (auth?: string) => ({
    method: 'POST' as const, url: '/v1/decisions',
    headers: { 'x-floe-user': 'soc', ...(auth === undefined ? {} : { authorization: auth }) },
    payload: { target: '198.51.100.9', duration: '10m', reason: 'manual' },
  });
  const del = (auth?: string) => ({
    method: 'DELETE' as const, url: `/v1/decisions/${encodeURIComponent('198.51.100.9/32')}`,
    headers: auth === undefined ? {} : { authorization: auth },
  });

  it('no token configured: POST and DELETE need no Authorization header (as before)', async (t) => {
    const h = await harness(t);
    assert.equal((await h.app.inject(post())).statusCode, 201);
    assert.equal((await h.app.inject(del())).statusCode, 204);
  });

  it('token configured: 401 FLOE_API_UNAUTHORIZED without, with a wrong or a non-Bearer credential; nothing is blocked', async (t) => {
    const h = await harness(t, { token: TOKEN });
    for (const auth of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer ', `Basic ${Buffer.from(`soc:${TOKEN}`).toString('base64')}`, TOKEN]) {
      const r = await h.app.inject(post(auth));
      assert.equal(r.statusCode, 401, String(auth));
      assert.equal(r.json().code, 'FLOE_API_UNAUTHORIZED');
      assert.match(String(r.headers['www-authenticate']), /^Bearer realm="floe"/);
    }
    const wrong = await h.app.inject(post('Bearer not-the-token-at-all'));
    assert.equal(wrong.headers['www-authenticate'], 'Bearer realm="floe", error="invalid_token"');
    const missing = await h.app.inject(post());
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="floe"');
    assert.equal(h.blocks.length, 0);
    // The token is checked before the body: a bad body without the token is a 401, not a 400.
    const bad = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { nope: 1 } });
    assert.equal(bad.statusCode, 401);
    const d = await h.app.inject(del());
    assert.equal(d.statusCode, 401);
    assert.equal(d.json().code, 'FLOE_API_UNAUTHORIZED');
    const m = await h.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(m.body, /floe_api_requests_total\{method="POST",route="\/v1\/decisions",status="401"\} 9/);
  });

  it('token configured: the right token gives 201 and 204 (scheme case-insensitive); GET routes stay open', async (t) => {
    const h = await harness(t, { token: TOKEN });
    const r = await h.app.inject(post(`Bearer ${TOKEN}`));
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().target, '198.51.100.9/32');
    assert.equal(h.blocks[0].user, 'soc');
    for (const url of ['/healthz', '/metrics', '/v1/findings', '/v1/decisions?active=true']) {
      assert.equal((await h.app.inject({ method: 'GET', url })).statusCode, 200, url);
    }
    const list = await h.app.inject({ method: 'GET', url: '/v1/decisions' });
    assert.deepEqual(list.json().items.map((x: { target: string }) => x.target), ['198.51.100.9/32']);
    assert.equal((await h.app.inject(del(`bearer  ${TOKEN}`))).statusCode, 204);
    assert.equal((await h.app.inject(del(`Bearer ${TOKEN}`))).statusCode, 404);
  });

  it('tokenMatches: equal strings only, whatever the lengths', () => {
    assert.equal(tokenMatches(TOKEN, TOKEN), true);
    assert.equal(tokenMatches(`${TOKEN} `, TOKEN), false);
    assert.equal(tokenMatches('', TOKEN), false);
    assert.equal(tokenMatches(TOKEN.toUpperCase(), TOKEN), false);
  });
});
