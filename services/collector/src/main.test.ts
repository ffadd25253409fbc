import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { jsonLines, spawnService, waitHealthy } from '@floe/runtime/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../cli/samples/conntrack-nmap-top100-scan.log', import.meta.url));

test('collector main: a replay with exitWhenDone publishes every flow of the capture and exits 0', { timeout: 60_000 }, async () => {
  const s = spawnService(MAIN, [], {
    FLOE_HEALTH_COLLECTOR_PORT: '0',
    FLOE_COLLECTOR_REPLAY_FILE: SAMPLE,
    FLOE_COLLECTOR_REPLAY_SPEED: '0',
    FLOE_COLLECTOR_REPLAY_EXIT_WHEN_DONE: 'true',
  });
  const { code, stderr } = await s.exited;
  assert.equal(code, 0, stderr.join('\n'));
  const msgs = jsonLines(stderr).map((l) => l.msg);
  assert.ok(msgs.includes(`summary  ${SAMPLE}: 722 flows, 0 rejected`), msgs.join('\n'));
  assert.ok(msgs.includes('stopped'));
});

test('collector main: health while running, SIGTERM exits 0', { timeout: 60_000 }, async () => {
  const s = spawnService(MAIN, [], { FLOE_HEALTH_COLLECTOR_PORT: '0', FLOE_COLLECTOR_REPLAY_FILE: SAMPLE, FLOE_COLLECTOR_REPLAY_SPEED: '1' });
  const body = (await waitHealthy(await s.healthUrl)) as { components: { collector: { ok: boolean; sources: Array<{ state: string }> } } };
  assert.equal(body.components.collector.sources[0].state, 'running');
  s.child.kill('SIGTERM');
  assert.equal((await s.exited).code, 0);
});

test('collector main: a missing capture is refused before anything starts, exit 2', { timeout: 60_000 }, async () => {
  // (a component failing at runtime exits 1: packages/runtime/src/service.test.ts)
  const s = spawnService(MAIN, [], { FLOE_HEALTH_COLLECTOR_PORT: '0', FLOE_COLLECTOR_REPLAY_FILE: '/nonexistent/capture.log' });
  const { code, stderr } = await s.exited;
  assert.equal(code, 2, stderr.join('\n'));
  assert.ok(stderr.includes('floe-collector: replay /nonexistent/capture.log: no such file'), stderr.join('\n'));
  assert.ok(!stderr.some((l) => l.includes('health endpoint listening')), 'nothing started');
});
