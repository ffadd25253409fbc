import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, Counter } from '@floe/telemetry';
import { createHealthServer } from './health.js';

test('healthz: 200 when ok, 503 with the same body when not; metrics in Prometheus text; 404 and 405', async (t) => {
  const registry = createRegistry({ defaultMetrics: false });
  new Counter({ name: 'floe_test_things_total', help: 'things', registers: [registry] }).inc(3);
  let ok = true;
  const server = createHealthServer({ host: '127.0.0.1', port: 0 }, { service: 'floe-test', registry, health: () => ({ ok, flows: 7 }) });
  assert.equal(server.url(), undefined);
  await server.start();
  t.after(() => server.stop());
  const url = server.url()!;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  let res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true, flows: 7, service: 'floe-test' });
  ok = false;
  res = await fetch(`${url}/healthz?verbose=1`);
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { ok: false, flows: 7, service: 'floe-test' });
  res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^floe_test_things_total 3$/m);
  assert.equal((await fetch(`${url}/`)).status, 404);
  assert.equal((await fetch(`${url}/healthz`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${url}/healthz`, { method: 'HEAD' })).status, 503);
});

test('a port in use fails start with EADDRINUSE; stop is safe twice and before start', async () => {
  const registry = createRegistry({ defaultMetrics: false });
  const a = createHealthServer({ host: '127.0.0.1', port: 0 }, { service: 'a', registry, health: () => ({ ok: true }) });
  await a.stop();
  await a.start();
  const port = Number(new URL(a.url()!).port);
  const b = createHealthServer({ host: '127.0.0.1', port }, { service: 'b', registry, health: () => ({ ok: true }) });
  await assert.rejects(b.start(), /EADDRINUSE/);
  await b.stop();
  await a.stop();
  await a.stop();
});
