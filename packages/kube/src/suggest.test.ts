import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { KubeEnricher, verdictOfRecorded } from './enrich.js';
import { NetworkPolicySet } from './netpol.js';
import type { NetworkPolicy } from './objects.js';
import { policiesToYaml, suggestNetworkPolicies } from './suggest.js';
import { conntrackFlow, loaded, ts } from './testing.js';

const T = ts('2026-12-01T11:30:00Z');
const tcp = (src: string, dst: string, dport: number, reply?: { src: string; sport: number }) =>
  conntrackFlow(
    `${T} [NEW] tcp      6 120 SYN_SENT src=${src} dst=${dst} sport=40000 dport=${dport} [UNREPLIED] src=${reply?.src ?? dst} dst=${src} sport=${reply?.sport ?? dport} dport=40000`,
  );

function enricher(policies = new NetworkPolicySet()) {
  const idx = loaded();
  idx.setWorkload('5c6f0b5e-3333-4e55-8d0c-000000000001', { kind: 'Deployment', name: 'web' });
  idx.setWorkload('5c6f0b5e-3333-4e55-8d0c-000000000002', { kind: 'StatefulSet', name: 'api' });
  return new KubeEnricher(idx, policies);
}

describe('floe policy suggest: NetworkPolicies from observed flows', () => {
  const observed = [
    tcp('10.244.1.17', '10.96.12.34', 443, { src: '10.244.1.30', sport: 9443 }), // web -> Service api -> api-0:9443
    tcp('10.244.1.17', '93.184.216.34', 443), // web -> the internet
    tcp('203.0.113.9', '10.244.1.17', 8080), // outside -> web
  ];
  it('one policy per workload, least privilege, exact ports, peers by selectors or /32', () => {
    const e = enricher();
    const r = suggestNetworkPolicies(observed.map((f) => e.enrich(f)));
    assert.equal(r.used, 3);
    assert.deepEqual(
      r.policies.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
      ['payments/floe-allow-api', 'shop/floe-allow-web'],
    );
    const web = r.policies[1];
    assert.deepEqual(web.spec?.podSelector, { matchLabels: { app: 'web', tier: 'frontend' } }, 'pod-template-hash left out');
    assert.deepEqual(web.spec?.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(web.spec?.ingress, [{ from: [{ ipBlock: { cidr: '203.0.113.9/32' } }], ports: [{ protocol: 'TCP', port: 8080 }] }]);
    assert.deepEqual(web.spec?.egress, [
      { to: [{ ipBlock: { cidr: '93.184.216.34/32' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      {
        to: [{ podSelector: { matchLabels: { app: 'api' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } } }],
        ports: [{ protocol: 'TCP', port: 9443 }],
      },
    ]);
    const api = r.policies[0];
    assert.deepEqual(api.spec?.egress, []);
    assert.equal(api.spec?.ingress?.length, 1);
  });

  it('the suggested policies allow every observed flow and deny others (evaluated after a YAML round trip)', () => {
    const e = enricher();
    const yaml = policiesToYaml(suggestNetworkPolicies(observed.map((f) => e.enrich(f))).policies);
    const set = new NetworkPolicySet();
    for (const d of parseAllDocuments(yaml)) set.upsert(d.toJS() as NetworkPolicy);
    assert.equal(set.size, 2);
    const judge = enricher(set);
    for (const f of observed) assert.equal(judge.verdict(f).allowed, true, `${f.srcAddr} -> ${f.dstAddr}:${f.dstPort}`);
    for (const f of observed) assert.equal(verdictOfRecorded(e.enrich(f), set).allowed, true, `recorded ${f.srcAddr} -> ${f.dstAddr}:${f.dstPort}`);
    assert.equal(verdictOfRecorded(e.enrich(tcp('10.244.1.17', '93.184.216.34', 80)), set).allowed, false);
    assert.equal(judge.verdict(tcp('10.244.1.17', '93.184.216.34', 80)).allowed, false);
    assert.equal(judge.verdict(tcp('203.0.113.10', '10.244.1.17', 8080)).allowed, false);
    assert.equal(judge.verdict(tcp('10.244.1.17', '10.244.1.30', 9444)).allowed, false);
  });

  it('--namespace keeps one namespace; ICMP and flows without pods are counted as skipped', () => {
    const e = enricher();
    const icmp = conntrackFlow(`${T} [NEW] icmp     1 30 src=10.244.1.17 dst=93.184.216.34 type=8 code=0 id=7 [UNREPLIED] src=93.184.216.34 dst=10.244.1.17 type=0 code=0 id=7`);
    const r = suggestNetworkPolicies(
      [...observed, icmp, tcp('198.51.100.1', '198.51.100.2', 22)].map((f) => e.enrich(f)),
      { namespace: 'payments' },
    );
    assert.deepEqual(
      r.policies.map((p) => p.metadata?.name),
      ['floe-allow-api'],
    );
    assert.deepEqual(r.skipped, { 'no-pod': 4 });
  });
});
