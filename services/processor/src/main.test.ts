import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnService, waitHealthy } from '@floe/runtime/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

test('processor main: healthy with its components, SIGTERM exits 0', { timeout: 60_000 }, async () => {
  const s = spawnService(MAIN, [], { FLOE_HEALTH_PROCESSOR_PORT: '0', FLOE_STORE_PATH: ':memory:' });
  const body = (await waitHealthy(await s.healthUrl)) as { service: string; components: Record<string, { ok: boolean; flows?: number }> };
  assert.equal(body.service, 'floe-processor');
  assert.deepEqual(Object.keys(body.components), ['health', 'processor']);
  assert.equal(body.components.processor.flows, 0);
  s.child.kill('SIGTERM');
  assert.equal((await s.exited).code, 0, s.stderr.join('\n'));
});

test('processor main: a broken policy file exits 2 naming file and line', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-processor-main-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'version: 1\nnetworks:\n  pods: [10.0.0.0/33]\n');
  const s = spawnService(MAIN, [], { FLOE_HEALTH_PROCESSOR_PORT: '0', FLOE_STORE_PATH: ':memory:', FLOE_POLICY_FILE: policy });
  const { code, stderr } = await s.exited;
  assert.equal(code, 2);
  const text = stderr.join('\n');
  assert.match(text, /^floe-processor: invalid policy/m);
  assert.ok(text.includes(`${policy}:3:`), text);
});
