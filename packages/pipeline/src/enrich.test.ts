/**
 * The enrich step with Kubernetes enrichment (@floe/kube) on a real capture: the nmap scan of
 * packages/flow/testdata (10.50.0.2 scans 10.60.0.14; 10.70.0.2's benign flows to other hosts get no meta) through the processor, with the scanner a
 * pod of Deployment `scanner` and the target a node, as the API server would describe them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createMemoryBus, TOPICS } from '@floe/bus';
import { createDetectors } from '@floe/detect';
import { parseFile } from '@floe/flow';
import { ClusterIndex, KubeEnricher, NetworkPolicySet } from '@floe/kube';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createResponder, defaultResponderOptions } from '@floe/respond';
import { createDuckDbStore } from '@floe/store';
import { createRegistry, readMetric } from '@floe/telemetry';
import { createPipeline, createProcessor } from './index.js';

const CAPTURE = fileURLToPath(new URL('../../../packages/flow/testdata/conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log', import.meta.url));

test('enrich step: the scan finding and the stored flows name the scanner pod; a NetworkPolicy isolating the target pod raises kube.netpol-denied', async (t) => {
  const { records } = await parseFile(CAPTURE, { format: 'conntrack' });
  const first = Math.min(...records.map((r) => r.start ?? r.observedAt));
  const idx = new ClusterIndex({ graceMs: 60_000 });
  idx.upsertNamespace({ metadata: { name: 'red', labels: { 'kubernetes.io/metadata.name': 'red' } } });
  idx.upsertNamespace({ metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } } });
  const scanner = idx.upsertPod(
    {
      metadata: { name: 'scanner-6d4b5c7f9-abcde', namespace: 'red', uid: 'u-scanner', labels: { app: 'scanner' }, creationTimestamp: new Date(first - 60_000).toISOString() },
      spec: { nodeName: 'node-a' },
      status: { podIPs: [{ ip: '10.50.0.2' }] },
    },
    first - 60_000,
  );
  idx.setWorkload(scanner!.uid, { kind: 'Deployment', name: 'scanner' });
  idx.upsertPod(
    {
      metadata: { name: 'shop-0', namespace: 'shop', uid: 'u-shop', labels: { app: 'shop' }, creationTimestamp: new Date(first - 60_000).toISOString() },
      spec: { nodeName: 'node-a' },
      status: { podIPs: [{ ip: '10.60.0.14' }] },
    },
    first - 60_000,
  );
  const policies = new NetworkPolicySet();
  policies.upsert({ metadata: { name: 'shop-8080-only', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 8080 }] }] } });
  const registry = createRegistry({ defaultMetrics: false });
  const enricher = new KubeEnricher(idx, policies);

  const bus = createMemoryBus({ retryBackoffMs: 10, maxRetryBackoffMs: 50 });
  const store = createDuckDbStore({ path: ':memory:' });
  await bus.start();
  await store.start();
  t.after(async () => {
    await bus.stop();
    await store.stop();
  });
  const policy = compilePolicy(defaultPolicy());
  const processor = createProcessor(
    { group: 'kube-test', storeFlows: true },
    {
      bus,
      store,
      metrics: registry,
      pipeline: createPipeline({ policy, detectors: createDetectors(policy.policy.detectors), enricher }),
      responder: createResponder({ ...defaultResponderOptions(), minSeverity: 'high', dryRun: true }),
    },
  );
  await processor.start();
  await bus.publish(TOPICS.flows, [{ key: '10.50.0.2', value: records }]);
  const end = Date.now() + 20_000;
  while (processor.health().flows < records.length) {
    if (Date.now() > end) throw new Error('flows not processed');
    await new Promise((r) => setTimeout(r, 20));
  }
  await processor.flush();
  await processor.stop();

  const scans = (await store.queryFindings({ detector: 'portscan.vertical' })).items;
  assert.equal(scans.length, 1);
  assert.deepEqual(scans[0].entity, { addr: '10.50.0.2', namespace: 'red', pod: 'scanner-6d4b5c7f9-abcde', workload: 'scanner' });
  assert.equal((await store.queryFindings({ namespace: 'red', workload: 'scanner', detector: 'portscan.vertical' })).total, 1);
  const denied = (await store.queryFindings({ detector: 'kube.netpol-denied' })).items;
  assert.ok(denied.length > 10, `one denial per port other than 8080: ${denied.length}`);
  assert.ok(denied.every((f) => f.entity.pod === 'scanner-6d4b5c7f9-abcde' && !f.summary.includes(':8080/')));
  const { items } = await store.readFlows({ limit: 100_000 });
  assert.equal(items.length, records.length);
  const scan = items.filter((f) => f.srcAddr === '10.50.0.2');
  assert.ok(scan.length > 100);
  assert.ok(scan.every((f) => f.srcMeta?.pod === 'scanner-6d4b5c7f9-abcde' && f.srcMeta.workloadKind === 'Deployment' && f.dstMeta?.pod === 'shop-0'));
  assert.ok(
    items.filter((f) => f.srcAddr === '10.70.0.2').every((f) => f.srcMeta === undefined),
    'an address no pod held gets no meta',
  );
  assert.equal(await readMetric(registry, 'floe_processor_step_outcomes_total', { step: 'enrich', outcome: 'ok' }), 1);
});
