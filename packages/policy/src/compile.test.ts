import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTO, type FlowRecord } from '@floe/flow';
import { compilePolicy } from './compile.js';
import { loadInventoryFile } from './inventory.js';
import { defaultPolicy, loadPolicyFile, parsePolicy } from './policy.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const testdata = (f: string) => readFileSync(join(pkg, 'testdata', f), 'utf8');
const AT = Date.UTC(2026, 0, 1);

/**
 * Test-only reading of the original tuple of a `conntrack -L`/`-E` text line into a FlowRecord
 * (the real parser lives in packages/flow; this keeps these tests independent of it).
 */
function fromConntrackLine(line: string, source: FlowRecord['source'] = 'conntrack'): FlowRecord {
  const proto = /\b(tcp|udp|icmp|icmpv6|sctp)\s+(\d+)\s/.exec(line);
  assert.ok(proto, line);
  const first = (k: string) => new RegExp(`\\b${k}=(\\S+)`).exec(line)?.[1];
  const src = first('src')!;
  const dst = first('dst')!;
  const f: FlowRecord = {
    schema: 1,
    observedAt: AT,
    source,
    event: /\[NEW\]/.test(line) ? 'new' : /\[DESTROY\]/.test(line) ? 'destroy' : /\[UPDATE\]/.test(line) ? 'update' : 'snapshot',
    family: dst.includes(':') ? 6 : 4,
    protocol: Number(proto[2]),
    srcAddr: src,
    dstAddr: dst,
  };
  const sp = first('sport');
  const dp = first('dport');
  if (sp) f.srcPort = Number(sp);
  if (dp) f.dstPort = Number(dp);
  const state = /\s([A-Z_]{4,})\s+src=/.exec(line)?.[1];
  if (state) f.state = state;
  return f;
}

/** Test-only reading of the original tuple of each `<flow>` of `conntrack -o xml` output. */
function fromConntrackXml(xml: string): FlowRecord[] {
  const out: FlowRecord[] = [];
  for (const m of xml.matchAll(/<flow type="(\w+)"><meta direction="original">(.*?)<\/meta>/g)) {
    const body = m[2];
    const tag = (t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(body)?.[1];
    const f: FlowRecord = {
      schema: 1,
      observedAt: AT,
      source: 'conntrack-xml',
      event: m[1] as FlowRecord['event'],
      family: 4,
      protocol: Number(/layer4 protonum="(\d+)"/.exec(body)![1]),
      srcAddr: tag('src')!,
      dstAddr: tag('dst')!,
    };
    if (tag('sport')) f.srcPort = Number(tag('sport'));
    if (tag('dport')) f.dstPort = Number(tag('dport'));
    out.push(f);
  }
  return out;
}

test('lab capture with the example policy: scan ports outside the nodes allow-list, attacker blocklisted', async () => {
  const policy = compilePolicy(await loadPolicyFile(join(pkg, 'policies/example.yaml')));
  const lines = testdata('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log')
    .split('\n')
    .filter((l) => l.includes('[NEW]'));
  const flows = lines.map((l) => fromConntrackLine(l));
  const scan = flows.filter((f) => f.srcAddr === '10.50.0.2');
  assert.equal(scan.length, 100, 'nmap top-100 scan: 100 NEW flows');
  const allowedOnNodes = new Set([22, 80, 8080, 6443]);
  let ingressHits = 0;
  for (const f of scan) {
    const found = policy.evaluate(f);
    const rules = found.map((x) => x.detector).sort();
    const expectIngress = !allowedOnNodes.has(f.dstPort!);
    assert.deepEqual(rules, expectIngress ? ['policy.blocklist', 'policy.ingress-port'] : ['policy.blocklist'], `port ${f.dstPort}`);
    const b = found.find((x) => x.detector === 'policy.blocklist')!;
    assert.equal(b.severity, 'high');
    assert.equal(b.entity.addr, '10.50.0.2');
    assert.equal(b.evidence.side, 'src');
    assert.match(String(b.evidence.listedBy), /example-blocklist\.txt:3$/);
    if (expectIngress) {
      ingressHits++;
      const i = found.find((x) => x.detector === 'policy.ingress-port')!;
      assert.equal(i.evidence.zone, 'nodes');
      assert.deepEqual(i.evidence.ports, [f.dstPort]);
    }
  }
  // nmap's top 100 contains 22, 80, 8080 but not 6443.
  assert.equal(ingressHits, 97);

  // Benign client 10.70.0.2: 80, 8080 and udp 53 are allowed on nodes; 443 is not.
  const benign = flows.filter((f) => f.srcAddr === '10.70.0.2');
  assert.ok(benign.length > 0);
  for (const f of benign) {
    const rules = policy.evaluate(f).map((x) => x.detector);
    if (f.protocol === PROTO.tcp && f.dstPort === 443) assert.deepEqual(rules, ['policy.ingress-port']);
    else assert.deepEqual(rules, [], `${f.dstAddr}:${f.dstPort}/${f.protocol}`);
  }
  // Replies to the attacker leave the networks: egress allow-list does not cover 10.50.0.2.
  const reply = fromConntrackLine(
    '[1796040083.800000]\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.60.0.14 dst=10.50.0.2 sport=22 dport=40000 [UNREPLIED] src=10.50.0.2 dst=10.60.0.14 sport=40000 dport=22',
  );
  assert.deepEqual(
    policy
      .evaluate(reply)
      .map((x) => [x.detector, x.entity.addr, x.evidence.side])
      .sort(),
    [
      ['policy.blocklist', '10.50.0.2', 'dst'],
      ['policy.egress-not-allowed', '10.60.0.14', undefined],
    ],
  );
});

test('horizontal SSH scan (iki corpus) with the default ingress ports: one ingress-port finding per target', () => {
  const p = parsePolicy('version: 1\nnetworks:\n  nodes: [194.8.252.0/23]\n', 'ssh.yaml');
  const policy = compilePolicy(p);
  const flows = testdata('iki-conntrack-L-ssh-scan.txt')
    .split('\n')
    .filter(Boolean)
    .map((l) => fromConntrackLine(l));
  const findings = flows.flatMap((f) => policy.evaluate(f));
  assert.equal(findings.length, flows.length);
  assert.ok(findings.every((f) => f.detector === 'policy.ingress-port' && f.entity.addr === '125.65.245.146' && f.kind === 'policy'));
  assert.equal(new Set(findings.map((f) => f.id)).size, new Set(flows.map((f) => f.dstAddr)).size, 'one id per (src,dst,22,tcp)');
  assert.equal(findings[0].producedBy, `policy:${p.source.digest}`);
  assert.equal(findings[0].evidence.flows, 1);
  assert.deepEqual(findings[0].evidence.sample, [{ at: AT, dst: flows[0].dstAddr, dstPort: 22, protocol: 6, state: 'TIME_WAIT' }]);
  // Allowing 22 on nodes silences them.
  const open = compilePolicy(parsePolicy('version: 1\nnetworks:\n  nodes: [194.8.252.0/23]\ningress:\n  zones:\n    nodes: [{ protocol: tcp, ports: [22] }]\n', 'ssh.yaml'));
  assert.equal(flows.flatMap((f) => open.evaluate(f)).length, 0);
});

test('egress allow-list on real Kubernetes thread lines: nested prefixes union their ports', () => {
  const text = [
    'version: 1',
    'networks:',
    '  pods: [172.20.0.0/16]',
    'egress:',
    '  allow:',
    '    - { to: [172.31.0.0/16], protocol: tcp, ports: [5000] }',
    '    - { to: [172.31.2.45], protocol: tcp, ports: [5672] }',
    '    - { to: [10.12.0.0/16], protocol: udp, ports: [8125] }',
  ].join('\n');
  const policy = compilePolicy(parsePolicy(text, 'egress.yaml'));
  const flows = testdata('threads-conntrack-L-plain.txt')
    .split('\n')
    .filter(Boolean)
    .map((l) => fromConntrackLine(l));
  const from = flows.filter((f) => f.srcAddr === '172.20.36.14');
  assert.deepEqual(
    from.map((f) => f.dstPort),
    [17652, 17652, 5000],
  );
  // 5000 comes from the /16 rule although 172.31.2.45/32 is the longest match.
  assert.deepEqual(
    from.map((f) => policy.evaluate(f).map((x) => x.detector)),
    [['policy.egress-not-allowed'], ['policy.egress-not-allowed'], []],
  );
  const e = policy.evaluate(from[0])[0];
  assert.equal(e.severity, 'medium');
  assert.equal(policy.classify(from[0]).direction, 'egress');
  // 10.11.4.x is outside the networks, so the statsd flows are 'external' and not judged.
  const statsd = flows.filter((f) => f.dstPort === 8125);
  assert.equal(statsd.length, 3);
  assert.ok(statsd.every((f) => policy.classify(f).direction === 'external' && policy.evaluate(f).length === 0));
});

test('IPv6 ICMPv6 lines: internal when the /64 is nodes; blocklisted prefix hits the destination', () => {
  const p = parsePolicy('version: 1\nnetworks:\n  nodes: ["2603:10b0:105:1065::/64"]\nblocklists:\n  cidrs: ["2603:10b0:105:1065:8::/80"]\n', 'v6.yaml');
  const policy = compilePolicy(p);
  const flows = testdata('threads-conntrack-L-plain.txt')
    .split('\n')
    .filter((l) => l.startsWith('icmpv6'))
    .map((l) => fromConntrackLine(l));
  assert.equal(flows.length, 3);
  assert.deepEqual(
    flows.map((f) => policy.classify(f).direction),
    ['internal', 'internal', 'internal'],
  );
  assert.deepEqual(
    flows.map((f) => policy.evaluate(f).map((x) => `${x.detector}:${x.entity.addr}`)),
    [[], ['policy.blocklist:2603:10b0:105:1065:8:9e9a:fa90:e3d0'], []],
  );
});

test('metadata API: real flows of a cloud host to 169.254.169.254 (travis corpus) when that host is a pod', () => {
  const flows = fromConntrackXml(testdata('travis-nat-conntrack-E-o-xml-events-head40.xml'));
  const toMeta = flows.filter((f) => f.dstAddr === '169.254.169.254');
  assert.ok(toMeta.length >= 10);
  const asPods = compilePolicy(parsePolicy('version: 1\nnetworks:\n  pods: [10.10.0.0/16]\n', 'meta.yaml'));
  for (const f of flows) {
    const m = asPods.evaluate(f).filter((x) => x.detector === 'policy.metadata-api');
    assert.equal(m.length, f.dstAddr === '169.254.169.254' ? 1 : 0, `${f.srcAddr}->${f.dstAddr}`);
    if (m.length) {
      assert.equal(m[0].mitre, 'T1552.005');
      assert.equal(m[0].severity, 'high');
      assert.equal(m[0].entity.addr, '10.10.0.7');
    }
  }
  // The same host as a node (not a pod) may reach it; so may an allowFrom prefix.
  const asNode = compilePolicy(parsePolicy('version: 1\nnetworks:\n  nodes: [10.10.0.0/16]\n', 'meta.yaml'));
  assert.equal(toMeta.flatMap((f) => asNode.evaluate(f)).filter((x) => x.detector === 'policy.metadata-api').length, 0);
  const allowed = compilePolicy(parsePolicy('version: 1\nnetworks:\n  pods: [10.10.0.0/16]\nrules:\n  metadataApi:\n    allowFrom: [10.10.0.7]\n', 'meta.yaml'));
  assert.equal(toMeta.flatMap((f) => allowed.evaluate(f)).length, 0);
  const off = compilePolicy(parsePolicy('version: 1\nnetworks:\n  pods: [10.10.0.0/16]\nrules:\n  metadataApi:\n    enabled: false\n', 'meta.yaml'));
  assert.equal(toMeta.flatMap((f) => off.evaluate(f)).length, 0);
});

test('metadata API over IPv6 (fd00:ec2::254) and via inventory pods, namespace exemption', async () => {
  const inventory = await loadInventoryFile(join(pkg, 'examples/inventory.yaml'));
  const policy = compilePolicy(defaultPolicy(), { inventory });
  const f = (src: string, dst: string, dstPort = 80): FlowRecord => ({
    schema: 1,
    observedAt: AT,
    source: 'conntrack',
    event: 'new',
    family: dst.includes(':') ? 6 : 4,
    protocol: 6,
    srcAddr: src,
    dstAddr: dst,
    srcPort: 40000,
    dstPort,
  });
  const web = policy.evaluate(f('10.244.1.17', '169.254.169.254'));
  assert.deepEqual(
    web.map((x) => x.detector),
    ['policy.metadata-api'],
  );
  assert.deepEqual(web[0].entity, { addr: '10.244.1.17', namespace: 'frontend', pod: 'web-5d8f7c6b9-x2x7q', workload: 'web' });
  // Inventory /24 without a pod name: not known to be a pod, no finding.
  assert.equal(policy.evaluate(f('10.244.1.99', '169.254.169.254')).length, 0);
  const example = compilePolicy(await loadPolicyFile(join(pkg, 'policies/example.yaml')), { inventory });
  const metaOnly = (flow: FlowRecord) => example.evaluate(flow).filter((x) => x.detector === 'policy.metadata-api');
  assert.equal(metaOnly(f('10.244.4.10', '169.254.169.254')).length, 0, 'kube-system is exempt in the example');
  assert.equal(metaOnly(f('10.244.1.17', '169.254.169.254')).length, 1, 'frontend is not');
  assert.equal(metaOnly(f('fd00:244::17', 'fd00:ec2::254')).length, 1, 'pods v6 range');
});

test('etcd: only control-plane sources; loopback ignored; boundaries 2378/2379/2380/2381', async () => {
  const policy = compilePolicy(await loadPolicyFile(join(pkg, 'policies/example.yaml')));
  const f = (src: string, dstPort: number, protocol = 6): FlowRecord => ({
    schema: 1,
    observedAt: AT,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol,
    srcAddr: src,
    dstAddr: '10.60.0.5',
    srcPort: 50000,
    dstPort,
  });
  const etcd = (flow: FlowRecord) => policy.evaluate(flow).filter((x) => x.detector === 'policy.etcd-access');
  assert.equal(etcd(f('10.244.1.17', 2378)).length, 0);
  const hit = etcd(f('10.244.1.17', 2379));
  assert.equal(hit.length, 1);
  assert.equal(hit[0].severity, 'critical');
  assert.equal(hit[0].mitre, 'T1552.007');
  assert.equal(etcd(f('10.244.1.17', 2380)).length, 1);
  assert.equal(etcd(f('10.244.1.17', 2381)).length, 0);
  assert.equal(etcd(f('10.244.1.17', 2379, PROTO.udp)).length, 0, 'etcd is tcp');
  assert.equal(etcd(f('10.60.0.5', 2379)).length, 0, 'control plane itself');
  assert.equal(etcd(f('127.0.0.1', 2379)).length, 0, 'loopback on the control-plane node');
  assert.equal(etcd(f('10.60.0.14', 2380)).length, 1, 'a worker node is not control plane');
});

test('namespace boundaries from the inventory', async () => {
  const inventory = await loadInventoryFile(join(pkg, 'examples/inventory.yaml'));
  const policy = compilePolicy(await loadPolicyFile(join(pkg, 'policies/example.yaml')), { inventory });
  const f = (src: string, dst: string): FlowRecord => ({
    schema: 1,
    observedAt: AT,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: src,
    dstAddr: dst,
    srcPort: 40000,
    dstPort: 8080,
  });
  const ns = (src: string, dst: string) => policy.evaluate(f(src, dst)).filter((x) => x.detector === 'policy.namespace-boundary');
  assert.equal(ns('10.244.1.17', '10.244.2.31').length, 0, 'frontend -> backend allowed');
  const back = ns('10.244.2.31', '10.244.1.17');
  assert.equal(back.length, 1, 'backend -> frontend not allowed');
  assert.deepEqual([back[0].evidence.fromNamespace, back[0].evidence.toNamespace, back[0].entity.pod], ['backend', 'frontend', 'orders-0']);
  assert.equal(ns('10.244.3.5', '10.244.4.10').length, 0, '* -> kube-system');
  assert.equal(ns('10.244.3.5', '10.244.3.6').length, 0, 'same namespace');
  assert.equal(ns('10.244.3.5', '10.244.2.31').length, 1, 'payments -> backend');
  assert.equal(ns('10.244.3.5', '10.244.9.9').length, 0, 'unknown namespace: not judged');
  const strict = compilePolicy(parsePolicy('version: 1\nnamespaces:\n  sameNamespace: false\n', 's.yaml'), { inventory });
  assert.equal(strict.evaluate(f('10.244.3.5', '10.244.3.6')).length, 1);
});

test('classify fills direction and metadata, keeps existing fields, never mutates', async () => {
  const inventory = await loadInventoryFile(join(pkg, 'examples/inventory.yaml'));
  const policy = compilePolicy(await loadPolicyFile(join(pkg, 'policies/example.yaml')), { inventory, nodeAddrs: ['192.168.122.121'] });
  const input: FlowRecord = Object.freeze({
    schema: 1,
    observedAt: AT,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: '10.244.1.17',
    dstAddr: '10.60.0.14',
    srcPort: 40000,
    dstPort: 22,
    srcMeta: Object.freeze({ node: 'node-z' }),
  }) as FlowRecord;
  const out = policy.classify(input);
  assert.notEqual(out, input);
  assert.equal(input.direction, undefined);
  assert.equal(out.direction, 'internal');
  assert.deepEqual(out.srcMeta, { node: 'node-z', zone: 'pods', namespace: 'frontend', workload: 'web', pod: 'web-5d8f7c6b9-x2x7q' });
  assert.deepEqual(out.dstMeta, { zone: 'nodes' });
  const vx = fromConntrackLine(testdata('threads-conntrack-L-plain.txt').split('\n')[3]);
  assert.deepEqual([policy.classify(vx).direction, policy.classify(vx).srcMeta?.zone], ['ingress', undefined]);
  assert.equal(policy.classify(vx).dstMeta?.zone, 'nodes', 'nodeAddrs join the nodes zone');
  assert.notEqual(policy.version, policy.policy.source.digest, 'inventory and node addresses are part of the version');
  // The default policy has no networks: direction stays unknown.
  assert.equal(compilePolicy(defaultPolicy()).classify(input).direction, undefined);
});

test('finding ids are deterministic from rule, src, dst, protocol and the hour', () => {
  const policy = compilePolicy(parsePolicy('version: 1\nnetworks:\n  nodes: [194.8.252.0/23]\n', 'x.yaml'));
  const line = testdata('iki-conntrack-L-ssh-scan.txt').split('\n')[0];
  const a = policy.evaluate(fromConntrackLine(line));
  const b = policy.evaluate({ ...fromConntrackLine(line), observedAt: AT + 5000, srcPort: 1 });
  assert.equal(a[0].id, b[0].id);
  // another port of the same pair in the same hour is the same finding (a scan is one policy finding)
  const c = policy.evaluate({ ...fromConntrackLine(line), dstPort: 23 });
  assert.equal(a[0].id, c[0].id);
  const d = policy.evaluate({ ...fromConntrackLine(line), dstAddr: '194.8.252.99' });
  assert.notEqual(a[0].id, d[0].id);
  const nextHour = Math.floor(AT / 3_600_000) * 3_600_000 + 3_600_000;
  const e = policy.evaluate({ ...fromConntrackLine(line), observedAt: nextHour });
  assert.notEqual(a[0].id, e[0].id);
  assert.match(a[0].id, /^[0-9a-f]{24}$/);
});

test('evaluate of the record classify just returned (its ends reused) gives what evaluate of the raw record gives; a changed address is read again', async () => {
  const policy = compilePolicy(await loadPolicyFile(join(pkg, 'policies/example.yaml')));
  const flows = testdata('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log')
    .split('\n')
    .filter((l) => l.includes('[NEW]'))
    .map((l) => fromConntrackLine(l));
  let findings = 0;
  for (const raw of flows) {
    const fromRaw = policy.evaluate(raw);
    const classified = policy.classify(raw);
    assert.deepEqual(policy.evaluate(classified), fromRaw);
    findings += fromRaw.length;
  }
  assert.ok(findings > 0, 'the capture breaks the example policy');
  // Mutated after classify: the blocklisted attacker 10.50.0.2 replaced by another source.
  const scan = flows.find((f) => f.srcAddr === '10.50.0.2') as FlowRecord;
  const c = policy.classify(scan);
  const before = policy.evaluate(c).map((x) => x.detector);
  assert.ok(before.includes('policy.blocklist'));
  c.srcAddr = '192.0.2.77';
  assert.deepEqual(
    policy.evaluate(c).map((x) => x.detector),
    policy.evaluate({ ...scan, srcAddr: '192.0.2.77' }).map((x) => x.detector),
  );
  assert.ok(!policy.evaluate(c).some((x) => x.detector === 'policy.blocklist' && x.entity.addr === '192.0.2.77'));
});
