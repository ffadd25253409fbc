/**
 * @floe/kube's reflectors against the real API server (deploy/dev/kube.sh), no root needed: a
 * Service gets its ClusterIP from the API server's allocator and an EndpointSlice (written by
 * hand: no EndpointSlice controller runs there) lists a backend pod; a conntrack event of a
 * connection to that ClusterIP, DNAT'ed to the pod, is enriched with the Service and the
 * backend; a host-network pod's address is its node's; a Job's pod names its CronJob through
 * PartialObjectMetadata GETs; label changes arrive by watch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createParser, type FlowRecord, isParseError } from '@floe/flow';
import { createKubeSource } from '@floe/kube';
import { createRegistry, readMetric } from '@floe/telemetry';
import { KubeLab, kubeBlocker, kubeServer } from '../helpers/kube-lab.js';
import { until } from '../helpers/wait.js';

const blocker = kubeBlocker();
if (blocker && process.env.CI) throw new Error(`the kube test must run in CI: ${blocker}`);

function conntrack(line: string): FlowRecord {
  const r = createParser('conntrack').parseLine(`[${(Date.now() / 1000).toFixed(6)}] ${line}`, 1);
  if (r === null || isParseError(r)) throw new Error(line);
  return r;
}

test('reflectors on the real API server: Service ClusterIP + EndpointSlice + DNAT backend, host network, CronJob owner, label updates', {
  skip: blocker,
  timeout: 120_000,
}, async (t) => {
  const server = kubeServer();
  if ('blocker' in server) throw new Error(server.blocker);
  const kube = new KubeLab(server.kubeconfig, server.kubectl);
  const id = Math.random().toString(16).slice(2, 8);
  const ns = `shop-${id}`;
  const node = `node-src-${id}`;
  const external = `192.0.2.${1 + Math.floor(Math.random() * 250)}`;
  const registry = createRegistry({ defaultMetrics: false });
  const src = createKubeSource({ enabled: true, kubeconfig: server.kubeconfig, graceMs: 60_000, networkPolicies: true }, { metrics: registry });
  t.after(() => {
    src.stop();
    kube.cleanup();
  });
  kube.namespace(ns, { team: 'shop' });
  kube.node(node, '10.233.0.1', 'zone-b');
  const api = kube.workload(ns, 'api', { app: 'api' });
  kube.pod(ns, `api-${id}`, api, { app: 'api' }, node, '10.233.1.5', [{ name: 'http', containerPort: 8080 }]);
  kube.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'api', namespace: ns },
    spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  });
  const clusterIP = kube.kubectl(['get', 'service', 'api', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}']).trim();
  assert.match(clusterIP, /^10\.96\./, 'allocated from --service-cluster-ip-range');
  // A Service without selector whose EndpointSlice lists an address outside the cluster.
  kube.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'legacy-db', namespace: ns }, spec: { ports: [{ port: 5432 }] } });
  const dbIP = kube.kubectl(['get', 'service', 'legacy-db', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}']).trim();
  kube.apply({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'legacy-db-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'legacy-db' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [external] }],
    ports: [{ port: 5432, protocol: 'TCP' }],
  });
  // A host-network pod (an exporter on the node) and a CronJob's Job's pod.
  kube.apply({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'backup', namespace: ns },
    spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'b', image: 'registry.k8s.io/pause:3.10' }] } } } } },
  });
  const cronUid = kube.uid('cronjob', 'backup', ns);
  kube.apply({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'backup-29400000', namespace: ns, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'backup', uid: cronUid, controller: true }] },
    spec: {
      template: {
        metadata: { labels: { 'batch.kubernetes.io/job-name': 'backup-29400000' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'b', image: 'registry.k8s.io/pause:3.10' }] },
      },
    },
  });
  const jobUid = kube.uid('job', 'backup-29400000', ns);

  await src.start();
  const e = src.enricher;
  kube.kubectl(
    ['create', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `backup-${id}`,
        namespace: ns,
        labels: { job: 'backup' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'backup-29400000', uid: jobUid, controller: true }],
      },
      spec: { nodeName: node, restartPolicy: 'Never', containers: [{ name: 'b', image: 'registry.k8s.io/pause:3.10' }] },
    }),
  );
  kube.kubectl([
    'patch',
    'pod',
    `backup-${id}`,
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { podIPs: [{ ip: '10.233.1.9' }], podIP: '10.233.1.9', startTime: new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z') } }),
  ]);
  kube.kubectl(
    ['create', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `exporter-${id}`, namespace: ns },
      spec: { nodeName: node, hostNetwork: true, containers: [{ name: 'e', image: 'registry.k8s.io/pause:3.10' }] },
    }),
  );
  kube.kubectl([
    'patch',
    'pod',
    `exporter-${id}`,
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { podIPs: [{ ip: '10.233.0.1' }], podIP: '10.233.0.1' } }),
  ]);

  // A connection from the CronJob's pod to the api Service, DNAT'ed to the api pod.
  const toService = () =>
    conntrack(`[NEW] tcp      6 120 SYN_SENT src=10.233.1.9 dst=${clusterIP} sport=40000 dport=80 [UNREPLIED] src=10.233.1.5 dst=10.233.1.9 sport=8080 dport=40000`);
  const out = await until('the backup pod enriched with its CronJob', 15000, async () => {
    await src.settled();
    const f = e.enrich(toService());
    return f.srcMeta?.workload === 'backup' ? f : undefined;
  });
  assert.deepEqual(
    { ...out.srcMeta, labels: undefined },
    { namespace: ns, pod: `backup-${id}`, workload: 'backup', workloadKind: 'CronJob', node, topologyZone: 'zone-b', labels: undefined },
  );
  assert.equal(out.dstMeta?.pod, `api-${id}`);
  assert.equal(out.dstMeta?.service, 'api');
  assert.equal(out.dstMeta?.workload, 'api');
  assert.equal(out.dstMeta?.workloadKind, 'Deployment');

  const db = e.enrich(
    conntrack(`[NEW] tcp      6 120 SYN_SENT src=10.233.1.5 dst=${dbIP} sport=40001 dport=5432 [UNREPLIED] src=${external} dst=10.233.1.5 sport=5432 dport=40001`),
  );
  assert.deepEqual(db.dstMeta, { namespace: ns, service: 'legacy-db' }, 'a backend outside the cluster named by its EndpointSlice');
  const host = await until('the host-network pod seen', 10000, () => {
    const f = e.enrich(
      conntrack('[NEW] tcp      6 120 SYN_SENT src=10.233.0.1 dst=10.233.1.5 sport=40002 dport=8080 [UNREPLIED] src=10.233.1.5 dst=10.233.0.1 sport=8080 dport=40002'),
    );
    return f.srcMeta?.node === node ? f : undefined;
  });
  assert.deepEqual(host.srcMeta, { node, workloadKind: 'Node', workload: node, topologyZone: 'zone-b' }, 'a host-network pod is its node');

  // A label change arrives by watch; a NetworkPolicy selecting it isolates the api pod.
  kube.kubectl(['label', 'pod', `api-${id}`, '-n', ns, 'tier=backend']);
  kube.apply({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'backend-from-shop', namespace: ns },
    spec: {
      podSelector: { matchLabels: { tier: 'backend' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'shop' } }, podSelector: { matchLabels: { app: 'api' } } }] }],
    },
  });
  await until('the policy isolating the relabelled pod', 10000, () => e.verdict(toService()).ingress === 'denied' || undefined);
  assert.deepEqual(e.verdict(toService()).isolatedBy, [`${ns}/backend-from-shop`]);
  assert.ok(((await readMetric(registry, 'floe_kube_owner_lookups_total', { result: 'ok' })) ?? 0) >= 1, 'owners read through PartialObjectMetadata');
});
