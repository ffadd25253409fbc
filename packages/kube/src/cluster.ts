import type { EndpointMeta } from '@floe/flow';
import { IpIndex } from './ipindex.js';
import { type ContainerPort, type EndpointSlice, keyOf, type LabelSelector, type Namespace, type Node, type Pod, podIps, type Service, timeMs } from './objects.js';
import type { Workload } from './owners.js';
import { selects } from './selector.js';

/** The node label naming its failure-domain zone (Kubernetes "Well-Known Labels, Annotations and Taints"). */
export const TOPOLOGY_ZONE_LABEL = 'topology.kubernetes.io/zone';

/** A zone given by selectors, as a NetworkPolicy peer writes them (packages/policy `networks.zones`). */
export interface SelectorZone {
  name: string;
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
}

/** A pod as the index keeps it. */
export interface PodEntry {
  kind: 'pod';
  uid: string;
  namespace: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  node?: string;
  /** Named container ports: name -> port and protocol (NetworkPolicy named ports). */
  namedPorts: ReadonlyMap<string, { port: number; protocol: string }>;
  workload?: Workload;
  /** Start (ms): status.startTime, else creationTimestamp. */
  start: number;
  /** Addresses indexed for the pod (none for a host-network pod). */
  ips: readonly string[];
  /** Cached meta and the cluster generation it was built at. */
  meta?: EndpointMeta;
  gen: number;
}

/** A node as the index keeps it. */
export interface NodeEntry {
  kind: 'node';
  name: string;
  labels: Readonly<Record<string, string>>;
  addrs: string[];
  meta?: EndpointMeta;
  gen: number;
}

/** A Service as the index keeps it. */
export interface ServiceEntry {
  kind: 'service';
  namespace: string;
  name: string;
  ips: string[];
  /** nodePort -> protocol (a NodePort or LoadBalancer Service). */
  nodePorts: ReadonlyMap<number, string>;
  meta: EndpointMeta;
}

type Holder = PodEntry | NodeEntry;

/** What the index says about one address at one time. */
export interface AddressInfo {
  meta: EndpointMeta;
  /** The pod, when the address was a pod's (not host network). */
  pod?: PodEntry;
  /** Labels of the pod's namespace (NetworkPolicy namespaceSelector). */
  namespaceLabels?: Readonly<Record<string, string>>;
}

/** Options of a ClusterIndex. */
export interface ClusterIndexOptions {
  /** How long (ms) a deleted pod's address still names it (default 5 min). */
  graceMs?: number;
  /** Zones given by namespace and pod selectors; the first match names an endpoint's `zone`. */
  selectorZones?: readonly SelectorZone[];
}

const sameHolder = (a: Holder, b: Holder): boolean => (a.kind === 'pod' && b.kind === 'pod' ? a.uid === b.uid : a.kind === 'node' && b.kind === 'node' && a.name === b.name);

function namedPortsOf(p: Pod): Map<string, { port: number; protocol: string }> {
  const m = new Map<string, { port: number; protocol: string }>();
  for (const c of p.spec?.containers ?? []) {
    for (const cp of (c.ports ?? []) as ContainerPort[]) if (cp.name) m.set(cp.name, { port: cp.containerPort, protocol: (cp.protocol ?? 'TCP').toUpperCase() });
  }
  return m;
}

/**
 * The cluster as enrichment needs it: pods, nodes, Services, EndpointSlices and namespaces from
 * informer events, an address index that knows time (ipindex.ts), and the EndpointMeta of an
 * address at a time. Pure: the informers (informers.ts) feed it; tests feed it objects as
 * `kubectl get -o yaml` prints them. Times are ms since epoch.
 */
export class ClusterIndex {
  private readonly ips: IpIndex<Holder>;
  private readonly pods = new Map<string, PodEntry>();
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly services = new Map<string, ServiceEntry>();
  private readonly serviceByIp = new Map<string, ServiceEntry>();
  private readonly serviceByNodePort = new Map<number, ServiceEntry>();
  private readonly sliceAddrs = new Map<string, { addrs: string[]; svc: string; namespace: string }>();
  private readonly serviceByBackend = new Map<string, { namespace: string; service: string }>();
  private readonly nsLabels = new Map<string, Readonly<Record<string, string>>>();
  private readonly zones: readonly SelectorZone[];
  /** Bumped whenever something a cached meta depends on changes (nodes, namespaces, owners). */
  private gen = 0;

  constructor(opts: ClusterIndexOptions = {}) {
    this.ips = new IpIndex<Holder>({ graceMs: opts.graceMs });
    this.zones = opts.selectorZones ?? [];
  }

  /** Counts of what is held (for metrics and the benchmark). */
  counts(): { pods: number; nodes: number; services: number; namespaces: number; addresses: number } {
    return { pods: this.pods.size, nodes: this.nodes.size, services: this.services.size, namespaces: this.nsLabels.size, addresses: this.ips.size };
  }

  /** A pod was added or changed (`now`: when the event was received). Host-network pods are not indexed by address: their address is their node's. */
  upsertPod(p: Pod, now: number): PodEntry | undefined {
    const m = p.metadata;
    if (!m?.uid || !m.name || !m.namespace) return undefined;
    const old = this.pods.get(m.uid);
    const e: PodEntry = {
      kind: 'pod',
      uid: m.uid,
      namespace: m.namespace,
      name: m.name,
      labels: Object.freeze({ ...(m.labels ?? {}) }),
      node: p.spec?.nodeName,
      namedPorts: namedPortsOf(p),
      workload: old?.workload,
      start: timeMs(p.status?.startTime) ?? timeMs(m.creationTimestamp) ?? now,
      ips: p.spec?.hostNetwork ? [] : podIps(p),
      gen: -1,
    };
    this.pods.set(m.uid, e);
    const uid = m.uid;
    // Addresses the pod no longer has (a status change) are released now.
    for (const ip of old?.ips ?? []) if (!e.ips.includes(ip)) this.ips.release(ip, now, (h) => h.kind === 'pod' && h.uid === uid);
    for (const ip of e.ips) this.ips.hold(ip, e, e.start, sameHolder);
    return e;
  }

  /** A pod was deleted at `now` (ms): its addresses name it for the grace period. */
  deletePod(p: Pod, now: number): void {
    const uid = p.metadata?.uid;
    if (!uid) return;
    const held = this.pods.get(uid)?.ips ?? [];
    this.pods.delete(uid);
    for (const ip of new Set([...held, ...(p.spec?.hostNetwork ? [] : podIps(p))])) this.ips.release(ip, now, (h) => h.kind === 'pod' && h.uid === uid);
  }

  /** Sets the workload of a pod (owner resolution finished). */
  setWorkload(uid: string, w: Workload | undefined): void {
    const e = this.pods.get(uid);
    if (!e) return;
    e.workload = w;
    e.gen = -1;
  }

  /** The pod entry of `uid`, if held. */
  pod(uid: string): PodEntry | undefined {
    return this.pods.get(uid);
  }

  upsertNode(n: Node, now: number): void {
    const name = n.metadata?.name;
    if (!name) return;
    const addrs = (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address);
    const old = this.nodes.get(name);
    if (old) for (const a of old.addrs) if (!addrs.includes(a)) this.ips.release(a, now, (h) => h.kind === 'node' && h.name === name);
    const e: NodeEntry = { kind: 'node', name, labels: Object.freeze({ ...(n.metadata?.labels ?? {}) }), addrs, gen: -1 };
    this.nodes.set(name, e);
    const from = timeMs(n.metadata?.creationTimestamp) ?? now;
    for (const a of addrs) this.ips.hold(a, e, from, sameHolder);
    this.gen++;
  }

  deleteNode(n: Node, now: number): void {
    const name = n.metadata?.name;
    const e = name === undefined ? undefined : this.nodes.get(name);
    if (!e) return;
    this.nodes.delete(e.name);
    for (const a of e.addrs) this.ips.release(a, now, (h) => h.kind === 'node' && h.name === e.name);
    this.gen++;
  }

  upsertNamespace(ns: Namespace): void {
    const name = ns.metadata?.name;
    if (!name) return;
    this.nsLabels.set(name, Object.freeze({ ...(ns.metadata?.labels ?? {}) }));
    this.gen++;
  }

  deleteNamespace(ns: Namespace): void {
    if (ns.metadata?.name && this.nsLabels.delete(ns.metadata.name)) this.gen++;
  }

  /** Labels of a namespace, when known. */
  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined {
    return this.nsLabels.get(name);
  }

  upsertService(s: Service): void {
    this.deleteService(s);
    const ns = s.metadata?.namespace;
    const name = s.metadata?.name;
    if (!ns || !name) return;
    const ips = (s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : [])).filter((ip) => ip && ip !== 'None');
    const nodePorts = new Map<number, string>();
    for (const p of s.spec?.ports ?? []) if (p.nodePort) nodePorts.set(p.nodePort, (p.protocol ?? 'TCP').toUpperCase());
    const e: ServiceEntry = { kind: 'service', namespace: ns, name, ips, nodePorts, meta: Object.freeze({ namespace: ns, service: name }) };
    this.services.set(keyOf(s), e);
    for (const ip of ips) this.serviceByIp.set(ip, e);
    for (const p of nodePorts.keys()) this.serviceByNodePort.set(p, e);
  }

  deleteService(s: Service): void {
    const old = this.services.get(keyOf(s));
    if (!old) return;
    this.services.delete(keyOf(s));
    for (const ip of old.ips) if (this.serviceByIp.get(ip) === old) this.serviceByIp.delete(ip);
    for (const p of old.nodePorts.keys()) if (this.serviceByNodePort.get(p) === old) this.serviceByNodePort.delete(p);
  }

  /** An EndpointSlice (label `kubernetes.io/service-name`) names the Service of its endpoints' addresses. */
  upsertEndpointSlice(es: EndpointSlice): void {
    this.deleteEndpointSlice(es);
    const ns = es.metadata?.namespace;
    const svc = es.metadata?.labels?.['kubernetes.io/service-name'];
    if (!ns || !svc) return;
    const addrs = (es.endpoints ?? []).flatMap((e) => e.addresses ?? []);
    this.sliceAddrs.set(keyOf(es), { addrs, svc, namespace: ns });
    for (const a of addrs) this.serviceByBackend.set(a, { namespace: ns, service: svc });
  }

  deleteEndpointSlice(es: EndpointSlice): void {
    const old = this.sliceAddrs.get(keyOf(es));
    if (!old) return;
    this.sliceAddrs.delete(keyOf(es));
    for (const a of old.addrs) {
      const cur = this.serviceByBackend.get(a);
      if (cur && cur.namespace === old.namespace && cur.service === old.svc) this.serviceByBackend.delete(a);
    }
  }

  /** The Service whose ClusterIP is `addr`, or whose NodePort is `port` on a node address `addr`. */
  serviceAt(addr: string, port: number | undefined, t: number): ServiceEntry | undefined {
    const s = this.serviceByIp.get(addr);
    if (s) return s;
    if (port === undefined) return undefined;
    const byPort = this.serviceByNodePort.get(port);
    if (byPort && this.ips.lookup(addr, t)?.kind === 'node') return byPort;
    return undefined;
  }

  /** The Service an EndpointSlice lists `addr` as a backend of (current), if any. */
  backendService(addr: string): { namespace: string; service: string } | undefined {
    return this.serviceByBackend.get(addr);
  }

  /** Drops released addresses past their grace period (call now and then). */
  prune(now: number): number {
    return this.ips.prune(now);
  }

  /** What `addr` was at time `t` (ms): a pod, a node (also for host-network pods), a Service ClusterIP, or undefined. */
  lookup(addr: string, t: number): AddressInfo | undefined {
    const h = this.ips.lookup(addr, t);
    if (h?.kind === 'pod') return { meta: this.podMeta(h), pod: h, namespaceLabels: this.nsLabels.get(h.namespace) };
    if (h?.kind === 'node') return { meta: this.nodeMeta(h) };
    const s = this.serviceByIp.get(addr);
    if (s) return { meta: s.meta };
    return undefined;
  }

  private zoneOf(namespace: string, labels: Readonly<Record<string, string>>): string | undefined {
    for (const z of this.zones) {
      if (z.namespaceSelector && !selects(z.namespaceSelector, this.nsLabels.get(namespace))) continue;
      if (z.podSelector && !selects(z.podSelector, labels)) continue;
      if (!z.namespaceSelector && !z.podSelector) continue;
      return z.name;
    }
    return undefined;
  }

  private podMeta(p: PodEntry): EndpointMeta {
    if (p.meta && p.gen === this.gen) return p.meta;
    const m: EndpointMeta = { namespace: p.namespace, pod: p.name };
    if (p.workload) {
      m.workload = p.workload.name;
      m.workloadKind = p.workload.kind;
    }
    if (p.node !== undefined) {
      m.node = p.node;
      const z = this.nodes.get(p.node)?.labels[TOPOLOGY_ZONE_LABEL];
      if (z !== undefined) m.topologyZone = z;
    }
    const zone = this.zoneOf(p.namespace, p.labels);
    if (zone !== undefined) m.zone = zone;
    if (Object.keys(p.labels).length > 0) m.labels = p.labels;
    p.meta = Object.freeze(m);
    p.gen = this.gen;
    return p.meta;
  }

  private nodeMeta(n: NodeEntry): EndpointMeta {
    if (n.meta && n.gen === this.gen) return n.meta;
    const m: EndpointMeta = { node: n.name, workloadKind: 'Node', workload: n.name };
    const z = n.labels[TOPOLOGY_ZONE_LABEL];
    if (z !== undefined) m.topologyZone = z;
    n.meta = Object.freeze(m);
    n.gen = this.gen;
    return n.meta;
  }
}
