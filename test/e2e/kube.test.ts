/**
 * Issue 9, parts 1 and 2, on a real Kubernetes API server (deploy/dev/kube.sh: kube-apiserver and
 * etcd; no kubelet, so the test sets pod addresses through pods/status as a kubelet would) and
 * real traffic between network namespaces acting as pods:
 *
 * - the attacker namespace is pod `scanner-…` of Deployment `scanner` (through its ReplicaSet) in
 *   namespace red-<id>; the bystander is pod `web-…` of Deployment `web` in blue-<id>; the victim
 *   namespace is node `node-<id>` (InternalIP 10.231.1.1) and, on its second address
 *   (10.231.2.1), pod `api-…` of Deployment `api` in blue-<id>; floe runs there (`floe run
 *   --netns`, kube.enabled) reading live conntrack;
 * - nmap from the scanner raises portscan.vertical naming pod, namespace and workload (API:
 *   `?namespace=`, `?workload=`);
 * - the scanner pod is deleted and its address given to pod `intruder` of namespace green-<id>:
 *   flows after that name the new pod, the earlier finding keeps the old one;
 * - a NetworkPolicy created through the API (api accepts only web on 8080) turns intruder -> api
 *   flows into kube.netpol-denied findings within seconds, web -> api stays allowed;
 * - `floe policy suggest --namespace blue-<id>` from the stored flows is applied to the API server
 *   (server-side) and, read back, allows every flow of that namespace it was made from.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FlowRecord } from '@floe/flow';
import { NetworkPolicySet, type NetworkPolicy, verdictOfRecorded } from '@floe/kube';
import { createStore } from '@floe/store';
import { parseAllDocuments } from 'yaml';
import { KubeLab, kubeBlocker, kubeServer } from '../helpers/kube-lab.js';
import { Lab, liveTestBlocker } from '../helpers/netns.js';
import { until } from '../helpers/wait.js';
import { FLOE_BIN as FLOE, startFloe } from '../helpers/floe-run.js';

const blocker = liveTestBlocker() ?? kubeBlocker();
if (blocker && process.env.CI) throw new Error(`the kube end-to-end test must run in CI: ${blocker}`);

interface ApiFinding {
  id: string;
  detector: string;
  entity: { addr: string; namespace?: string; pod?: string; workload?: string };
  summary: string;
}

test('pods, namespaces and workloads in findings and flows; NetworkPolicy denials; policy suggest applied and allowing its flows', {
  skip: blocker,
  timeout: 240_000,
}, async (t) => {
  const server = kubeServer();
  if ('blocker' in server) throw new Error(server.blocker);
  const lab = new Lab();
  const kube = new KubeLab(server.kubeconfig, server.kubectl);
  const dir = mkdtempSync(join(tmpdir(), 'floe-kube-e2e-'));
  t.after(() => {
    lab.down();
    kube.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const red = `red-${lab.id}`;
  const blue = `blue-${lab.id}`;
  const green = `green-${lab.id}`;
  const node = `node-${lab.id}`;

  // The cluster: three namespaces, a node, three Deployments with ReplicaSets, three pods.
  kube.namespace(red, { team: 'red' });
  kube.namespace(blue, { team: 'blue' });
  kube.namespace(green, { team: 'green' });
  kube.node(node, lab.victimAddrA, 'zone-a');
  const scanner = kube.workload(red, 'scanner', { app: 'scanner' });
  const web = kube.workload(blue, 'web', { app: 'web' });
  const api = kube.workload(blue, 'api', { app: 'api' });
  const scannerPod = `scanner-6d4b5c7f9-${lab.id}`;
  const webPod = `web-6d4b5c7f9-${lab.id}`;
  const apiPod = `api-6d4b5c7f9-${lab.id}`;
  kube.pod(red, scannerPod, scanner, { app: 'scanner' }, node, lab.attackerAddr);
  kube.pod(blue, webPod, web, { app: 'web' }, node, lab.bystanderAddr);
  kube.pod(blue, apiPod, api, { app: 'api' }, node, lab.victimAddrB, [{ name: 'http', containerPort: 8080 }]);

  // The hosts: the victim serves 8080 on both addresses; the scanner's namespace reaches the api address through the victim.
  lab.up();
  // conntrack then stamps each DESTROY event with its flow's start: enrichment looks the address up
  // at the flow's start, not at its end (a scan's entries end after the scanner pod is gone).
  lab.exec(lab.victim, 'sysctl', ['-qw', 'net.netfilter.nf_conntrack_timestamp=1']);
  lab.exec(lab.attacker, 'ip', ['route', 'add', '10.231.2.0/24', 'via', lab.victimAddrA]);
  lab.spawn(lab.victim, process.execPath, ['-e', "require('net').createServer((s)=>{s.on('error',()=>{});s.end('hi\\n')}).listen(8080)"]);
  await until('victim server', 5000, async () => (await lab.connect(lab.bystander, lab.victimAddrB, 8080)) === 'connected' || undefined);

  const port = 20000 + Math.floor(Math.random() * 20000);
  const storePath = join(dir, 'floe.duckdb');
  const floe = await startFloe(t, ['run', '--netns', lab.victim, '--api-port', String(port), '--store', storePath, '--dry-run'], {
    env: {
      FLOE_COLLECTOR_CONNTRACK_ENABLED: 'on',
      FLOE_LOG_LEVEL: 'warn',
      FLOE_KUBE_ENABLED: 'true',
      FLOE_KUBE_KUBECONFIG: server.kubeconfig,
      FLOE_KUBE_GRACE_MS: '2000',
    },
    timeoutMs: 30_000,
  });
  const lines = floe.lines;
  assert.ok(
    lines.some((l) => l.startsWith('kube ')),
    `floe says it enriches from the Kubernetes API: ${lines.join('\n')}`,
  );
  const base = `http://127.0.0.1:${port}`;
  const findings = async (qs: string): Promise<ApiFinding[]> => {
    const r = await fetch(`${base}/v1/findings?${qs}`);
    assert.equal(r.status, 200);
    return ((await r.json()) as { items: ApiFinding[] }).items;
  };

  // 1. A scan from the scanner pod: the finding names its pod, namespace and workload.
  const nmap = spawn('ip', ['netns', 'exec', lab.attacker, 'nmap', '-sS', '-n', '-Pn', '--max-retries', '0', '-p', '1-200', lab.victimAddrA], { stdio: 'ignore' });
  await new Promise((r) => nmap.once('exit', r));
  const [scan] = await until('a port-scan finding naming the scanner pod', 30000, async () => {
    const got = await findings(`detector=portscan.vertical&namespace=${red}&workload=scanner`);
    return got.length > 0 ? got : undefined;
  });
  assert.deepEqual(scan.entity, { addr: lab.attackerAddr, namespace: red, pod: scannerPod, workload: 'scanner' });
  assert.equal((await findings(`namespace=${blue}&detector=portscan.vertical`)).length, 0);

  // 2. The scanner pod is deleted; its address goes to a pod of another namespace.
  const deletedAt = Date.now();
  kube.deletePod(red, scannerPod);
  await new Promise((r) => setTimeout(r, 1500));
  const intruder = kube.workload(green, 'intruder', { app: 'intruder' });
  const intruderPod = `intruder-6d4b5c7f9-${lab.id}`;
  kube.pod(green, intruderPod, intruder, { app: 'intruder' }, node, lab.attackerAddr);
  const swappedAt = Date.now();
  await new Promise((r) => setTimeout(r, 1500));
  for (let i = 0; i < 3; i++) assert.equal(await lab.connect(lab.attacker, lab.victimAddrB, 8080), 'connected');
  for (let i = 0; i < 3; i++) assert.equal(await lab.connect(lab.bystander, lab.victimAddrB, 8080), 'connected');

  // 3. A NetworkPolicy through the API: api accepts only web on 8080. intruder -> api is reported as denied within seconds.
  assert.equal((await findings('detector=kube.netpol-denied')).filter((f) => f.entity.addr === lab.attackerAddr).length, 0, 'no denial before the policy');
  const policyAt = Date.now();
  kube.apply({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'api-from-web', namespace: blue },
    spec: {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'http', protocol: 'TCP' }] }],
    },
  });
  const [denied] = await until('a kube.netpol-denied finding for intruder -> api', 20000, async () => {
    await lab.connect(lab.attacker, lab.victimAddrB, 8080);
    const got = (await findings(`detector=kube.netpol-denied&namespace=${green}`)).filter((f) => f.entity.pod === intruderPod);
    return got.length > 0 ? got : undefined;
  });
  const deniedAfterMs = Date.now() - policyAt;
  process.stdout.write(`# e2e: NetworkPolicy created -> first denied flow reported: ${deniedAfterMs} ms\n`);
  assert.deepEqual(denied.entity, { addr: lab.attackerAddr, namespace: green, pod: intruderPod, workload: 'intruder' });
  assert.match(denied.summary, new RegExp(`${blue}/${apiPod}:8080/tcp`));
  for (let i = 0; i < 2; i++) assert.equal(await lab.connect(lab.bystander, lab.victimAddrB, 8080), 'connected');
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(
    (await findings('detector=kube.netpol-denied')).filter((f) => f.entity.addr === lab.bystanderAddr),
    [],
    'web -> api is allowed by the policy',
  );
  const again = (await findings(`detector=portscan.vertical&entity=${lab.attackerAddr}`)).find((f) => f.id === scan.id);
  assert.deepEqual(again?.entity, scan.entity, 'the earlier finding keeps the old pod');

  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /^floe_kube_lookups_total\{side="src",result="pod"\} [1-9]/m);
  assert.match(metrics, /^floe_kube_netpol_denied_total\{side="ingress"\} [1-9]/m);
  for (const l of metrics.split('\n')) if (l.startsWith('floe_kube_')) t.diagnostic(l);

  const code = await floe.stop();
  assert.equal(code, 0, `floe stops cleanly: ${floe.stderr().slice(-2000)}`);

  // 4. The stored flows: before the swap the address names the scanner, after it the intruder.
  const store = createStore({ kind: 'duckdb', path: storePath });
  await store.start();
  const flows: FlowRecord[] = [];
  try {
    let cursor: string | undefined;
    do {
      const p = await store.readFlows({ cursor });
      flows.push(...p.items);
      cursor = p.next;
    } while (cursor);
  } finally {
    await store.stop();
  }
  const fromAttacker = flows.filter((f) => f.srcAddr === lab.attackerAddr);
  const before = fromAttacker.filter((f) => (f.start ?? f.observedAt) < deletedAt);
  const after = fromAttacker.filter((f) => (f.start ?? f.observedAt) > swappedAt);
  assert.ok(before.length >= 100 && after.length >= 3, `flows before ${before.length}, after ${after.length}`);
  assert.deepEqual([...new Set(before.map((f) => `${f.srcMeta?.namespace}/${f.srcMeta?.pod}/${f.srcMeta?.workloadKind}`))], [`${red}/${scannerPod}/Deployment`]);
  assert.deepEqual([...new Set(after.map((f) => `${f.srcMeta?.namespace}/${f.srcMeta?.pod}`))], [`${green}/${intruderPod}`]);
  assert.ok(after.every((f) => f.dstMeta?.pod === apiPod && f.dstMeta.workload === 'api'));
  assert.ok(
    before.every((f) => f.dstMeta?.node === node && f.dstMeta.topologyZone === 'zone-a'),
    'the node address names the node and its zone',
  );

  // 5. floe policy suggest for namespace blue: accepted by the API server, and allows every flow of blue it was made from.
  const yaml = execFileSync(process.execPath, [FLOE, 'policy', 'suggest', '--store', storePath, '--namespace', blue], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.diagnostic(yaml);
  const suggested = parseAllDocuments(yaml).map((d) => d.toJS() as NetworkPolicy);
  assert.deepEqual(suggested.map((p) => p.metadata?.name).sort(), ['floe-allow-api', 'floe-allow-web']);
  assert.deepEqual(
    suggested.map((p) => p.spec?.podSelector),
    [{ matchLabels: { app: 'api' } }, { matchLabels: { app: 'web' } }],
    'selected by the workload label alone (hash and topology labels left out)',
  );
  kube.kubectl(['apply', '--server-side', '--field-manager=floe-e2e', '-f', '-'], yaml);
  const applied = JSON.parse(kube.kubectl(['get', 'networkpolicies', '-n', blue, '-o', 'json'])) as { items: NetworkPolicy[] };
  const set = new NetworkPolicySet();
  for (const p of applied.items) set.upsert(p);
  assert.equal(set.size, 3, 'api-from-web and the two suggested policies, read back from the API server');
  const onlySuggested = new NetworkPolicySet();
  for (const p of applied.items) if (p.metadata?.name?.startsWith('floe-allow-')) onlySuggested.upsert(p);
  const labelCache = new Map<string, Record<string, string>>();
  const labelsOf = (ns: string): Record<string, string> => {
    let l = labelCache.get(ns);
    if (!l) {
      const text = kube.kubectl(['get', 'namespace', ns, '-o', 'jsonpath={.metadata.labels}']).trim();
      l = text === '' ? {} : (JSON.parse(text) as Record<string, string>);
      labelCache.set(ns, l);
    }
    return l;
  };
  const podOf = (m: FlowRecord['srcMeta']): boolean => m?.namespace === blue && m.pod !== undefined;
  const ofBlue = flows.filter((f) => podOf(f.srcMeta) || podOf(f.dstMeta));
  assert.ok(ofBlue.length >= 8, `flows of ${blue}: ${ofBlue.length}`);
  for (const f of ofBlue) {
    const v = verdictOfRecorded(f, onlySuggested, labelsOf);
    assert.equal(v.allowed, true, `${f.srcAddr} -> ${f.dstAddr}:${f.dstPort} ${JSON.stringify(v)}`);
  }
  const probe: FlowRecord = { ...after[0], srcPort: 40000, dstPort: 9999, replySrcPort: undefined };
  assert.equal(verdictOfRecorded(probe, onlySuggested, labelsOf).allowed, false, 'a port never seen is not allowed');
});
