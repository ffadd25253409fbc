import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeEnricher } from './enrich.js';
import { NetworkPolicySet } from './netpol.js';
import type { Pod } from './objects.js';
import { conntrackFlow, fixtureItems, loaded, ts } from './testing.js';

describe('ClusterIndex on objects as kubectl prints them', () => {
  it('names a pod by namespace, pod, node, the node zone and labels; its workload once resolved', () => {
    const idx = loaded();
    const t = Date.parse('2026-12-01T10:06:00Z');
    const a = idx.lookup('10.244.1.17', t);
    assert.deepEqual(a?.meta, {
      namespace: 'shop',
      pod: 'web-5d8f7c6b9-x2x7q',
      node: 'node-a',
      topologyZone: 'eu-west-1a',
      labels: { app: 'web', 'pod-template-hash': '5d8f7c6b9', tier: 'frontend' },
    });
    idx.setWorkload('5c6f0b5e-3333-4e55-8d0c-000000000001', { kind: 'Deployment', name: 'web' });
    assert.equal(idx.lookup('10.244.1.17', t)?.meta.workload, 'web');
    assert.equal(idx.lookup('10.244.1.17', t)?.meta.workloadKind, 'Deployment');
    assert.equal(idx.lookup('10.244.1.17', t)?.namespaceLabels?.team, 'orders');
  });

  it('maps a host-network pod address to its node, and a ClusterIP to its Service', () => {
    const idx = loaded();
    const t = Date.parse('2026-12-01T10:06:00Z');
    assert.deepEqual(idx.lookup('192.168.56.11', t)?.meta, { node: 'node-a', workloadKind: 'Node', workload: 'node-a', topologyZone: 'eu-west-1a' });
    assert.deepEqual(idx.lookup('10.96.12.34', t)?.meta, { namespace: 'payments', service: 'api' });
    assert.equal(idx.serviceAt('192.168.56.11', 30443, t)?.name, 'api', 'NodePort on a node address');
    assert.equal(idx.serviceAt('192.168.56.11', 30444, t), undefined);
    assert.equal(idx.lookup('10.244.9.9', t), undefined);
  });

  it('a flow before a pod started does not name it (time-aware)', () => {
    const idx = loaded();
    assert.equal(idx.lookup('10.244.1.17', Date.parse('2026-12-01T10:00:01Z')), undefined, 'startTime is 10:00:02');
    assert.equal(idx.lookup('10.244.1.17', Date.parse('2026-12-01T10:00:02Z'))?.meta.pod, 'web-5d8f7c6b9-x2x7q');
  });

  it('a deleted pod keeps its address for the grace period; a reused address names the new pod only from its start', () => {
    const idx = loaded(60_000);
    const [web] = fixtureItems<Pod>('cluster.yaml', 'Pod');
    const deletedAt = Date.parse('2026-12-01T12:00:00Z');
    idx.deletePod(web, deletedAt);
    assert.equal(idx.lookup('10.244.1.17', deletedAt + 59_000)?.meta.pod, 'web-5d8f7c6b9-x2x7q', 'within grace');
    assert.equal(idx.lookup('10.244.1.17', deletedAt + 61_000), undefined, 'past grace');
    const reused: Pod = {
      metadata: { name: 'batch-x', namespace: 'payments', uid: 'new-uid', creationTimestamp: '2026-12-01T12:00:30Z', labels: { app: 'batch' } },
      spec: { nodeName: 'node-a' },
      status: { podIPs: [{ ip: '10.244.1.17' }], startTime: '2026-12-01T12:00:31Z' },
    };
    idx.upsertPod(reused, deletedAt + 31_000);
    assert.equal(idx.lookup('10.244.1.17', deletedAt + 10_000)?.meta.pod, 'web-5d8f7c6b9-x2x7q', 'before the new pod started: the old one');
    assert.equal(idx.lookup('10.244.1.17', deletedAt + 31_000)?.meta.pod, 'batch-x');
    assert.equal(idx.lookup('10.244.1.17', deletedAt + 31_000)?.meta.namespace, 'payments');
    assert.equal(idx.lookup('10.244.1.17', Date.parse('2026-12-01T11:00:00Z'))?.meta.pod, 'web-5d8f7c6b9-x2x7q', 'long before: still the old pod');
    assert.equal(idx.prune(deletedAt + 120_000), 1, 'the old tenancy is dropped after its grace');
    assert.equal(idx.lookup('10.244.1.17', Date.parse('2026-12-01T11:00:00Z')), undefined);
  });

  it('a pod whose address changed releases the old one', () => {
    const idx = loaded(1000);
    const [web] = fixtureItems<Pod>('cluster.yaml', 'Pod');
    const at = Date.parse('2026-12-01T13:00:00Z');
    idx.upsertPod({ ...web, status: { ...web.status, podIP: '10.244.1.18', podIPs: [{ ip: '10.244.1.18' }] } }, at);
    assert.equal(idx.lookup('10.244.1.18', at)?.meta.pod, 'web-5d8f7c6b9-x2x7q');
    assert.equal(idx.lookup('10.244.1.17', at + 5000), undefined);
  });

  it('selector zones name a pod by namespace and pod labels', () => {
    const idx = loaded(60_000, [
      { name: 'cardholder', namespaceSelector: { matchLabels: { pci: 'true' } } },
      { name: 'frontend', podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend', 'edge'] }] } },
    ]);
    const t = Date.parse('2026-12-01T10:06:00Z');
    assert.equal(idx.lookup('10.244.1.30', t)?.meta.zone, 'cardholder');
    assert.equal(idx.lookup('10.244.1.17', t)?.meta.zone, 'frontend');
  });
});

describe('KubeEnricher.enrich on conntrack events', () => {
  const enricher = () => new KubeEnricher(loaded(), new NetworkPolicySet());
  it('a ClusterIP flow names the Service and, from the reply tuple, the backend pod', () => {
    const f = conntrackFlow(
      `${ts('2026-12-01T10:06:00Z')} [NEW] tcp      6 120 SYN_SENT src=10.244.1.17 dst=10.96.12.34 sport=43512 dport=443 [UNREPLIED] src=10.244.1.30 dst=10.244.1.17 sport=9443 dport=43512`,
    );
    const out = enricher().enrich(f);
    assert.equal(out.srcMeta?.pod, 'web-5d8f7c6b9-x2x7q');
    assert.equal(out.dstMeta?.pod, 'api-0');
    assert.equal(out.dstMeta?.namespace, 'payments');
    assert.equal(out.dstMeta?.service, 'api');
    assert.equal(f.srcMeta, undefined, 'the input is not mutated');
  });
  it('a NodePort flow from outside names the Service and its backend', () => {
    const f = conntrackFlow(
      `${ts('2026-12-01T10:06:00Z')} [NEW] tcp      6 120 SYN_SENT src=203.0.113.9 dst=192.168.56.11 sport=50000 dport=30443 [UNREPLIED] src=10.244.1.30 dst=192.168.56.11 sport=9443 dport=50000`,
    );
    const out = enricher().enrich(f);
    assert.equal(out.srcMeta, undefined);
    assert.deepEqual([out.dstMeta?.pod, out.dstMeta?.service], ['api-0', 'api']);
  });
  it('a flow of unknown addresses comes back as it was', () => {
    const f = conntrackFlow(
      `${ts('2026-12-01T10:06:00Z')} [NEW] udp      17 30 src=198.51.100.1 dst=198.51.100.2 sport=5353 dport=53 [UNREPLIED] src=198.51.100.2 dst=198.51.100.1 sport=53 dport=5353`,
    );
    assert.equal(enricher().enrich(f), f);
  });
});
