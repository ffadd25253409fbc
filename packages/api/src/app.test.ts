import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import type { Decision } from '@floe/flow';
import type { Store } from '@floe/store';
import { decisionFixture, findingFixture } from '@floe/store/contract';
import { Counter } from 'prom-client';
import { startApi } from './app.js';
import { problem } from './errors.js';
import { decisionOut, findingOut } from './times.js';
import { tokenMatches } from './auth.js';
import { harness, T0 } from './test-harness.js';

const NEVER_BLOCK = '10.96.0.1/32';

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
    assert.deepEqual(full.json(), {
      items: [{ ...findingOut(findingFixture({ id: 'b', lastSeen: T0 - 2000, severity: 'high', detector: 'bruteforce.ssh', entity: { addr: '10.0.0.7' } })), state: 'open' }],
      total: 1,
    });
  });

  it('GET /v1/findings and /v1/decisions: ?namespace=, ?pod=, ?workload= (issue 9); a name Kubernetes would refuse is a 400', async (t) => {
    const h = await harness(t);
    await h.store.insertFindings([
      findingFixture({ id: 'k1', entity: { addr: '10.244.1.17', namespace: 'shop', pod: 'web-5d8f7c6b9-x2x7q', workload: 'web' } }),
      findingFixture({ id: 'k2', entity: { addr: '10.244.1.17', namespace: 'payments', pod: 'batch-x', workload: 'batch' } }),
    ]);
    await h.store.upsertDecision(decisionFixture({ target: '10.244.1.17/32', origin: 'k1' }), { at: T0, target: '10.244.1.17/32', change: 'create', origin: 'k1', reason: 'test' });
    const get = async (url: string) => {
      const r = await h.app.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 200, r.body);
      return (r.json() as { items: Array<{ id?: string; target?: string }> }).items.map((x) => x.id ?? x.target);
    };
    assert.deepEqual(await get('/v1/findings?namespace=shop'), ['k1']);
    assert.deepEqual(await get('/v1/findings?workload=batch'), ['k2']);
    assert.deepEqual(await get('/v1/findings?pod=web-5d8f7c6b9-x2x7q&namespace=shop'), ['k1']);
    assert.deepEqual(await get('/v1/decisions?workload=web'), ['10.244.1.17/32']);
    assert.deepEqual(await get('/v1/decisions?namespace=payments'), []);
    for (const qs of ['namespace=Shop', 'namespace=a%27b', `namespace=${'a'.repeat(64)}`, 'workload=-x', 'pod=']) {
      const r = await h.app.inject({ method: 'GET', url: `/v1/findings?${qs}` });
      assert.equal(r.statusCode, 400, qs);
    }
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
    for (const qs of [
      'limit=0',
      'limit=1001',
      'limit=abc',
      'from=yesterday',
      'to=2025-13-45T00:00:00Z',
      'to=2025-02-30',
      'from=2025-03-01T24:00',
      'from=2025-03-01T12:00%2B25:00',
      'minSeverity=urgent',
    ]) {
      const r = await h.app.inject({ method: 'GET', url: `/v1/findings?${qs}` });
      assert.equal(r.statusCode, 400, qs);
      assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST', qs);
    }
    for (const qs of ['limit=1', 'limit=1000']) assert.equal((await h.app.inject({ method: 'GET', url: `/v1/findings?${qs}` })).statusCode, 200, qs);
    const bad = await h.app.inject({ method: 'GET', url: '/v1/findings?cursor=Zm9v' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'FLOE_STORE_BAD_CURSOR');
    for (const qs of ['limit=1.5', 'limit=%2B5', 'limit=1e2', 'limit=0x10', 'limit=%205', 'limit=', 'limit=1&limit=2']) {
      const r = await h.app.inject({ method: 'GET', url: `/v1/findings?${qs}` });
      assert.equal(r.statusCode, 400, `${qs}: ${r.body}`);
      assert.match(r.json().detail, /querystring\/limit/, qs);
    }
  });

  // Issue 6: a cursor holding a number out of range answered 500.
  it("GET /v1/findings and /v1/decisions: a cursor with an out-of-range time, garbage or another route's cursor is a 400 (issue 6)", async (t) => {
    const h = await harness(t);
    await seedFindings(h.store);
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    for (const path of ['/v1/findings', '/v1/decisions']) {
      const kind = path === '/v1/findings' ? 'f' : 'd';
      for (const cursor of [
        enc({ t: kind, s: 1e300, k: 'x' }),
        enc({ t: kind, s: 9.3e18, k: 'x' }),
        enc({ t: kind, s: -1e20, k: 'x' }),
        enc({ t: kind, s: 0.5, k: 'x' }),
        enc({ t: kind === 'f' ? 'd' : 'f', s: 1, k: 'x' }),
        enc({}),
        'AAAA',
        '_-_-',
        'x'.repeat(512),
      ]) {
        const r = await h.app.inject({ method: 'GET', url: path, query: { cursor } });
        assert.equal(r.statusCode, 400, `${path} ${cursor}: ${r.body}`);
        assert.equal(r.json().code, 'FLOE_STORE_BAD_CURSOR');
      }
      for (const cursor of ['x'.repeat(513), 'a+b', 'a/b', 'a=']) {
        const r = await h.app.inject({ method: 'GET', url: path, query: { cursor } });
        assert.equal(r.statusCode, 400, `${path} ${cursor}: ${r.body}`);
        assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST');
      }
    }
  });

  // Issue 6: ?entity= was matched as typed while ?target= was normalised.
  it('GET /v1/findings: ?entity= is normalised like ?target= (RFC 5952, IPv4-mapped → IPv4); a non-address is a 400', async (t) => {
    const h = await harness(t);
    await h.store.insertFindings([findingFixture({ id: 'v6', entity: { addr: '2001:db8::7' } }), findingFixture({ id: 'v4', entity: { addr: '198.51.100.7' } })]);
    const ids = async (entity: string) => {
      const r = await h.app.inject({ method: 'GET', url: '/v1/findings', query: { entity } });
      assert.equal(r.statusCode, 200, `${entity}: ${r.body}`);
      return (r.json() as { items: Array<{ id: string }> }).items.map((f) => f.id);
    };
    for (const e of ['2001:DB8::7', '2001:db8:0:0:0:0:0:7', '2001:0db8::0007']) assert.deepEqual(await ids(e), ['v6'], e);
    for (const e of ['198.51.100.7', '::ffff:198.51.100.7', '::FFFF:c633:6407']) assert.deepEqual(await ids(e), ['v4'], e);
    for (const e of ['198.51.100.07', 'host.example', '198.51.100.0/24', '::1%lo', ' 198.51.100.7']) {
      const r = await h.app.inject({ method: 'GET', url: '/v1/findings', query: { entity: e } });
      assert.equal(r.statusCode, 400, `${e}: ${r.body}`);
      assert.match(r.json().detail, /querystring\/entity must be an IPv4\/IPv6 address/);
    }
  });

  it('POST /v1/decisions: 201 created through the real responder: duration text, user header, target normalised, stored and audited', async (t) => {
    const h = await harness(t);
    const r = await h.app.inject({
      method: 'POST',
      url: '/v1/decisions',
      headers: { 'x-floe-user': 'alice' },
      payload: { target: '203.0.113.7', duration: '4h', reason: 'scanner' },
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.headers['floe-block'], 'created');
    const d = r.json() as ReturnType<typeof decisionOut>;
    assert.equal(d.target, '203.0.113.7/32');
    assert.equal(d.durationMs, 4 * 3_600_000);
    assert.equal(d.expiresAt, new Date(T0 + 4 * 3_600_000).toISOString(), 'RFC 3339 out');
    assert.equal(d.origin, 'api:anonymous', 'x-floe-user names nobody: the (anonymous, open) caller does');
    assert.equal(d.reason, 'manual block by anonymous: scanner');
    assert.deepEqual(decisionOut((await h.store.getDecision('203.0.113.7/32'))!), d);
    assert.deepEqual(
      (await h.store.queryAudit({ target: '203.0.113.7/32' })).map((a) => a.change),
      ['create'],
    );
    const r2 = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '::ffff:198.51.100.0/120', duration: 60000, reason: 'x' } });
    assert.equal(r2.statusCode, 201, r2.body);
    assert.equal(r2.json().target, '198.51.100.0/24');
    assert.equal(r2.json().durationMs, 60_000);
    assert.equal(r2.json().origin, 'api:anonymous');
    const r3 = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '2001:DB8:0:0::/64', reason: 'y' } });
    assert.equal(r3.statusCode, 201, r3.body);
    assert.equal(r3.json().target, '2001:db8::/64');
    assert.equal(r3.json().durationMs, 3_600_000, 'absent duration: the responder default (first escalation step)');
  });

  it('POST /v1/decisions: 400 for bad CIDR, host bits, bad duration, empty reason, bad user; nothing stored', async (t) => {
    const h = await harness(t);
    const cases: Array<[object, Record<string, string>?]> = [
      [{ target: '300.1.1.1', reason: 'r' }],
      [{ target: '10.0.0.5/24', reason: 'r' }],
      [{ target: '10.0.0.0/33', reason: 'r' }],
      [{ target: 'fe80::1%eth0', reason: 'r' }],
      [{ target: '10.0.0.1', duration: '1y', reason: 'r' }],
      [{ target: '10.0.0.1', duration: '366d', reason: 'r' }],
      [{ target: '10.0.0.1', duration: 0, reason: 'r' }],
      [{ target: '10.0.0.1', duration: -5, reason: 'r' }],
      [{ target: '10.0.0.1', duration: 1.5, reason: 'r' }],
      [{ target: '10.0.0.1', duration: 365 * 86_400_000 + 1, reason: 'r' }],
      [{ target: '10.0.0.1', reason: '' }],
      [{ target: '10.0.0.1', reason: 'r' }, { 'x-floe-user': 'bad user!' }],
    ];
    for (const [payload, headers] of cases) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload, headers });
      assert.equal(r.statusCode, 400, `${JSON.stringify(payload)} ${r.body}`);
      assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST');
    }
    assert.equal((await h.store.queryDecisions({})).total, 0);
  });

  // Issue 6: fastify coerced body types, so `"duration": true` made a 1 ms block and
  // `"target": ["…"]` or `"reason": 5` were accepted.
  it('POST /v1/decisions: a wrong JSON type is a 400 naming the field, never coerced (issue 6)', async (t) => {
    const h = await harness(t);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ target: '203.0.113.7', duration: true, reason: 'r' }, /body\/duration must be integer,string/],
      [{ target: '203.0.113.7', duration: false, reason: 'r' }, /body\/duration/],
      [{ target: '203.0.113.7', duration: null, reason: 'r' }, /body\/duration/],
      [{ target: '203.0.113.7', duration: [60000], reason: 'r' }, /body\/duration/],
      [{ target: '203.0.113.7', duration: { ms: 1 }, reason: 'r' }, /body\/duration/],
      [{ target: ['203.0.113.7'], reason: 'r' }, /body\/target must be string/],
      [{ target: 203, reason: 'r' }, /body\/target must be string/],
      [{ target: null, reason: 'r' }, /body\/target must be string/],
      [{ target: '203.0.113.7', reason: 5 }, /body\/reason must be string/],
      [{ target: '203.0.113.7', reason: true }, /body\/reason must be string/],
      [{ target: '203.0.113.7', reason: ['r'] }, /body\/reason must be string/],
    ];
    for (const [payload, msg] of cases) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload });
      assert.equal(r.statusCode, 400, `${JSON.stringify(payload)} ${r.body}`);
      assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST');
      assert.match(r.json().detail, msg, JSON.stringify(payload));
    }
    for (const body of ['[]', '"203.0.113.7"', '5', 'null', 'true']) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: body, headers: { 'content-type': 'application/json' } });
      assert.equal(r.statusCode, 400, `${body} ${r.body}`);
      assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST');
    }
    assert.equal((await h.store.queryDecisions({})).total, 0);
  });

  it('POST /v1/decisions: 415 for a body that is not JSON, 400 for malformed or empty JSON (README)', async (t) => {
    const h = await harness(t);
    const json = JSON.stringify({ target: '203.0.113.7', reason: 'r' });
    for (const [type, payload] of [
      ['text/plain', json],
      ['text/plain; charset=utf-8', json],
      ['application/x-www-form-urlencoded', 'target=203.0.113.7&reason=r'],
      ['multipart/form-data; boundary=x', '--x\r\n'],
      ['application/xml', '<target/>'],
      ['application/octet-stream', json],
      ['application/jsonx', json],
    ] as const) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload, headers: { 'content-type': type } });
      assert.equal(r.statusCode, 415, `${type}: ${r.body}`);
      assert.equal(r.json().code, 'FLOE_API_UNSUPPORTED_MEDIA_TYPE', type);
    }
    const none = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: json, headers: { 'content-type': '' } });
    assert.equal(none.statusCode, 415, none.body);
    for (const payload of ['{"target":', '{target: "x"}', "{'target':'x'}", '{"target":"203.0.113.7","reason":"r"}x', '\u0000']) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload, headers: { 'content-type': 'application/json' } });
      assert.equal(r.statusCode, 400, `${payload}: ${r.body}`);
      assert.equal(r.json().code, 'FLOE_API_BAD_REQUEST');
    }
    const empty = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: '', headers: { 'content-type': 'application/json' } });
    assert.equal(empty.statusCode, 400, empty.body);
    const ok = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: json, headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal((await h.store.queryDecisions({})).total, 1);
  });

  // Issue 6: a shorter re-block of an active block answered 500 (FLOE_RESPOND_REFUSED was in no catalogue).
  it('POST /v1/decisions re-block: a later end extends (200, floe-block: extended); a shorter or equal one keeps the block (409 with it), never 500', async (t) => {
    const h = await harness(t);
    const post = (duration: string) =>
      h.app.inject({ method: 'POST', url: '/v1/decisions', headers: { 'x-floe-user': 'soc' }, payload: { target: '203.0.113.7', duration, reason: 'again' } });
    const first = await post('2h');
    assert.equal(first.statusCode, 201, first.body);
    h.clock.now = T0 + 30 * 60_000;
    // ends at T0 + 1.5 h + … : 1 h from now ends before the 2 h block → kept
    for (const duration of ['1h', '90m']) {
      const kept = await post(duration);
      assert.equal(kept.statusCode, 409, `${duration}: ${kept.body}`);
      const body = kept.json();
      assert.equal(body.code, 'FLOE_RESPOND_ALREADY_BLOCKED');
      assert.match(body.detail, /already blocked until 2025-03-01T14:00:00\.000Z/);
      assert.deepEqual(body.decision, first.json(), 'the 409 carries the decision that stands');
    }
    assert.deepEqual(decisionOut((await h.store.getDecision('203.0.113.7/32'))!), first.json(), 'a kept block is unchanged in the store');
    const longer = await post('3h');
    assert.equal(longer.statusCode, 200, longer.body);
    assert.equal(longer.headers['floe-block'], 'extended');
    const ext = longer.json() as ReturnType<typeof decisionOut>;
    assert.equal(ext.expiresAt, new Date(T0 + 30 * 60_000 + 3 * 3_600_000).toISOString());
    assert.equal(ext.createdAt, new Date(T0).toISOString());
    assert.equal(ext.updatedAt, new Date(T0 + 30 * 60_000).toISOString());
    assert.deepEqual(decisionOut((await h.store.getDecision('203.0.113.7/32'))!), ext);
    assert.deepEqual((await h.store.queryAudit({ target: '203.0.113.7/32' })).map((a) => a.change).sort(), ['create', 'extend']);
    // After it expires, a block is new again: 201.
    h.clock.now = Date.parse(ext.expiresAt);
    const again = await post('1h');
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(again.json().count, 2, 'a repeat within the escalation window is the next step');
  });

  it('POST /v1/decisions re-block of a block another process stored (not seeded at start): kept (409) or extended (200), never shortened', async (t) => {
    const h = await harness(t);
    // as a processor in another process would: stored after this API's responder started
    const other = decisionFixture({
      target: '203.0.113.50/32',
      createdAt: T0 - 60_000,
      updatedAt: T0 - 60_000,
      durationMs: 4 * 3_600_000,
      expiresAt: T0 - 60_000 + 4 * 3_600_000,
      origin: 'portscan:abc',
      dryRun: false,
    });
    await h.store.upsertDecision(other, { at: other.updatedAt, target: other.target, change: 'create', origin: other.origin, reason: other.reason, decision: other });
    const kept = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '203.0.113.50', duration: '1h', reason: 'r' } });
    assert.equal(kept.statusCode, 409, kept.body);
    assert.deepEqual(kept.json().decision, decisionOut(other));
    assert.deepEqual(await h.store.getDecision(other.target), other, 'not shortened');
    const ext = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '203.0.113.50', duration: '1d', reason: 'r' } });
    assert.equal(ext.statusCode, 200, ext.body);
    assert.equal(ext.json().createdAt, new Date(other.createdAt).toISOString());
    assert.equal(ext.json().expiresAt, new Date(T0 + 86_400_000).toISOString());
    // a stored dry-run decision (a demo replay) does not stand for a block: a new one is made
    const dry = decisionFixture({ target: '203.0.113.51/32', updatedAt: T0, createdAt: T0, durationMs: 86_400_000, expiresAt: T0 + 86_400_000, dryRun: true });
    await h.store.upsertDecision(dry, { at: T0, target: dry.target, change: 'create', origin: dry.origin, reason: dry.reason, decision: dry });
    const fresh = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '203.0.113.51', duration: '1h', reason: 'r' } });
    assert.equal(fresh.statusCode, 201, fresh.body);
    assert.equal(fresh.json().dryRun, false);
  });

  it('POST /v1/decisions: the never-block list wins: 422 FLOE_RESPOND_NEVER_BLOCK, the refusal audited, nothing blocked', async (t) => {
    const h = await harness(t, { responder: { neverBlock: [NEVER_BLOCK, '192.0.2.0/24'] } });
    for (const target of [NEVER_BLOCK, '192.0.2.7', '192.0.0.0/16']) {
      const r = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target, reason: 'r' } });
      assert.equal(r.statusCode, 422, `${target}: ${r.body}`);
      assert.equal(r.json().code, 'FLOE_RESPOND_NEVER_BLOCK');
      assert.match(r.json().detail, /refused: .* overlaps .*\(respond\.neverBlock\[\d\]\)/);
    }
    assert.equal((await h.store.queryDecisions({})).total, 0);
    assert.deepEqual(
      (await h.store.queryAudit({ target: NEVER_BLOCK })).map((a) => a.change),
      ['refuse'],
    );
  });

  it('POST /v1/decisions: control bytes and ESC sequences in the reason are stored escaped', async (t) => {
    const h = await harness(t);
    const r = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '203.0.113.9', reason: 'red \u001b[31mALERT\u001b[0m\r\nfake line \u009b2J \u202e' } });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().reason, 'manual block by anonymous: red \\x1b[31mALERT\\x1b[0m\\r\\nfake line \\u{9b}2J \\u{202e}');
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(JSON.stringify((await h.store.queryAudit({ target: '203.0.113.9/32' }))[0]), /[\u0000-\u001f\u007f-\u009f\u202e]/);
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
    assert.deepEqual(
      p2.items.map((d: Decision) => d.target),
      ['192.0.2.1/32'],
    );
    assert.equal(p2.next, undefined);
    assert.deepEqual(p2.items[0], decisionOut(ds[0]));
    for (const qs of ['active=maybe', 'active=1', 'active=TRUE', 'active=', 'active=true&active=false']) {
      const bad = await h.app.inject({ method: 'GET', url: `/v1/decisions?${qs}` });
      assert.equal(bad.statusCode, 400, qs);
    }
    assert.deepEqual(await targets(`target=${encodeURIComponent('::ffff:192.0.2.2')}`), ['192.0.2.2/32']);
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
    assert.equal((await h.store.queryAudit({ target: '198.51.100.0/24' }))[0].origin, 'api:anonymous', 'the x-floe-user header names nobody');
    const again = await h.app.inject({ method: 'DELETE', url });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().code, 'FLOE_API_NOT_FOUND');
    const bad = await h.app.inject({ method: 'DELETE', url: `/v1/decisions/${encodeURIComponent('198.51.100.1/24')}` });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'FLOE_API_BAD_REQUEST');
  });

  it('probe: error messages echo input escaped and cut to 400 characters (DELETE and GET with terminal escapes, bidi, a 10 kB path)', async (t) => {
    const h = await harness(t);
    const raw = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/;
    for (const target of ['%1b%5b31m' + 'x'.repeat(120), '%e2%80%ae1.2.3.4', '%c2%9b2J', 'a'.repeat(10_000), '%1b'.repeat(3000)]) {
      for (const req of [
        { method: 'DELETE' as const, url: `/v1/decisions/${target}` },
        { method: 'GET' as const, url: `/v1/decisions?target=${target}` },
        { method: 'GET' as const, url: `/v1/findings?cursor=${target}` },
        { method: 'POST' as const, url: '/v1/decisions', payload: { target: decodeURIComponent(target), reason: 'r' } },
      ]) {
        const r = await h.app.inject(req);
        assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${req.method} ${req.url.slice(0, 60)}: ${r.statusCode}`);
        const { detail: message } = r.json() as { detail: string };
        assert.doesNotMatch(message, raw, `${req.method} ${req.url.slice(0, 60)}`);
        assert.ok(message.length <= 400, `${req.method} ${req.url.slice(0, 60)}: ${message.length} chars`);
      }
    }
    // the request log ("incoming request") holds the URL escaped and cut to 200 characters
    const r = await h.app.inject({ method: 'GET', url: `/v1/decisions/\u009b2J\u202e${'y'.repeat(5000)}` });
    assert.equal(r.statusCode, 404);
    const urls = h.logs.flatMap((l) => ((l.req as { url?: string } | undefined)?.url !== undefined ? [(l.req as { url: string }).url] : []));
    assert.ok(urls.length > 0, 'requests are logged');
    for (const u of urls) {
      assert.doesNotMatch(u, raw);
      assert.ok(u.length <= 260, `${u.length} chars`);
    }
    assert.ok(
      urls.some((u) => u.startsWith('/v1/decisions/%C2%9B2J%E2%80%AEyyy') && u.endsWith('…')),
      urls.at(-1),
    );
  });

  it('unknown route: 404 FLOE_API_NOT_FOUND; an unexpected error: 500 FLOE_API_INTERNAL without details, logged once', async (t) => {
    const h = await harness(t);
    const r = await h.app.inject({ method: 'GET', url: '/v2/nothing' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().code, 'FLOE_API_NOT_FOUND');
    // A real failure no catalogue entry covers: the bus is gone when the decision is published.
    await h.bus.stop();
    const crash = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '203.0.113.7', reason: 'r' } });
    assert.equal(crash.statusCode, 500);
    assert.deepEqual(crash.json(), { ...problem('FLOE_API_INTERNAL', 'internal error'), instance: '/v1/decisions' });
    assert.match(String(crash.headers['content-type']), /^application\/problem\+json/);
    const logged = h.logs.filter((l) => l.level >= 50);
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.equal(logged[0].msg, 'request failed: unexpected error');
    assert.match(JSON.stringify(logged[0].err), /FLOE_BUS_STOPPED/);
  });

  it('a catalogued domain error keeps its code and status: store stopped → 503 FLOE_STORE_NOT_STARTED', async (t) => {
    const h = await harness(t);
    await h.store.stop();
    const r = await h.app.inject({ method: 'GET', url: '/v1/findings' });
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(r.json().code, 'FLOE_STORE_NOT_STARTED');
  });

  it('over a socket: requests node refuses (control bytes in the URL or a header, a bad request line) get a catalogued 400', async (t) => {
    const h = await harness(t);
    const port = Number(new URL(await startApi(h.app, { host: '127.0.0.1', port: 0 })).port);
    const raw = [
      'GET /v1/findings?detector=a\x1b[31m HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /v1/\x9bx HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-floe-user: a\x1bb\r\nContent-Length: 2\r\n\r\n{}',
      'NOT A REQUEST\r\n\r\n',
    ];
    for (const req of raw) {
      const res = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.end(Buffer.from(req, 'latin1')));
        let d = '';
        s.on('data', (b: Buffer) => {
          d += b.toString('utf8');
        });
        s.on('close', () => resolve(d));
        s.on('error', reject);
      });
      assert.match(res, /^HTTP\/1\.1 400 /, JSON.stringify(req));
      assert.deepEqual(JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4)), problem('FLOE_API_BAD_REQUEST', 'malformed HTTP request'));
    }
    assert.equal((await h.store.queryDecisions({})).total, 0);
  });

  it('startApi listens and returns the bound address', async (t) => {
    const h = await harness(t);
    const addr = await startApi(h.app, { host: '127.0.0.1', port: 0 });
    assert.match(addr, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${addr}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { ok: boolean }).ok, true);
  });
});

// Regression (newcomer test): unknown body fields were silently dropped, so `durationMs`
// gave a 1 h block without a word.
it('POST /v1/decisions refuses unknown fields and explains formats', async (t) => {
  const { app } = await harness(t);
  const r = await app.inject({ method: 'POST', url: '/v1/decisions', payload: { target: '198.51.100.9', durationMs: 60000, reason: 'x' } });
  assert.equal(r.statusCode, 400);
  assert.match(r.json().detail, /body has an unknown field "durationMs"/);
  const q = await app.inject({ method: 'GET', url: '/v1/findings?from=yesterday' });
  assert.equal(q.statusCode, 400);
  assert.match(q.json().detail, /querystring\/from must be a time: ms since epoch or ISO 8601/);
  const s = await app.inject({ method: 'GET', url: '/v1/findings?minSeverity=urgent' });
  assert.match(s.json().detail, /must be one of: info, low, medium, high, critical/);
  const u = await app.inject({ method: 'GET', url: '/v1/findings?limt=5' });
  assert.equal(u.statusCode, 400);
  assert.match(u.json().detail, /unknown field "limt"/);
});

describe('bearer token on the write routes', () => {
  const TOKEN = 'floe-test-token-0123456789abcdef';
  const post = (auth?: string) => ({
    method: 'POST' as const,
    url: '/v1/decisions',
    headers: { 'x-floe-user': 'soc', ...(auth === undefined ? {} : { authorization: auth }) },
    payload: { target: '198.51.100.9', duration: '10m', reason: 'manual' },
  });
  const del = (auth?: string) => ({
    method: 'DELETE' as const,
    url: `/v1/decisions/${encodeURIComponent('198.51.100.9/32')}`,
    headers: auth === undefined ? {} : { authorization: auth },
  });

  it('no token configured: POST and DELETE need no Authorization header (as before)', async (t) => {
    const h = await harness(t);
    assert.equal((await h.app.inject(post())).statusCode, 201);
    assert.equal((await h.app.inject(del())).statusCode, 204);
  });

  it('token configured: 401 FLOE_API_UNAUTHORIZED without, with a wrong or a non-Bearer credential; nothing is blocked', async (t) => {
    const h = await harness(t, { api: { token: TOKEN } });
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
    assert.equal((await h.store.queryDecisions({})).total, 0);
    // The token is checked before the body: a bad body without the token is a 401, not a 400.
    const bad = await h.app.inject({ method: 'POST', url: '/v1/decisions', payload: { nope: 1 } });
    assert.equal(bad.statusCode, 401);
    const d = await h.app.inject(del());
    assert.equal(d.statusCode, 401);
    assert.equal(d.json().code, 'FLOE_API_UNAUTHORIZED');
    const m = await h.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(m.body, /floe_api_requests_total\{method="POST",route="\/v1\/decisions",status="401"\} 9/);
  });

  it('token configured: the right token gives 201 and 204 (scheme case-insensitive) as config:api.token; reads need it too, /healthz stays open', async (t) => {
    const h = await harness(t, { api: { token: TOKEN } });
    const r = await h.app.inject(post(`Bearer ${TOKEN}`));
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().target, '198.51.100.9/32');
    assert.equal(r.json().origin, 'api:config:api.token', 'the authenticated subject, not x-floe-user: soc');
    assert.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    for (const url of ['/metrics', '/v1/findings', '/v1/decisions?active=true']) {
      assert.equal((await h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200, url);
    }
    for (const url of ['/v1/findings', '/v1/decisions?active=true', '/v1/gaps']) {
      assert.equal((await h.app.inject({ method: 'GET', url })).statusCode, 401, url);
    }
    const list = await h.app.inject({ method: 'GET', url: '/v1/decisions', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(
      list.json().items.map((x: { target: string }) => x.target),
      ['198.51.100.9/32'],
    );
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
