import { type EndpointMeta, type FlowRecord, isIPv4 } from '@floe/flow';
import { stringify } from 'yaml';
import { netpolProtocol } from './netpol.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from './objects.js';

/**
 * Labels that differ between pods of one workload or between its revisions (set by the
 * Deployment, StatefulSet, DaemonSet and Job controllers), and the node topology labels the API
 * server copies onto a pod when it is bound to a node (PodTopologyLabels admission, Kubernetes
 * 1.33+, KEP-4742; seen on the dev server): never used to select a workload.
 */
export const VOLATILE_LABELS: ReadonlySet<string> = new Set([
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'pod-template-generation',
]);

/** The label every namespace carries with its own name (Kubernetes 1.22+, "Well-Known Labels"). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Options of suggestNetworkPolicies. */
export interface SuggestOptions {
  /** Only policies for workloads of this namespace. */
  namespace?: string;
}

/** What suggestNetworkPolicies made, and the flows it could not express. */
export interface SuggestResult {
  policies: NetworkPolicy[];
  /** Flows used (both ends known well enough, a port protocol). */
  used: number;
  /** Flows left out, by reason: `no-pod` (neither end a pod of the namespace asked), `no-port` (ICMP and other protocols NetworkPolicy cannot name), `no-labels` (a pod without labels cannot be selected alone). */
  skipped: Record<string, number>;
}

interface Target {
  namespace: string;
  name: string;
  /** Labels common to every pod seen for the workload. */
  labels: Record<string, string> | undefined;
  ingress: Map<string, { peer: NetworkPolicyPeer; ports: Map<string, NetworkPolicyPort> }>;
  egress: Map<string, { peer: NetworkPolicyPeer; ports: Map<string, NetworkPolicyPort> }>;
}

function stableLabels(l: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(l ?? {}).sort()) if (!VOLATILE_LABELS.has(k)) out[k] = (l as Record<string, string>)[k];
  return out;
}

function intersect(a: Record<string, string> | undefined, b: Record<string, string>): Record<string, string> {
  if (a === undefined) return b;
  const out: Record<string, string> = {};
  for (const k of Object.keys(a)) if (b[k] === a[k]) out[k] = a[k];
  return out;
}

/** The workload key of an endpoint: `namespace/kind/name`, or the pod for a bare pod. */
function workloadKey(m: EndpointMeta): { key: string; name: string } {
  const name = m.workload ?? (m.pod as string);
  return { key: `${m.namespace}/${m.workloadKind ?? 'Pod'}/${name}`, name };
}

function isPodMeta(m: EndpointMeta | undefined): m is EndpointMeta & { namespace: string; pod: string } {
  return m?.pod !== undefined && m.namespace !== undefined;
}

/** A DNS-1123 name for the policy of workload `name` (at most 63 characters). */
function policyName(name: string): string {
  const base = `floe-allow-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-');
  return base.slice(0, 63).replace(/-+$/, '');
}

/**
 * NetworkPolicies that allow exactly the traffic of `flows` (enriched, with srcMeta/dstMeta):
 * one per workload seen as either end, in the workload's namespace, selecting it by the labels
 * all its observed pods share (controller-set hash labels left out), with policyTypes Ingress
 * and Egress (least privilege: what was not observed is denied); each rule names one peer —
 * a pod workload by `podSelector` (plus a `namespaceSelector` on `kubernetes.io/metadata.name`
 * when it is in another namespace), an address outside the cluster by `ipBlock` /32 (/128) —
 * and the exact ports seen (protocol and port after DNAT: a Service's backend port). Flows of
 * protocols without ports (ICMP) cannot be written and are counted in `skipped`.
 */
export function suggestNetworkPolicies(flows: Iterable<FlowRecord>, opts: SuggestOptions = {}): SuggestResult {
  const targets = new Map<string, Target>();
  const skipped: Record<string, number> = {};
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  let used = 0;
  const labelsSeen = new Map<string, Record<string, string>>();
  const all = [...flows];
  // First pass: the labels every observed pod of each workload shares.
  for (const f of all) {
    for (const m of [f.srcMeta, f.dstMeta]) {
      if (!isPodMeta(m)) continue;
      const { key } = workloadKey(m);
      labelsSeen.set(key, intersect(labelsSeen.get(key), stableLabels(m.labels)));
    }
  }
  const target = (m: EndpointMeta & { namespace: string; pod: string }): Target => {
    const { key, name } = workloadKey(m);
    let t = targets.get(key);
    if (!t) {
      t = { namespace: m.namespace, name, labels: labelsSeen.get(key), ingress: new Map(), egress: new Map() };
      targets.set(key, t);
    }
    return t;
  };
  const peerOf = (m: EndpointMeta | undefined, addr: string, ns: string): { key: string; peer: NetworkPolicyPeer } | undefined => {
    if (isPodMeta(m)) {
      const { key } = workloadKey(m);
      const labels = labelsSeen.get(key) ?? {};
      if (Object.keys(labels).length === 0) return undefined;
      const peer: NetworkPolicyPeer = { podSelector: { matchLabels: labels } };
      if (m.namespace !== ns) peer.namespaceSelector = { matchLabels: { [NAMESPACE_NAME_LABEL]: m.namespace } };
      return { key: `pod:${key}`, peer };
    }
    const cidr = `${addr}/${isIPv4(addr) ? 32 : 128}`;
    return { key: `ip:${cidr}`, peer: { ipBlock: { cidr } } };
  };
  const add = (rules: Target['ingress'], p: { key: string; peer: NetworkPolicyPeer }, protocol: string, port: number) => {
    let r = rules.get(p.key);
    if (!r) rules.set(p.key, (r = { peer: p.peer, ports: new Map() }));
    r.ports.set(`${protocol}/${port}`, { protocol, port });
  };
  for (const f of all) {
    const protocol = netpolProtocol(f.protocol);
    const nat = f.replySrcAddr !== undefined && f.replySrcAddr !== f.dstAddr;
    const dstAddr = nat ? (f.replySrcAddr as string) : f.dstAddr;
    const port = nat ? (f.replySrcPort ?? f.dstPort) : f.dstPort;
    const src = f.srcMeta;
    const dst = f.dstMeta;
    const srcOk = isPodMeta(src) && (opts.namespace === undefined || src.namespace === opts.namespace);
    const dstOk = isPodMeta(dst) && (opts.namespace === undefined || dst.namespace === opts.namespace);
    if (!srcOk && !dstOk) {
      skip('no-pod');
      continue;
    }
    if (protocol === undefined || port === undefined) {
      skip('no-port');
      continue;
    }
    let any = false;
    if (dstOk) {
      const t = target(dst as EndpointMeta & { namespace: string; pod: string });
      const p = peerOf(src, f.srcAddr, t.namespace);
      if (p && t.labels && Object.keys(t.labels).length > 0) {
        add(t.ingress, p, protocol, port);
        any = true;
      }
    }
    if (srcOk) {
      const t = target(src as EndpointMeta & { namespace: string; pod: string });
      const p = peerOf(dst, dstAddr, t.namespace);
      if (p && t.labels && Object.keys(t.labels).length > 0) {
        add(t.egress, p, protocol, port);
        any = true;
      }
    }
    if (any) used++;
    else skip('no-labels');
  }
  const byPort = (a: NetworkPolicyPort, b: NetworkPolicyPort) => String(a.protocol).localeCompare(String(b.protocol)) || Number(a.port) - Number(b.port);
  const rulesOf = (m: Target['ingress'], side: 'from' | 'to') =>
    [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => ({ [side]: [r.peer], ports: [...r.ports.values()].sort(byPort) }));
  const policies: NetworkPolicy[] = [];
  for (const t of [...targets.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))) {
    if (!t.labels || Object.keys(t.labels).length === 0) continue;
    policies.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: policyName(t.name), namespace: t.namespace, labels: { 'app.kubernetes.io/managed-by': 'floe' } },
      spec: {
        podSelector: { matchLabels: t.labels },
        policyTypes: ['Ingress', 'Egress'],
        ingress: rulesOf(t.ingress, 'from'),
        egress: rulesOf(t.egress, 'to'),
      },
    });
  }
  return { policies, used, skipped };
}

/** The policies as a multi-document YAML stream (`kubectl apply -f -` reads it). */
export function policiesToYaml(policies: readonly NetworkPolicy[]): string {
  return policies.map((p) => stringify(p, { lineWidth: 0 })).join('---\n');
}
