/**
 * `floe token create|list|revoke` (issue 8) end to end: tokens made by the CLI in a DuckDB file
 * (only their hashes stored) open the API of `floe serve --role api` on that file to their
 * role and no further; a token revoked by the CLI is refused after a restart reads the file
 * again. The CLI runs from source (tsx) as a user runs the built one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnService, waitHealthy } from '@floe/runtime/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function floe(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, ['--conditions=floe-source', '--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FLOE_LOG_LEVEL: 'warn', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `floe serve --role api` on the store; its API base URL and a stop function. */
async function serveApi(env: NodeJS.ProcessEnv): Promise<{ base: string; stop(): Promise<number | null> }> {
  const s = spawnService(MAIN, ['serve', '--role', 'api'], { FLOE_HEALTH_API_PORT: '0', FLOE_API_PORT: '0', ...env });
  await waitHealthy(await s.healthUrl);
  const line = s.stderr.find((l) => l.includes('"msg":"api      http://'));
  assert.ok(line, s.stderr.join('\n'));
  const base = /api {6}(http:\/\/[^ ]+)/.exec(line)![1];
  return {
    base,
    async stop() {
      s.child.kill('SIGTERM');
      return (await s.exited).code;
    },
  };
}

test('floe token create/list/revoke: hashed in the store, the API honours each role, a revoked token is refused', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { FLOE_STORE_PATH: join(dir, 'floe.duckdb'), FLOE_API_ANONYMOUS_ROLE: 'none' };

  const analyst = floe(['token', 'create', '--role', 'analyst', '--name', 'soc-laptop', '--expires', '30d'], env);
  assert.equal(analyst.code, 0, analyst.stderr);
  const [analystSecret, analystInfo] = analyst.stdout.split('\n');
  assert.match(analystSecret, /^floe_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.match(analystInfo, /^id [0-9a-f]{12} {2}role analyst {2}name soc-laptop {2}expires \d{4}-\d\d-\d\dT/);
  const viewer = floe(['token', 'create', '--role', 'viewer'], env);
  assert.equal(viewer.code, 0, viewer.stderr);
  const viewerSecret = viewer.stdout.split('\n')[0];
  const viewerId = viewerSecret.split('_')[1];

  const list = floe(['token', 'list'], env);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${viewerId} +viewer +active `, 'm'));
  assert.match(list.stdout, /^[0-9a-f]{12} +analyst +active .* soc-laptop$/m);
  assert.ok(!list.stdout.includes(analystSecret.slice(18)), 'no secret listed');
  // the DuckDB file holds the hash, never the secret text
  for (const f of readdirSync(dir)) assert.ok(!readFileSync(join(dir, f)).includes(analystSecret.slice(18)), `no secret stored (${f})`);

  for (const [args, pattern] of [
    [['token', 'create', '--role', 'viewer', '--expires', '5s'], /--expires must be/],
    [['token', 'revoke', 'nosuchid00'], /no active token nosuchid00/],
  ] as const) {
    const r = floe([...args], env);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }

  const block = { target: '198.51.100.61', duration: '10m', reason: 'cli token test' };
  const call = (base: string, method: string, path: string, token?: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }).then((r) => r.status);

  let api = await serveApi(env);
  assert.equal(await call(api.base, 'GET', '/v1/findings'), 401, 'nobody');
  assert.equal(await call(api.base, 'GET', '/v1/findings', viewerSecret), 200, 'viewer reads');
  assert.equal(await call(api.base, 'POST', '/v1/decisions', viewerSecret, block), 403, 'viewer may not block');
  assert.equal(await call(api.base, 'POST', '/v1/decisions', analystSecret, block), 201, 'analyst blocks');
  assert.equal(await call(api.base, 'GET', '/v1/audit', analystSecret), 403, 'analyst may not read the audit');
  assert.equal(await api.stop(), 0);

  const revoke = floe(['token', 'revoke', viewerId], env);
  assert.equal(revoke.code, 0, revoke.stderr);
  assert.equal(revoke.stdout.trim(), `revoked ${viewerId}`);
  assert.match(floe(['token', 'list'], env).stdout, new RegExp(`^${viewerId} +viewer +revoked `, 'm'));

  api = await serveApi(env);
  assert.equal(await call(api.base, 'GET', '/v1/findings', viewerSecret), 401, 'revoked');
  assert.equal(await call(api.base, 'GET', '/v1/findings', analystSecret), 200);
  assert.equal(await api.stop(), 0);
});
