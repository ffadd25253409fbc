import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { spawnService, waitHealthy } from '@floe/runtime/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

test('enforcer main (dry-run): healthy, reports its mode, SIGTERM exits 0', { timeout: 60_000 }, async () => {
  const s = spawnService(MAIN, [], { FLOE_HEALTH_ENFORCER_PORT: '0', FLOE_ENFORCER_DRY_RUN: 'true' });
  const body = (await waitHealthy(await s.healthUrl)) as { components: Record<string, { ok: boolean; mode?: string }> };
  assert.deepEqual(Object.keys(body.components), ['health', 'enforcer']);
  assert.equal(body.components.enforcer.mode, 'dry-run');
  s.child.kill('SIGTERM');
  assert.equal((await s.exited).code, 0, s.stderr.join('\n'));
});
