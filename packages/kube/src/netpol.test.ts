import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeEnricher } from './enrich.js';
import { NetworkPolicySet } from './netpol.js';
import type { NetworkPolicy } from './objects.js';
import { selects } from './selector.js';
import { conntrackFlow, fixtureItems, loaded, ts } from './testing.js';

const T = ts('2026-12-01T11:30:00Z');
function setup(only?: string[]) {
  const idx = loaded();
  idx.setWorkload('5c6f0b5e-3333-4e55-8d0c-000000000001', { kind: 'Deployment', name: 'web' });
  const set = new NetworkPolicySet();
  for (const np of fixtureItems<NetworkPolicy>('networkpolicies.yaml')) if (!only || only.includes(np.metadata?.name ?? '')) set.upsert(np);
  return new KubeEnricher(idx, set);
}
const tcp = (src: string, dst: string, dport: number, reply?: { src: string; sport: number }) =>
  conntrackFlow(
    `${T} [NEW] tcp      6 120 SYN_SENT src=${src} dst=${dst} sport=40000 dport=${dport} [UNREPLIED] src=${reply?.src ?? dst} dst=${src} sport=${reply?.sport ?? dport} dport=40000`,
  );

describe('NetworkPolicy evaluation of observed flows (testdata/networkpolicies.yaml)', () => {
  it('allows web -> api on the named port grpc (namespaceSelector AND podSelector, endPort range on egress)', () => {
    const v = setup().verdict(tcp('10.244.1.17', '10.244.1.30', 9443));
    assert.deepEqual(v, { allowed: true, egress: 'allowed', ingress: 'allowed', isolatedBy: [] });
  });
  it('denies web -> api on a port in the egress range but not the named port (ingress side)', () => {
    const v = setup().verdict(tcp('10.244.1.17', '10.244.1.30', 9444));
    assert.deepEqual([v.allowed, v.egress, v.ingress, v.isolatedBy], [false, 'allowed', 'denied', ['payments/api-allow-web']]);
  });
  it('judges a ClusterIP flow at its backend (DNAT target from the reply tuple)', () => {
    const v = setup().verdict(tcp('10.244.1.17', '10.96.12.34', 443, { src: '10.244.1.30', sport: 9443 }));
    assert.equal(v.allowed, true);
  });
  it('ipBlock with except: 443 to the internet allowed, to the metadata API and to 10/8 denied, port 80 denied', () => {
    const e = setup();
    assert.equal(e.verdict(tcp('10.244.1.17', '93.184.216.34', 443)).allowed, true);
    assert.equal(e.verdict(tcp('10.244.1.17', '169.254.169.254', 443)).egress, 'denied');
    assert.equal(e.verdict(tcp('10.244.1.17', '10.1.2.3', 443)).egress, 'denied');
    assert.equal(e.verdict(tcp('10.244.1.17', '93.184.216.34', 80)).egress, 'denied');
  });
  it('default-deny ingress (podSelector {}) isolates every pod of its namespace', () => {
    const v = setup().verdict(tcp('203.0.113.9', '10.244.1.17', 8080));
    assert.deepEqual([v.allowed, v.egress, v.ingress, v.isolatedBy], [false, 'unselected', 'denied', ['shop/default-deny-ingress']]);
  });
  it('a pod no policy selects is not isolated', () => {
    const v = setup().verdict(
      conntrackFlow(`${T} [NEW] udp      17 30 src=10.244.1.30 dst=8.8.8.8 sport=5353 dport=53 [UNREPLIED] src=8.8.8.8 dst=10.244.1.30 sport=53 dport=5353`),
    );
    assert.deepEqual([v.allowed, v.egress, v.ingress], [true, 'unselected', 'unselected']);
  });
  it('ICMP matches no rule with ports', () => {
    const v = setup().verdict(
      conntrackFlow(`${T} [NEW] icmp     1 30 src=10.244.1.17 dst=93.184.216.34 type=8 code=0 id=7 [UNREPLIED] src=93.184.216.34 dst=10.244.1.17 type=0 code=0 id=7`),
    );
    assert.equal(v.egress, 'denied');
  });
  it('policyTypes absent: Ingress, and Egress when spec.egress is present', () => {
    const e = setup([]);
    e.policies.upsert({
      metadata: { name: 'eg', namespace: 'payments' },
      spec: { podSelector: { matchLabels: { app: 'api' } }, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] },
    });
    const dns = e.verdict(conntrackFlow(`${T} [NEW] udp      17 30 src=10.244.1.30 dst=8.8.8.8 sport=5353 dport=53 [UNREPLIED] src=8.8.8.8 dst=10.244.1.30 sport=53 dport=5353`));
    assert.equal(dns.allowed, true);
    assert.equal(e.verdict(tcp('10.244.1.30', '93.184.216.34', 443)).egress, 'denied');
    assert.equal(e.verdict(tcp('10.244.1.17', '10.244.1.30', 9443)).ingress, 'denied', 'Ingress with no rules: default deny');
  });
  it('evaluate() reports a denied flow as a kube.netpol-denied finding naming the pod, namespace and workload', () => {
    const e = setup();
    const flow = e.enrich(tcp('10.244.1.17', '10.244.1.30', 9444));
    const [f] = e.evaluate(flow);
    assert.equal(f.detector, 'kube.netpol-denied');
    assert.deepEqual(f.entity, { addr: '10.244.1.17', namespace: 'shop', pod: 'web-5d8f7c6b9-x2x7q', workload: 'web' });
    assert.deepEqual(f.evidence.deniedSides, ['ingress']);
    assert.match(f.summary, /shop\/web-5d8f7c6b9-x2x7q -> payments\/api-0:9444\/tcp/);
    assert.deepEqual(e.evaluate(e.enrich(tcp('10.244.1.17', '10.244.1.30', 9443))), []);
  });
  it('an ipBlock the API server would refuse is held aside, not thrown', () => {
    const s = new NetworkPolicySet();
    s.upsert({ metadata: { name: 'bad', namespace: 'x' }, spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] } });
    assert.equal(s.size, 0);
    assert.match(s.refused.get('x/bad') ?? '', /10\.0\.0\.0\/33/);
  });
});

describe('label selectors', () => {
  const l = { app: 'web', tier: 'frontend' };
  it('matchLabels and every operator', () => {
    assert.equal(selects({}, l), true);
    assert.equal(selects({ matchLabels: { app: 'web' } }, l), true);
    assert.equal(selects({ matchLabels: { app: 'api' } }, l), false);
    assert.equal(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }] }, l), true);
    assert.equal(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['frontend'] }] }, l), false);
    assert.equal(selects({ matchExpressions: [{ key: 'gone', operator: 'NotIn', values: ['x'] }] }, l), true, 'NotIn holds for a missing key');
    assert.equal(selects({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, l), true);
    assert.equal(selects({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, l), false);
    assert.equal(selects({ matchExpressions: [{ key: 'app', operator: 'Bogus' }] }, l), false);
    assert.equal(selects({ matchLabels: { constructor: 'x' } }, {}), false, 'no prototype keys');
  });
});
