import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnService, waitHealthy } from '@floe/runtime/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

test('api main: health endpoint, manual block and unblock through the decision writer, SIGTERM exits 0', { timeout: 60_000 }, async () => {
  const s = spawnService(MAIN, [], { FLOE_HEALTH_API_PORT: '0', FLOE_API_PORT: '0', FLOE_STORE_PATH: ':memory:' });
  const health = await s.healthUrl;
  const body = (await waitHealthy(health)) as { service: string; components: Record<string, unknown> };
  assert.equal(body.service, 'floe-api');
  assert.deepEqual(Object.keys(body.components), ['health', 'api']);
  const line = s.stderr.find((l) => l.includes('"msg":"api      http://'));
  assert.ok(line, s.stderr.join('\n'));
  const api = /api {6}(http:\/\/[^ ]+)/.exec(line)![1];
  const post = await fetch(`${api}/v1/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-floe-user': 'soc' },
    body: JSON.stringify({ target: '198.51.100.9', duration: '10m', reason: 'manual test' }),
  });
  assert.equal(post.status, 201, await post.clone().text());
  const d = (await post.json()) as { target: string; origin: string; expiresAt: string | number };
  assert.equal(d.target, '198.51.100.9/32');
  const active = (await (await fetch(`${api}/v1/decisions?active=true`)).json()) as { items: Array<{ target: string }> };
  assert.deepEqual(
    active.items.map((x) => x.target),
    ['198.51.100.9/32'],
  );
  assert.equal((await fetch(`${api}/v1/decisions/${encodeURIComponent('198.51.100.9/32')}`, { method: 'DELETE', headers: { 'x-floe-user': 'soc' } })).status, 204);
  const after = (await (await fetch(`${api}/v1/decisions?active=true`)).json()) as { items: unknown[] };
  assert.equal(after.items.length, 0);
  s.child.kill('SIGTERM');
  const { code } = await s.exited;
  assert.equal(code, 0, s.stderr.join('\n'));
});

test('api main: a non-loopback api.host without a token exits 2 with the reason; with FLOE_API_TOKEN reads and writes need it', { timeout: 60_000 }, async () => {
  const refused = spawnService(MAIN, [], { FLOE_HEALTH_API_PORT: '0', FLOE_API_PORT: '0', FLOE_STORE_PATH: ':memory:', FLOE_API_HOST: '0.0.0.0' });
  const { code } = await refused.exited;
  assert.equal(code, 2, refused.stderr.join('\n'));
  assert.match(refused.stderr.join('\n'), /api\.host 0\.0\.0\.0 is not a loopback address/);

  const token = 'main-test-token-0123456789abcdef';
  const s = spawnService(MAIN, [], { FLOE_HEALTH_API_PORT: '0', FLOE_API_PORT: '0', FLOE_STORE_PATH: ':memory:', FLOE_API_HOST: '0.0.0.0', FLOE_API_TOKEN: token });
  await waitHealthy(await s.healthUrl);
  const line = s.stderr.find((l) => l.includes('"msg":"api      http://'));
  assert.ok(line, s.stderr.join('\n'));
  const port = /api {6}http:\/\/[^ ]+:(\d+)/.exec(line)![1];
  const api = `http://127.0.0.1:${port}`;
  const body = JSON.stringify({ target: '198.51.100.9', duration: '10m', reason: 'manual test' });
  const denied = await fetch(`${api}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(denied.status, 401);
  const ok = await fetch(`${api}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  assert.equal(ok.status, 201, await ok.clone().text());
  assert.equal((await fetch(`${api}/v1/decisions?active=true`)).status, 401, 'with a shared token, reads need a token too');
  assert.equal((await fetch(`${api}/v1/decisions?active=true`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  assert.equal((await fetch(`${api}/healthz`)).status, 200, '/healthz stays open');
  s.child.kill('SIGTERM');
  assert.equal((await s.exited).code, 0, s.stderr.join('\n'));
});

test('api main: api.tls.cert/key from the environment serve HTTPS; api.anonymousRole none closes reads; a half TLS setting exits 2', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-api-main-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'key.pem',
    '-out',
    'cert.pem',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  );
  const half = spawnService(MAIN, [], { FLOE_HEALTH_API_PORT: '0', FLOE_API_PORT: '0', FLOE_STORE_PATH: ':memory:', FLOE_API_TLS_CERT: join(dir, 'cert.pem') });
  assert.equal((await half.exited).code, 2, half.stderr.join('\n'));
  assert.match(half.stderr.join('\n'), /api\.tls\.cert and api\.tls\.key go together/);

  const s = spawnService(MAIN, [], {
    FLOE_HEALTH_API_PORT: '0',
    FLOE_API_PORT: '0',
    FLOE_STORE_PATH: ':memory:',
    FLOE_API_TLS_CERT: join(dir, 'cert.pem'),
    FLOE_API_TLS_KEY: join(dir, 'key.pem'),
    FLOE_API_ANONYMOUS_ROLE: 'none',
  });
  await waitHealthy(await s.healthUrl);
  const line = s.stderr.find((l) => l.includes('"msg":"api      https://'));
  assert.ok(line, s.stderr.join('\n'));
  const api = /api {6}(https:\/\/[^ ]+)/.exec(line)![1];
  const ca = readFileSync(join(dir, 'cert.pem'));
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${api}${path}`, { ca }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal(await get('/healthz'), 200);
  assert.equal(await get('/v1/findings'), 401, 'anonymousRole none');
  assert.equal(await get('/openapi.json'), 200);
  s.child.kill('SIGTERM');
  assert.equal((await s.exited).code, 0, s.stderr.join('\n'));
});
