/**
 * OIDC bearer tokens against a real JWKS served over loopback HTTP by the test (keys made with
 * jose), through the API over HTTP: a good token per role claim, and the refusals — wrong issuer,
 * wrong audience, expired, bad signature, unknown kid, HS256 and `alg: none`, no mapped role.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose';
import { startApi } from './app.js';
import { createOidcVerifier, roleFromClaims } from './oidc.js';
import { harness } from './test-harness.js';

const ISSUER = 'https://idp.example.test/realms/soc';
const AUDIENCE = 'floe-api';
const ROLES = { 'soc-analysts': 'analyst', auditors: 'viewer', 'floe-admins': 'admin' } as const;

interface Idp {
  jwksUri: string;
  key: CryptoKey;
  /** Served requests of the JWKS. */
  fetches: number;
  sign(claims: JWTPayload, opts?: { key?: CryptoKey; kid?: string; iss?: string; aud?: string; exp?: number | string }): Promise<string>;
}

/** An identity provider's JWKS endpoint on 127.0.0.1 with one RS256 key (kid k1). */
async function idp(t: TestContext): Promise<Idp> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const state = { fetches: 0 };
  const srv = createServer((req, res) => {
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    state.fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const port = (srv.address() as AddressInfo).port;
  return {
    jwksUri: `http://127.0.0.1:${port}/jwks`,
    key: privateKey,
    get fetches() {
      return state.fetches;
    },
    sign: (claims, o = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? 'k1' })
        .setIssuer(o.iss ?? ISSUER)
        .setAudience(o.aud ?? AUDIENCE)
        .setSubject(String(claims.sub ?? 'alice'))
        .setIssuedAt()
        .setExpirationTime(o.exp ?? '10m')
        .sign(o.key ?? privateKey),
  };
}

async function api(t: TestContext, p: Idp) {
  const oidc = createOidcVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: p.jwksUri, roleClaim: 'groups', roles: ROLES, clockToleranceSec: 5 });
  const h = await harness(t, { api: { security: { oidc, anonymousRole: undefined } } });
  const base = await startApi(h.app, { host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, jwt: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${jwt}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { h, call };
}

describe('OIDC bearer tokens (jose, JWKS over loopback HTTP)', () => {
  it('a valid token acts with the role its groups claim maps to; the audit names the OIDC subject', async (t) => {
    const p = await idp(t);
    const { h, call } = await api(t, p);
    const analyst = await p.sign({ sub: 'alice', groups: ['staff', 'soc-analysts'] });
    const r = await call('POST', '/v1/decisions', analyst, { target: '198.51.100.77', duration: '5m', reason: 'oidc test' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.origin, 'api:oidc:alice');
    const viewer = await p.sign({ sub: 'bob', groups: 'auditors' });
    assert.equal((await call('GET', '/v1/findings', viewer)).status, 200);
    assert.equal((await call('POST', '/v1/decisions', viewer, { target: '198.51.100.78', reason: 'no' })).status, 403);
    const nobody = await p.sign({ sub: 'carol', groups: ['staff'] });
    const r403 = await call('GET', '/v1/findings', nobody);
    assert.equal(r403.status, 403, 'authenticated, but no group maps to a role');
    const admin = await p.sign({ sub: 'dora', groups: ['auditors', 'floe-admins'] });
    const audit = await call('GET', '/v1/audit', admin);
    assert.equal(audit.status, 200, 'the highest mapped role wins');
    const items = audit.body.items as Array<{ subject: string; via: string; role?: string; status: number }>;
    assert.deepEqual(
      items.map((e) => [e.subject, e.via, e.role, e.status]),
      [
        ['oidc:bob', 'oidc', 'viewer', 403],
        ['oidc:alice', 'oidc', 'analyst', 201],
      ],
    );
    assert.ok(p.fetches >= 1);
    assert.equal((await h.store.queryDecisions({})).total, 1);
  });

  it('refused with 401 invalid_token: wrong issuer, wrong audience, expired, bad signature, unknown kid, HS256, alg none', async (t) => {
    const p = await idp(t);
    const { h, call } = await api(t, p);
    const other = await generateKeyPair('RS256');
    const claims = { sub: 'mallory', groups: ['floe-admins'] };
    const cases: Array<[string, string, RegExp]> = [
      ['wrong issuer', await p.sign(claims, { iss: 'https://evil.example.test' }), /claim iss/],
      ['wrong audience', await p.sign(claims, { aud: 'another-api' }), /claim aud/],
      ['expired', await p.sign(claims, { exp: Math.floor(Date.now() / 1000) - 600 }), /expired/],
      ['bad signature (another key, same kid)', await p.sign(claims, { key: other.privateKey }), /bad signature/],
      ['unknown kid', await p.sign(claims, { key: other.privateKey, kid: 'k9' }), /unknown kid/],
      [
        'HS256 with a guessed secret',
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('10m')
          .sign(new TextEncoder().encode('x'.repeat(32))),
        /not a valid token/,
      ],
      ['alg none (empty signature)', new UnsecuredJWT(claims).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').encode(), /not valid/],
      [
        'alg none with a signature segment',
        new UnsecuredJWT(claims).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').encode().concat('x'),
        /not a valid token|bad signature/,
      ],
    ];
    for (const [name, jwt, why] of cases) {
      const r = await call('POST', '/v1/decisions', jwt, { target: '203.0.113.66', reason: name });
      assert.equal(r.status, 401, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'FLOE_API_UNAUTHORIZED');
      assert.match(String(r.body.detail), why, name);
    }
    assert.equal((await h.store.queryDecisions({})).total, 0);
  });

  it('roleFromClaims: string or array claims, the highest mapped role, unknown values and other types ignored', () => {
    assert.equal(roleFromClaims({ groups: 'auditors' }, 'groups', ROLES), 'viewer');
    assert.equal(roleFromClaims({ groups: ['auditors', 'floe-admins', 'soc-analysts'] }, 'groups', ROLES), 'admin');
    assert.equal(roleFromClaims({ groups: ['staff', 7, null] }, 'groups', ROLES), undefined);
    assert.equal(roleFromClaims({ groups: ['__proto__', 'constructor'] }, 'groups', ROLES), undefined);
    assert.equal(roleFromClaims({ roles: ['soc-analysts'] }, 'groups', ROLES), undefined);
  });
});
