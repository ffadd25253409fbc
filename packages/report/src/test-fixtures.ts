/** Fixtures shared by the report tests: a small cluster's flows, findings, a block and a gap. */
import type { FlowRecord } from '@floe/flow';
import { compilePolicy, parsePolicy } from '@floe/policy';
import type { Store } from '@floe/store';
import { decisionFixture, findingFixture, flowFixture } from '@floe/store/contract';

/** One hour (ms). */
export const H = 3_600_000;
/** The fixtures' first hour. */
export const T = Date.parse('2026-11-30T10:00:00Z');
/** A policy with pods, a control plane, a dmz zone, an egress allow-list and one namespace rule. */
export const POLICY = compilePolicy(
  parsePolicy(
    `version: 1
name: report-test
networks:
  pods: [10.244.0.0/16]
  controlPlane: [10.0.0.10]
  zones: { dmz: [192.0.2.0/24] }
egress:
  allow:
    - { to: [203.0.113.0/24], protocol: tcp, ports: [443] }
namespaces:
  allow:
    - { from: shop, to: [pay] }
`,
    'report-test.yaml',
  ),
);

/** Flows of a small cluster: classified by the policy (as the pipeline stores them). */
export function flows(): FlowRecord[] {
  const f = (i: number, over: Partial<FlowRecord>): FlowRecord => POLICY.classify(flowFixture({ observedAt: T + i * 60_000, ctId: String(i), ...over }));
  const out: FlowRecord[] = [];
  // an outside host probes 30 pod ports (1 allowed: 6443) in hour 0
  for (let p = 0; p < 30; p++) out.push(f(p, { srcAddr: '198.51.100.7', dstAddr: '10.244.1.5', dstPort: p === 0 ? 6443 : 1000 + p }));
  // egress: 443 to the allow-list (fine), 8443 to it and 443 elsewhere (not allowed), in hour 1
  out.push(f(60, { srcAddr: '10.244.1.5', dstAddr: '203.0.113.9', dstPort: 443 }));
  out.push(f(61, { srcAddr: '10.244.1.5', dstAddr: '203.0.113.9', dstPort: 8443 }));
  out.push(f(62, { srcAddr: '10.244.1.5', dstAddr: '198.51.100.80', dstPort: 443 }));
  // namespaces: shop -> pay allowed, pay -> shop not
  out.push(f(63, { srcAddr: '10.244.1.5', dstAddr: '10.244.2.6', srcMeta: { namespace: 'shop' }, dstMeta: { namespace: 'pay' } }));
  out.push(f(64, { srcAddr: '10.244.2.6', dstAddr: '10.244.1.5', srcMeta: { namespace: 'pay' }, dstMeta: { namespace: 'shop' } }));
  // a pod asks the metadata API; a pod reaches etcd and the kubelet; the control plane reaches etcd (fine)
  out.push(f(65, { srcAddr: '10.244.1.5', dstAddr: '169.254.169.254', dstPort: 80 }));
  out.push(f(66, { srcAddr: '10.244.1.5', dstAddr: '10.0.0.10', dstPort: 2379 }));
  out.push(f(67, { srcAddr: '10.244.1.5', dstAddr: '10.0.0.10', dstPort: 10250 }));
  out.push(f(68, { srcAddr: '10.0.0.10', dstAddr: '10.0.0.10', dstPort: 2380, srcPort: 40_100 }));
  // dmz -> pods: a zone crossing
  out.push(f(69, { srcAddr: '192.0.2.4', dstAddr: '10.244.1.5', dstPort: 8080 }));
  return out;
}

/** Stores the flows, two findings, a one-hour block and an ENOBUFS gap. */
export async function seed(store: Store): Promise<void> {
  await store.insertFlows(flows());
  await store.insertFindings([
    findingFixture({ id: 'scan', firstSeen: T, lastSeen: T + 30 * 60_000, entity: { addr: '198.51.100.7' } }),
    findingFixture({ id: 'ns', severity: 'medium', detector: 'policy.namespace-boundary', kind: 'policy', firstSeen: T + H, lastSeen: T + H }),
  ]);
  const d = decisionFixture({ target: '198.51.100.7/32', updatedAt: T + 10 * 60_000, durationMs: H, origin: 'scan' });
  await store.upsertDecision(d, { at: d.updatedAt, target: d.target, change: 'create', origin: 'scan', reason: 'portscan.vertical' });
  await store.insertDeadLetters([
    { schema: 1, reason: 'invalid', detail: 'bad', topic: 'floe.flows.v1', partition: 0, offset: '1', key: 'k', payload: '', group: 'processor', step: 'decode', at: T + H },
  ]);
  await store.insertGaps([{ schema: 1, node: 'node-a', source: 'conntrack', kind: 'enobufs', from: T + H, to: T + H + 1000, count: 2 }]);
}
