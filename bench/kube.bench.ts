// Kubernetes enrichment: cost per flow of KubeEnricher.enrich (and of NetworkPolicy evaluation)
// and memory held per 10,000 pods by the cluster index. Prints figures; passes or fails nothing.
// Run: node --conditions=floe-source --expose-gc --import tsx bench/kube.bench.ts [pods] [flows]
// The cluster is synthetic but shaped like a real one (objects as the API server returns them,
// trimmed as the reflectors keep them: trimPod): `pods` pods over 100 namespaces and 50 nodes,
// each owned by a ReplicaSet of a Deployment (5 pods per workload), 5 labels each, one Service
// ClusterIP per workload; flows are conntrack records between random pods, one in four to a
// ClusterIP with the backend in the reply tuple, one in ten from outside the cluster. Memory: the
// heap held by the index and the pods' reflector stubs after a forced GC.
import { ClusterIndex, KubeEnricher, NetworkPolicySet, trimPod, type Pod } from '@floe/kube';
import type { FlowRecord } from '@floe/flow';

const PODS = Number(process.argv[2] ?? 10_000);
const FLOWS = Number(process.argv[3] ?? 500_000);
const TRIALS = 5;
const T0 = Date.parse('2026-12-01T10:00:00Z');
const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

let seed = 42;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const podIp = (i: number) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const svcIp = (w: number) => `10.96.${(w >> 8) & 255}.${w & 255}`;

function podObject(i: number): Pod {
  const ns = `ns-${i % 100}`;
  const w = Math.floor(i / 5);
  const rs = `app-${w}-7c9d8f6b5`;
  return trimPod({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${rs}-${i.toString(36).padStart(5, 'x')}`,
      namespace: ns,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(1000 + i),
      creationTimestamp: '2026-12-01T09:00:00Z',
      labels: { app: `app-${w}`, 'pod-template-hash': '7c9d8f6b5', team: `team-${w % 20}`, tier: i % 2 ? 'backend' : 'frontend', 'app.kubernetes.io/part-of': 'shop' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `rs-${w}`, controller: true }],
    },
    spec: { nodeName: `node-${i % 50}`, containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: podIp(i), podIPs: [{ ip: podIp(i) }], startTime: '2026-12-01T09:00:01Z' },
  });
}

const before = heap();
const idx = new ClusterIndex({ graceMs: 300_000 });
for (let n = 0; n < 50; n++)
  idx.upsertNode(
    {
      metadata: { name: `node-${n}`, labels: { 'topology.kubernetes.io/zone': `zone-${n % 3}` } },
      status: { addresses: [{ type: 'InternalIP', address: `192.168.${n >> 8}.${n & 255}` }] },
    },
    T0,
  );
for (let n = 0; n < 100; n++) idx.upsertNamespace({ metadata: { name: `ns-${n}`, labels: { 'kubernetes.io/metadata.name': `ns-${n}` } } });
// What the pods' reflector keeps besides the index: each pod's identity (reflector.ts stub).
const known = new Map<string, Pod>();
for (let i = 0; i < PODS; i++) {
  const p = podObject(i);
  const m = p.metadata ?? {};
  known.set(`${m.namespace}/${m.name}`, { metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion } });
  const e = idx.upsertPod(p, T0);
  if (e) idx.setWorkload(e.uid, { kind: 'Deployment', name: `app-${Math.floor(i / 5)}` });
}
for (let w = 0; w < PODS / 5; w++)
  idx.upsertService({ metadata: { name: `app-${w}`, namespace: `ns-${(w * 5) % 100}` }, spec: { clusterIP: svcIp(w), ports: [{ port: 80, targetPort: 'http' }] } });
const held = heap() - before;

const policies = new NetworkPolicySet();
for (let n = 0; n < 100; n++) {
  policies.upsert({
    metadata: { name: 'allow-shop', namespace: `ns-${n}` },
    spec: {
      podSelector: { matchLabels: { tier: 'backend' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } } }], ports: [{ port: 'http' }] }],
    },
  });
}
const enricher = new KubeEnricher(idx, policies);

const flows: FlowRecord[] = [];
for (let k = 0; k < 100_000; k++) {
  const a = rnd(PODS);
  const b = rnd(PODS);
  const outside = rnd(10) === 0;
  const svc = rnd(4) === 0;
  const f: FlowRecord = {
    schema: 1,
    observedAt: T0 + 3_600_000 + k,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: outside ? `203.0.113.${rnd(250)}` : podIp(a),
    dstAddr: svc ? svcIp(Math.floor(b / 5)) : podIp(b),
    srcPort: 30000 + rnd(30000),
    dstPort: svc ? 80 : 8080,
  };
  if (svc) {
    f.replySrcAddr = podIp(b);
    f.replySrcPort = 8080;
  }
  flows.push(f);
}

function time(label: string, fn: (f: FlowRecord) => unknown): void {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let t = 0; t < TRIALS; t++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < FLOWS; i++) if (fn(flows[i % flows.length])) sink++;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(
    `${label.padEnd(44)} ${((best * 1e6) / FLOWS).toFixed(0).padStart(6)} ns/flow  ${Math.round(FLOWS / (best / 1000))
      .toLocaleString('en-US')
      .padStart(12)} flows/s  (best of ${TRIALS}, ${sink > 0 ? 'ok' : '-'})`,
  );
}

console.log(`cluster: ${PODS.toLocaleString('en-US')} pods, ${PODS / 5} Services, 100 namespaces, 50 nodes; ${FLOWS.toLocaleString('en-US')} flows per trial`);
console.log(
  `memory held by the cluster index and the pods' reflector stubs: ${(held / 1048576).toFixed(1)} MiB = ${(((held / PODS) * 10_000) / 1048576).toFixed(1)} MiB per 10,000 pods (${Math.round(held / PODS)} B/pod)${gc ? '' : ' (run with --expose-gc for a steady figure)'}`,
);
time('baseline: object spread of the flow', (f) => ({ ...f }));
const meta = Object.freeze({ namespace: 'ns-0', pod: 'p' });
time('baseline: spread adding srcMeta/dstMeta', (f) => ({ ...f, srcMeta: meta, dstMeta: meta }));
time('enrich (srcMeta/dstMeta at the flow time)', (f) => enricher.enrich(f));
const enriched = flows.map((f) => enricher.enrich(f));
let j = 0;
time('NetworkPolicy verdict (100 policies)', () => enricher.verdict(enriched[j++ % enriched.length]).allowed);
