import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnService } from './testing.js';

const FIXTURE = fileURLToPath(new URL('../testdata/service.ts', import.meta.url));
const run = (mode: string, env: NodeJS.ProcessEnv = {}, args: string[] = []) => spawnService(FIXTURE, args, { FIXTURE_MODE: mode, FLOE_HEALTH_PROCESSOR_PORT: '0', ...env });

test('SIGTERM: healthz answers 200 while running, components stop in reverse, exit 0', { timeout: 60_000 }, async () => {
  const s = run('ok');
  const url = await s.healthUrl;
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { ok: boolean; service: string; state: string; components: Record<string, { ok: boolean }> };
  assert.equal(body.service, 'fixture');
  assert.equal(body.state, 'running');
  assert.deepEqual(Object.keys(body.components), ['health', 'a', 'b', 'c']);
  const metrics = await fetch(`${url}/metrics`);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
  assert.match(await metrics.text(), /^floe_process_cpu_user_seconds_total \d/m);
  assert.equal((await fetch(`${url}/other`)).status, 404);
  s.child.kill('SIGTERM');
  const { code } = await s.exited;
  assert.equal(code, 0, s.stderr.join('\n'));
  assert.deepEqual(s.stdout, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
});

test('SIGINT is a graceful stop too (exit 0)', { timeout: 60_000 }, async () => {
  const s = run('ok');
  await s.healthUrl;
  s.child.kill('SIGINT');
  assert.equal((await s.exited).code, 0);
  assert.equal(s.stdout.at(-1), 'stop a');
});

test('a component failing at runtime stops every component and exits 1', { timeout: 60_000 }, async () => {
  const s = run('fail-later');
  const { code, stderr } = await s.exited;
  assert.equal(code, 1);
  assert.deepEqual(s.stdout, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  assert.ok(
    stderr.some((l) => l.includes('"component":"b"') && l.includes('consumer loop crashed')),
    stderr.join('\n'),
  );
});

test('a component failing to start: the started ones stop in reverse, exit 1 naming it', { timeout: 60_000 }, async () => {
  const s = run('fail-start');
  const { code, stderr } = await s.exited;
  assert.equal(code, 1);
  assert.deepEqual(s.stdout, ['start a', 'start b', 'stop c', 'stop b', 'stop a']);
  assert.ok(stderr.includes('c: start failed: cannot connect'), stderr.join('\n'));
});

test('a shutdown longer than health.shutdownTimeoutMs exits 1', { timeout: 60_000 }, async () => {
  const s = run('hang-stop', { FLOE_HEALTH_SHUTDOWN_TIMEOUT_MS: '300' });
  await s.healthUrl;
  const t0 = Date.now();
  s.child.kill('SIGTERM');
  const { code } = await s.exited;
  assert.equal(code, 1);
  assert.ok(Date.now() - t0 < 5000);
  assert.ok(s.stdout.includes('stop c hangs'));
  assert.ok(!s.stdout.includes('stop a'), 'no component after the hanging one was stopped before the timeout');
});

test('bad configuration exits 2 with file:line and key, before starting anything', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-runtime-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'health:\n  host: 127.0.0.1\n  processorPort: 70000\n');
  const s = run('ok', { FLOE_HEALTH_PROCESSOR_PORT: '' }, ['-c', file]);
  const { code, stderr } = await s.exited;
  assert.equal(code, 2);
  assert.equal(stderr[0], 'fixture: invalid configuration:');
  assert.equal(stderr[1], `  ${file}:3 health.processorPort: must be <= 65535`);
  assert.deepEqual(s.stdout, []);
  const env = await run('ok', { FLOE_HEALTH_PROCESSOR_PORT: 'x' }).exited;
  assert.equal(env.code, 2);
  assert.match(env.stderr.join('\n'), /FLOE_HEALTH_PROCESSOR_PORT="x": not a valid integer/);
  const flag = await run('ok', {}, ['--bogus']).exited;
  assert.equal(flag.code, 2);
  assert.match(flag.stderr[0], /^fixture: Unknown option '--bogus'/);
});

test('--check validates, builds and exits 0 without starting', { timeout: 60_000 }, async () => {
  const s = run('ok', {}, ['--check']);
  const { code, stderr } = await s.exited;
  assert.equal(code, 0);
  assert.deepEqual(s.stdout, []);
  assert.ok(stderr.includes('fixture: configuration ok'));
});
