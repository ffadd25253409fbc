/**
 * Issue 8 part 2 over real HTTP (startApi on 127.0.0.1, fetch): what nobody, a viewer, an analyst
 * and an admin may and may not do; bad, expired and revoked tokens; tokens made and revoked
 * through the API; malformed and oversized bodies; the audit of every mutating call with the
 * authenticated identity (a forged x-floe-user changes nothing); rate limits; /metrics behind a
 * token. The API runs over the real responder, decision writer, bus and DuckDB (test-harness.ts).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import { hashApiToken, makeApiToken } from './api-tokens.js';
import { startApi } from './app.js';
import type { ApiRole } from './identity.js';
import { isLoopbackAuthority, isLoopbackOrigin, type SecurityOptions } from './security.js';
import { harness, T0, type Harness } from './test-harness.js';

/** A parsed answer body (tests read fields of known routes). */
// biome-ignore lint/suspicious/noExplicitAny: answer bodies are read field by field in assertions
type Json = Record<string, any>;

interface Server {
  h: Harness;
  base: string;
  /** A token per role, stored hashed. */
  tokens: Record<ApiRole, string>;
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; type: string; headers: Headers; json: Json }>;
}

async function server(t: TestContext, security: SecurityOptions = { anonymousRole: undefined }): Promise<Server> {
  const h = await harness(t, { api: { security } });
  const tokens = {} as Record<ApiRole, string>;
  for (const role of ['viewer', 'analyst', 'admin'] as const) {
    const tok = makeApiToken({ role, name: `${role}-test`, createdBy: 'test', now: T0 });
    await h.store.insertApiToken(tok.record);
    tokens[role] = tok.text;
  }
  const base = await startApi(h.app, { host: '127.0.0.1', port: 0 });
  const call: Server['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined || opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = opts.raw ?? JSON.stringify(opts.body);
    }
    const res = await fetch(`${base}${path}`, { method, headers, body });
    const text = await res.text();
    let json: Json = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { text };
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, json };
  };
  return { h, base, tokens, call };
}

const block = (target: string) => ({ target, duration: '10m', reason: 'security test' });

describe('roles over HTTP: nobody, viewer, analyst, admin', () => {
  it('each may do what its role allows and no more; a 401 or 403 is problem+json and changes nothing', async (t) => {
    const s = await server(t);
    const who: Array<[string, string | undefined]> = [
      ['nobody', undefined],
      ['viewer', s.tokens.viewer],
      ['analyst', s.tokens.analyst],
      ['admin', s.tokens.admin],
    ];
    // expected status per caller: nobody, viewer, analyst, admin
    const matrix: Array<[string, string, (i: number) => unknown, number[]]> = [
      ['GET', '/healthz', () => undefined, [200, 200, 200, 200]],
      ['GET', '/openapi.json', () => undefined, [200, 200, 200, 200]],
      ['GET', '/metrics', () => undefined, [200, 200, 200, 200]],
      ['GET', '/v1/findings', () => undefined, [401, 200, 200, 200]],
      ['GET', '/v1/decisions?active=true', () => undefined, [401, 200, 200, 200]],
      ['GET', '/v1/gaps', () => undefined, [401, 200, 200, 200]],
      ['POST', '/v1/decisions', (i) => block(`198.51.100.${10 + i}`), [401, 403, 201, 201]],
      ['DELETE', `/v1/decisions/${encodeURIComponent('198.51.100.12/32')}`, () => undefined, [401, 403, 204, 404]],
      ['GET', '/v1/tokens', () => undefined, [401, 403, 403, 200]],
      ['POST', '/v1/tokens', () => ({ role: 'viewer', name: 'made-by-api' }), [401, 403, 403, 201]],
      ['GET', '/v1/audit', () => undefined, [401, 403, 403, 200]],
    ];
    for (const [method, path, body, want] of matrix) {
      for (const [i, [name, token]] of who.entries()) {
        const r = await s.call(method, path, { token, body: body(i) });
        assert.equal(r.status, want[i], `${name} ${method} ${path}: ${JSON.stringify(r.json)}`);
        if (r.status === 401 || r.status === 403) {
          assert.match(r.type, /^application\/problem\+json/, `${name} ${method} ${path}`);
          assert.equal(r.json.code, r.status === 401 ? 'FLOE_API_UNAUTHORIZED' : 'FLOE_API_FORBIDDEN');
          assert.equal(r.json.status, r.status);
          assert.equal(r.json.instance, path.split('?')[0]);
          assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="floe"/);
        }
      }
    }
    // Only the analyst's and the admin's blocks exist (the analyst then lifted 198.51.100.12).
    const stored = (await s.h.store.queryDecisions({})).items.map((d) => d.target).sort();
    assert.deepEqual(stored, ['198.51.100.13/32']);
    assert.equal((await s.h.store.getDecision('198.51.100.13/32'))?.origin, `api:token:${s.tokens.admin.split('_')[1]}`);
    // Only the admin's token was made; its hash, never the secret, is stored.
    const made = (await s.h.store.listApiTokens()).filter((x) => x.name === 'made-by-api');
    assert.equal(made.length, 1);
    assert.equal(made[0].createdBy, `token:${s.tokens.admin.split('_')[1]}`);
  });

  it('bad, malformed, expired and revoked tokens are 401 invalid_token, and a bad token never falls back to the anonymous role', async (t) => {
    // anonymous callers may read here: a failed credential must still be refused, not read as anonymous
    const s = await server(t, { anonymousRole: 'viewer' });
    assert.equal((await s.call('GET', '/v1/findings')).status, 200, 'anonymous viewer');
    const expired = makeApiToken({ role: 'admin', createdBy: 'test', ttlMs: 60_000, now: T0 - 120_000 });
    await s.h.store.insertApiToken(expired.record);
    const revoked = makeApiToken({ role: 'admin', createdBy: 'test', now: T0 });
    await s.h.store.insertApiToken(revoked.record);
    await s.h.store.revokeApiToken(revoked.record.id, T0);
    const forged = `${s.tokens.admin.slice(0, -1)}${s.tokens.admin.endsWith('A') ? 'B' : 'A'}`; // right id, wrong secret
    const cases: Array<[string, string, RegExp]> = [
      ['expired', `Bearer ${expired.text}`, /expired/],
      ['revoked', `Bearer ${revoked.text}`, /revoked/],
      ['wrong secret', `Bearer ${forged}`, /not valid/],
      ['unknown id', `Bearer floe_000000000000_${'A'.repeat(43)}`, /not valid/],
      ['garbage', 'Bearer not-a-token-at-all', /not valid/],
      ['a hash of a real token', `Bearer ${hashApiToken(s.tokens.admin)}`, /not valid/],
      ['Basic scheme', `Basic ${Buffer.from(`admin:${s.tokens.admin}`).toString('base64')}`, /must be "Bearer <token>"/],
      ['bare token', s.tokens.admin, /must be "Bearer <token>"/],
    ];
    for (const [name, auth, detail] of cases) {
      for (const [method, path, body] of [
        ['GET', '/v1/findings', undefined],
        ['POST', '/v1/decisions', block('203.0.113.70')],
      ] as const) {
        const r = await s.call(method, path, { headers: { authorization: auth }, body });
        assert.equal(r.status, 401, `${name} ${method} ${path}`);
        assert.equal(r.json.code, 'FLOE_API_UNAUTHORIZED');
        assert.match(String(r.json.detail), detail, name);
        assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="floe", error="invalid_token"');
      }
    }
    assert.equal((await s.h.store.queryDecisions({})).total, 0);
    const m = await s.call('GET', '/metrics');
    for (const [reason, n] of [
      ['expired', 2],
      ['revoked', 2],
      ['unknown', 8],
      ['scheme', 4],
    ] as const) {
      assert.match(String(m.json.text), new RegExp(`^floe_api_auth_failures_total\\{reason="${reason}"\\} ${n}$`, 'm'), reason);
    }
  });

  it('a token made through the API works at once and stops working when revoked through the API; the list never shows a secret or hash', async (t) => {
    const s = await server(t);
    const made = await s.call('POST', '/v1/tokens', { token: s.tokens.admin, body: { role: 'analyst', name: 'soc-laptop', expires: '30d' } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const secret = String(made.json.secret);
    assert.match(secret, /^floe_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(made.json.token.role, 'analyst');
    assert.equal(made.json.token.expiresAt, new Date(T0 + 30 * 86_400_000).toISOString());
    assert.equal((await s.call('POST', '/v1/decisions', { token: secret, body: block('203.0.113.80') })).status, 201);
    const list = await s.call('GET', '/v1/tokens', { token: s.tokens.admin });
    const text = JSON.stringify(list.json);
    assert.ok(!text.includes(secret) && !text.includes(hashApiToken(secret)), 'no secret or hash listed');
    assert.equal(list.json.items.length, 4);
    const id = made.json.token.id;
    assert.equal((await s.call('DELETE', `/v1/tokens/${id}`, { token: s.tokens.admin })).status, 204);
    assert.equal((await s.call('DELETE', `/v1/tokens/${id}`, { token: s.tokens.admin })).status, 404, 'revoked once');
    const after = await s.call('POST', '/v1/decisions', { token: secret, body: block('203.0.113.81') });
    assert.equal(after.status, 401);
    assert.match(String(after.json.detail), /revoked/);
    for (const body of [{ role: 'root' }, { role: 'viewer', expires: '30s' }, { role: 'viewer', expires: '99999w' }, { role: 'viewer', extra: 1 }, {}]) {
      const r = await s.call('POST', '/v1/tokens', { token: s.tokens.admin, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.code, 'FLOE_API_BAD_REQUEST');
    }
  });

  it('malformed and oversized bodies: 400 / 413 / 415 problem+json for a caller with the role, 401 / 403 before the body for one without', async (t) => {
    const s = await server(t);
    const big = JSON.stringify({ target: '203.0.113.9', reason: 'x'.repeat(2 * 1024 * 1024) });
    const cases: Array<[string, string | undefined, { raw?: string; body?: unknown; headers?: Record<string, string> }, number, string]> = [
      ['analyst malformed JSON', s.tokens.analyst, { raw: '{"target": "203.0.113.9",' }, 400, 'FLOE_API_BAD_REQUEST'],
      ['analyst wrong type', s.tokens.analyst, { body: { target: ['203.0.113.9'], reason: 'x' } }, 400, 'FLOE_API_BAD_REQUEST'],
      ['analyst text/plain', s.tokens.analyst, { raw: 'block it', headers: { 'content-type': 'text/plain' } }, 415, 'FLOE_API_UNSUPPORTED_MEDIA_TYPE'],
      ['analyst 2 MiB', s.tokens.analyst, { raw: big }, 413, 'FLOE_API_PAYLOAD_TOO_LARGE'],
      ['viewer malformed JSON', s.tokens.viewer, { raw: '{"target"' }, 403, 'FLOE_API_FORBIDDEN'],
      ['nobody 2 MiB', undefined, { raw: big }, 401, 'FLOE_API_UNAUTHORIZED'],
    ];
    for (const [name, token, opts, status, code] of cases) {
      const r = await s.call('POST', '/v1/decisions', { token, ...opts });
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.json).slice(0, 200)}`);
      assert.equal(r.json.code, code, name);
      assert.match(r.type, /^application\/problem\+json/, name);
      assert.equal(r.json.type, `urn:floe:problem:${code}`);
    }
    assert.equal((await s.h.store.queryDecisions({})).total, 0);
  });
});

describe('audit over HTTP', () => {
  it('every mutating call is audited with the authenticated identity; a forged x-floe-user changes nothing', async (t) => {
    const s = await server(t);
    const analystId = `token:${s.tokens.analyst.split('_')[1]}`;
    const forged = { 'x-floe-user': 'alice-admin' };
    assert.equal((await s.call('POST', '/v1/decisions', { token: s.tokens.analyst, body: block('192.0.2.50'), headers: forged })).status, 201);
    assert.equal((await s.call('POST', '/v1/decisions', { body: block('192.0.2.51'), headers: forged })).status, 401);
    assert.equal((await s.call('POST', '/v1/decisions', { token: s.tokens.viewer, body: block('192.0.2.52'), headers: forged })).status, 403);
    assert.equal((await s.call('DELETE', `/v1/decisions/${encodeURIComponent('192.0.2.50/32')}`, { token: s.tokens.analyst, headers: forged })).status, 204);
    assert.equal((await s.call('GET', '/v1/findings', { token: s.tokens.analyst })).status, 200, 'a read is not audited');
    const r = await s.call('GET', '/v1/audit', { token: s.tokens.admin });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const items = r.json.items as Array<Record<string, unknown>>;
    assert.equal(r.json.total, 4);
    assert.deepEqual(items.map((e) => [e.method, e.status, e.subject, e.via, e.role ?? null, e.action ?? null, e.target ?? null]).reverse(), [
      ['POST', 201, analystId, 'token', 'analyst', 'decision.block', '192.0.2.50/32'],
      ['POST', 401, 'anonymous', 'anonymous', null, null, null],
      ['POST', 403, `token:${s.tokens.viewer.split('_')[1]}`, 'token', 'viewer', null, null],
      ['DELETE', 204, analystId, 'token', 'analyst', 'decision.unblock', '192.0.2.50/32'],
    ]);
    for (const e of items) {
      assert.equal(e.ip, '127.0.0.1');
      assert.match(String(e.at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'RFC 3339');
    }
    assert.ok(!JSON.stringify(items).includes('alice'), 'the forged header is nowhere in the audit');
    // the decisions' own audit trail names the token too
    const trail = await s.h.store.queryAudit({ target: '192.0.2.50/32' });
    assert.deepEqual(
      trail.map((a) => a.origin),
      [`api:${analystId}`, `api:${analystId}`],
    );
    // filters and pages
    const only401 = await s.call('GET', '/v1/audit?status=401', { token: s.tokens.admin });
    assert.deepEqual(
      only401.json.items.map((e: { subject: string }) => e.subject),
      ['anonymous'],
    );
    const bySubject = await s.call('GET', `/v1/audit?subject=${encodeURIComponent(analystId)}&method=DELETE`, { token: s.tokens.admin });
    assert.equal(bySubject.json.total, 1);
    const p1 = await s.call('GET', '/v1/audit?limit=3', { token: s.tokens.admin });
    assert.equal(p1.json.items.length, 3);
    const p2 = await s.call('GET', `/v1/audit?limit=3&cursor=${p1.json.next}`, { token: s.tokens.admin });
    assert.deepEqual(
      [...p1.json.items, ...p2.json.items].map((e: { id: string }) => e.id),
      items.map((e) => e.id),
    );
    assert.equal(p2.json.next, undefined);
    for (const q of ['status=42', 'method=GET', 'from=yesterday', 'limit=0', 'cursor=nope!', 'who=me']) {
      const bad = await s.call('GET', `/v1/audit?${q}`, { token: s.tokens.admin });
      assert.equal(bad.status, 400, q);
    }
    // the audit queries themselves are reads: still 4 entries
    assert.equal((await s.call('GET', '/v1/audit', { token: s.tokens.admin })).json.total, 4);
  });
});

describe('rate limits and /metrics', () => {
  it('per address: 429 FLOE_API_RATE_LIMITED with Retry-After once the address used its budget, failed credentials included', async (t) => {
    const s = await server(t, { anonymousRole: undefined, rateLimit: { perAddress: 5, perToken: 100, windowMs: 60_000 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await s.call('GET', '/v1/findings', { headers: { authorization: 'Bearer guess-number-'.concat(String(i)) } })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    const r = await s.call('GET', '/v1/findings', { token: s.tokens.admin });
    assert.equal(r.status, 429, 'even a good token from an address that spent its budget');
    assert.equal(r.json.code, 'FLOE_API_RATE_LIMITED');
    assert.match(r.type, /^application\/problem\+json/);
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, String(retry));
    assert.equal((await s.call('GET', '/healthz')).status, 200, '/healthz is never limited');
    const m = await s.h.registry.metrics();
    assert.match(m, /^floe_api_rate_limited_total\{limit="address"\} 1$/m);
  });

  it('per token: one identity over its budget gets 429 while another token from the same address goes on', async (t) => {
    const s = await server(t, { anonymousRole: undefined, rateLimit: { perAddress: 100, perToken: 3, windowMs: 60_000 } });
    const viewer = [];
    for (let i = 0; i < 4; i++) viewer.push((await s.call('GET', '/v1/findings', { token: s.tokens.viewer })).status);
    assert.deepEqual(viewer, [200, 200, 200, 429]);
    assert.equal((await s.call('GET', '/v1/findings', { token: s.tokens.analyst })).status, 200);
    // mutating calls over the limit are refused before the handler and counted, not audited
    const posts = [];
    for (let i = 0; i < 4; i++) posts.push((await s.call('POST', '/v1/decisions', { token: s.tokens.analyst, body: block(`198.51.100.${40 + i}`) })).status);
    assert.deepEqual(posts, [201, 201, 429, 429]);
    assert.equal((await s.h.store.queryDecisions({})).total, 2);
    assert.deepEqual(
      (await s.h.store.queryApiAudit({})).items.map((e) => e.status),
      [201, 201],
    );
  });

  it('metricsRequireAuth: /metrics needs a token of any role; /healthz stays open', async (t) => {
    const s = await server(t, { anonymousRole: undefined, metricsRequireAuth: true });
    assert.equal((await s.call('GET', '/metrics')).status, 401);
    const ok = await s.call('GET', '/metrics', { token: s.tokens.viewer });
    assert.equal(ok.status, 200);
    assert.match(String(ok.json.text), /floe_api_requests_total/);
    assert.equal((await s.call('GET', '/healthz')).status, 200);
  });
});

/**
 * One request over real HTTP with headers fetch may not set (`Host`): node:http to the server's
 * address, whatever the Host says.
 */
function rawCall(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; type: string; json: Json }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(new URL(path, base), { method, headers: { ...headers, ...(data === undefined ? {} : { 'content-type': 'application/json' }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Json = {};
        try {
          json = text ? JSON.parse(text) : {};
        } catch {
          json = { text };
        }
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('the open loopback API (anonymous admin) serves local clients only: DNS rebinding and cross-site requests', () => {
  it('isLoopbackAuthority / isLoopbackOrigin: loopback names and addresses, with or without a port; nothing else', () => {
    for (const a of [
      'localhost',
      'LOCALHOST:8080',
      'localhost.',
      'api.localhost',
      'a.b.localhost:1',
      '127.0.0.1',
      '127.0.0.1:18080',
      '127.9.8.7:1',
      '[::1]',
      '[::1]:18080',
      '[::ffff:127.0.0.1]:80',
    ])
      assert.equal(isLoopbackAuthority(a), true, a);
    for (const a of [
      '',
      'evil.example.com',
      'evil.example.com:18080',
      'localhost.evil.example.com',
      '127.0.0.1.nip.io',
      'localhostx',
      '::1',
      '[::2]:80',
      '0.0.0.0',
      '10.0.0.1:8080',
      '128.0.0.1',
      '127.1',
      'localhost:',
      'localhost:80:80',
      '[::1',
      'user@localhost',
    ])
      assert.equal(isLoopbackAuthority(a), false, a);
    for (const o of ['http://localhost:3000', 'https://127.0.0.1', 'http://[::1]:8080', 'http://app.localhost']) assert.equal(isLoopbackOrigin(o), true, o);
    for (const o of ['null', 'http://evil.example.com', 'https://localhost.evil.example.com', 'file://', 'chrome-extension://abc', 'garbage', ''])
      assert.equal(isLoopbackOrigin(o), false, o);
  });

  it('a foreign Host is 421 FLOE_API_MISDIRECTED for a GET and a POST, changes nothing and is audited; loopback Hosts are served; a token works under any Host', async (t) => {
    const s = await server(t, {}); // no credential configured: anonymous callers are admin
    const port = new URL(s.base).port;
    const evil = { host: 'evil.example.com', origin: 'http://evil.example.com' };
    for (const host of ['evil.example.com', `evil.example.com:${port}`, '0.0.0.0', `10.0.0.1:${port}`, '127.0.0.1.nip.io']) {
      const r = await rawCall(s.base, 'GET', '/v1/findings', { host });
      assert.equal(r.status, 421, `GET with Host ${host}: ${JSON.stringify(r.json)}`);
      assert.match(r.type, /^application\/problem\+json/);
      assert.equal(r.json.code, 'FLOE_API_MISDIRECTED');
      assert.equal(r.json.status, 421);
      assert.equal(r.json.instance, '/v1/findings');
    }
    // the tester's repro: an admin token and a never-block entry for everything, both refused
    const token = await rawCall(s.base, 'POST', '/v1/tokens', evil, { role: 'admin' });
    assert.deepEqual([token.status, token.json.code], [421, 'FLOE_API_MISDIRECTED'], JSON.stringify(token.json));
    assert.equal(token.json.secret, undefined);
    const nb = await rawCall(s.base, 'POST', '/v1/never-block', evil, { cidr: '0.0.0.0/0', reason: 'x' });
    assert.deepEqual([nb.status, nb.json.code], [421, 'FLOE_API_MISDIRECTED']);
    assert.deepEqual(await s.h.store.listNeverBlock(), [], 'nothing added to the never-block list');
    assert.equal((await s.h.store.listApiTokens()).length, 3, 'no token made (the three of the test only)');
    const audit = await s.h.store.queryApiAudit({});
    assert.deepEqual(
      audit.items.map((e) => [e.method, e.path, e.status, e.subject]).sort(),
      [
        ['POST', '/v1/never-block', 421, 'anonymous'],
        ['POST', '/v1/tokens', 421, 'anonymous'],
      ],
      'the refusals are audited',
    );
    // local names and addresses are served, with or without a port
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', 'localhost', `localhost:${port}`, '[::1]', `[::1]:${port}`, `floe.localhost:${port}`]) {
      const r = await rawCall(s.base, 'GET', '/v1/findings', { host });
      assert.equal(r.status, 200, `GET with Host ${host}: ${JSON.stringify(r.json)}`);
    }
    const local = await rawCall(s.base, 'POST', '/v1/never-block', { host: `localhost:${port}` }, { cidr: '192.0.2.0/24', reason: 'local' });
    assert.equal(local.status, 201, JSON.stringify(local.json));
    // a bearer token is held to neither rule: a deployment reached by its name
    const authz = { ...evil, authorization: `Bearer ${s.tokens.admin}` };
    assert.equal((await rawCall(s.base, 'GET', '/v1/findings', authz)).status, 200);
    const byToken = await rawCall(s.base, 'POST', '/v1/never-block', authz, { cidr: '198.51.100.0/24', reason: 'by token' });
    assert.equal(byToken.status, 201, JSON.stringify(byToken.json));
    // /healthz stays open to probes under any Host
    assert.equal((await rawCall(s.base, 'GET', '/healthz', { host: 'evil.example.com' })).status, 200);
  });

  it('a state-changing anonymous request with a foreign Origin or Sec-Fetch-Site: cross-site is 403 FLOE_API_CROSS_SITE and changes nothing; local origins and reads pass', async (t) => {
    const s = await server(t, {});
    const host = new URL(s.base).host; // 127.0.0.1:PORT
    const cases: Array<[string, string, Record<string, string>, unknown]> = [
      ['POST', '/v1/never-block', { origin: 'http://evil.example.com' }, { cidr: '0.0.0.0/0', reason: 'x' }],
      ['POST', '/v1/never-block', { origin: 'null' }, { cidr: '0.0.0.0/0', reason: 'x' }],
      ['POST', '/v1/never-block', { 'sec-fetch-site': 'cross-site' }, { cidr: '0.0.0.0/0', reason: 'x' }],
      ['POST', '/v1/tokens', { origin: 'https://localhost.evil.example.com' }, { role: 'admin' }],
      ['POST', '/v1/decisions', { origin: 'http://evil.example.com' }, block('203.0.113.9')],
      ['DELETE', `/v1/never-block/${encodeURIComponent('192.0.2.0/24')}`, { origin: 'http://evil.example.com' }, undefined],
    ];
    await s.h.store.putNeverBlock({ cidr: '192.0.2.0/24', reason: 'kept', createdBy: 'test', createdAt: T0 });
    for (const [method, path, headers, body] of cases) {
      const r = await rawCall(s.base, method, path, { host, ...headers }, body);
      assert.equal(r.status, 403, `${method} ${path} ${JSON.stringify(headers)}: ${JSON.stringify(r.json)}`);
      assert.match(r.type, /^application\/problem\+json/);
      assert.equal(r.json.code, 'FLOE_API_CROSS_SITE');
    }
    assert.deepEqual(
      (await s.h.store.listNeverBlock()).map((e) => e.cidr),
      ['192.0.2.0/24'],
      'the never-block list is unchanged',
    );
    assert.equal((await s.h.store.listApiTokens()).length, 3, 'no token made');
    assert.equal((await s.h.store.queryDecisions({})).total, 0, 'no block made');
    // a read with a foreign Origin is served (the browser keeps the answer from the page: no CORS)
    assert.equal((await rawCall(s.base, 'GET', '/v1/findings', { host, origin: 'http://evil.example.com' })).status, 200);
    // a local web client, same-origin and same-site requests may change state
    const local: Array<Record<string, string>> = [
      { origin: 'http://localhost:3000' },
      { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'same-site' },
      {},
    ];
    for (const headers of local) {
      const r = await rawCall(s.base, 'POST', '/v1/never-block', { host, ...headers }, { cidr: '198.51.100.0/24', reason: 'local' });
      assert.ok(r.status === 201 || r.status === 200, `${JSON.stringify(headers)}: ${r.status} ${JSON.stringify(r.json)}`);
    }
    // a bearer token is never sent by a browser on its own: the Origin rule does not apply to it
    const byToken = await rawCall(
      s.base,
      'POST',
      '/v1/never-block',
      { host, origin: 'http://evil.example.com', authorization: `Bearer ${s.tokens.admin}` },
      { cidr: '203.0.113.0/24', reason: 't' },
    );
    assert.equal(byToken.status, 201, JSON.stringify(byToken.json));
  });

  it('an anonymous caller without a role is unaffected: 401 on role routes, open routes served under any Host (a scraper by pod address)', async (t) => {
    const s = await server(t); // anonymousRole none
    const r = await rawCall(s.base, 'GET', '/v1/findings', { host: 'evil.example.com' });
    assert.deepEqual([r.status, r.json.code], [401, 'FLOE_API_UNAUTHORIZED']);
    assert.equal((await rawCall(s.base, 'GET', '/metrics', { host: '10.0.0.7:9604' })).status, 200);
    const p = await rawCall(s.base, 'POST', '/v1/never-block', { host: '127.0.0.1', origin: 'http://evil.example.com' }, { cidr: '0.0.0.0/0', reason: 'x' });
    assert.deepEqual([p.status, p.json.code], [401, 'FLOE_API_UNAUTHORIZED']);
  });
});
