import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { createRegistry, readMetric } from '@floe/telemetry';
import { createKubeSource, loadKubeConfig } from './source.js';

/** A kubeconfig for `server` with a bearer token (as `kubectl config view --raw` prints one). */
function kubeconfig(dir: string, server: string): string {
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: ${server}
    insecure-skip-tls-verify: true
  name: dev
contexts:
- context:
    cluster: dev
    user: admin
  name: dev
current-context: dev
users:
- name: admin
  user:
    token: not-a-real-token
`,
  );
  return file;
}

it('loadKubeConfig: a missing file is FLOE_KUBE_CONFIG', () => {
  assert.throws(() => loadKubeConfig({ kubeconfig: '/nonexistent/kubeconfig' }), { code: 'FLOE_KUBE_CONFIG' });
});

it('an API server that refuses connections: start() goes on after syncTimeoutMs, lookups miss, list errors are counted and retried', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-kube-'));
  // A port that was just free and is closed again: connections to it are refused.
  const port = await new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
  const registry = createRegistry({ defaultMetrics: false });
  const src = createKubeSource(
    { enabled: true, graceMs: 1000, networkPolicies: true, kubeconfig: kubeconfig(dir, `https://127.0.0.1:${port}`), syncTimeoutMs: 300 },
    { metrics: registry },
  );
  t.after(() => {
    src.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await src.start();
  const f = {
    schema: 1 as const,
    observedAt: Date.now(),
    source: 'conntrack' as const,
    event: 'new' as const,
    family: 4 as const,
    protocol: 6,
    srcAddr: '10.1.2.3',
    dstAddr: '10.1.2.4',
    srcPort: 1,
    dstPort: 2,
  };
  assert.equal(src.enricher.enrich(f), f);
  const end = Date.now() + 5000;
  while ((await readMetric(registry, 'floe_kube_watch_errors_total', { resource: 'pods' })) === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.ok(((await readMetric(registry, 'floe_kube_watch_errors_total', { resource: 'pods' })) ?? 0) >= 1);
  src.stop();
  src.stop();
});
