/**
 * HTTPS when `api.tls.cert` / `api.tls.key` are configured: a CA and a server certificate for
 * 127.0.0.1 made by openssl in the test, read through resolveApiSecurity (the configuration
 * path), and requests over https trusting only that CA. Plain HTTP to the port gets no answer.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '@floe/config';
import { startApi } from './app.js';
import { resolveApiSecurity } from './security-config.js';
import { harness } from './test-harness.js';

/** A CA and a server certificate for IP 127.0.0.1 signed by it (P-256, one day). */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=floe test CA');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

function get(url: string, ca: Buffer | undefined): Promise<{ status: number; body: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: {} }, (res) => {
      let body = '';
      const protocol = (res.socket as { getProtocol?: () => string | null }).getProtocol?.() ?? '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS (api.tls.cert, api.tls.key)', () => {
  it('serves HTTPS with the configured certificate; a client trusting the CA gets answers, one that does not is refused', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-api-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const files = makeCerts(dir);
    const cfg = defaultConfig();
    const resolved = resolveApiSecurity({ ...cfg.api, tls: { cert: files.cert, key: files.key } }, undefined);
    assert.ok(resolved.tls);
    const h = await harness(t, { api: { tls: resolved.tls, security: resolved.security } });
    const base = await startApi(h.app, { host: '127.0.0.1', port: 0 });
    assert.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(files.ca);
    const health = await get(`${base}/healthz`, ca);
    assert.equal(health.status, 200, health.body);
    assert.match(health.protocol, /^TLSv1\.[23]$/);
    const findings = await get(`${base}/v1/findings`, ca);
    assert.equal(findings.status, 200, findings.body);
    await assert.rejects(get(`${base}/healthz`, undefined), (e: NodeJS.ErrnoException) =>
      /SELF_SIGNED|UNABLE_TO_VERIFY|unable to get local issuer/i.test(`${e.code} ${e.message}`),
    );
    // plain HTTP to the TLS port is not served
    const plain = await fetch(`${base.replace('https:', 'http:')}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    assert.notEqual(plain, 200);
  });

  it('resolveApiSecurity: cert without key, unreadable files and an incomplete OIDC section are refused with FLOE_CONFIG_* codes', () => {
    const api = defaultConfig().api;
    assert.throws(() => resolveApiSecurity({ ...api, tls: { cert: '/nonexistent/cert.pem' } }, undefined), { code: 'FLOE_CONFIG_API_TLS' });
    assert.throws(() => resolveApiSecurity({ ...api, tls: { cert: '/nonexistent/c.pem', key: '/nonexistent/k.pem' } }, undefined), { code: 'FLOE_CONFIG_API_TLS' });
    assert.throws(() => resolveApiSecurity({ ...api, oidc: { ...api.oidc, issuer: 'https://idp.example' } }, undefined), { code: 'FLOE_CONFIG_API_OIDC' });
    assert.throws(() => resolveApiSecurity({ ...api, oidc: { ...api.oidc, issuer: 'https://idp.example', audience: 'a', jwksUri: 'file:///etc/passwd' } }, undefined), {
      code: 'FLOE_CONFIG_API_OIDC',
    });
    // anonymous role: admin on an open API, none once a token or OIDC exists, as configured otherwise
    assert.equal(resolveApiSecurity(api, undefined).security.anonymousRole, 'admin');
    assert.equal(resolveApiSecurity(api, 'a-shared-token-0123456789').security.anonymousRole, undefined);
    assert.equal(resolveApiSecurity({ ...api, anonymousRole: 'none' }, undefined).security.anonymousRole, undefined);
    assert.equal(resolveApiSecurity({ ...api, anonymousRole: 'viewer' }, 'a-shared-token-0123456789').security.anonymousRole, 'viewer');
  });
});
