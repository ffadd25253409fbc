import { createHash } from 'node:crypto';
import { type EndpointMeta, type Finding, type FlowRecord, protocolName } from '@floe/flow';
import type { AddressInfo, ClusterIndex } from './cluster.js';
import type { KubeMetrics } from './metrics.js';
import type { NetpolVerdict, NetworkPolicySet, PeerEndpoint } from './netpol.js';

/** Finding id (detector) of a flow a NetworkPolicy would deny. */
export const NETPOL_DENIED = 'kube.netpol-denied';
/** A repeat of the same denied (source, destination, port, protocol) within this time (ms) is the same finding. */
export const NETPOL_FINDING_BUCKET_MS = 3_600_000;

/** The time enrichment looks an address up at: the flow's start when known, else when it was observed (ms). */
export function flowTime(f: FlowRecord): number {
  return f.start ?? f.observedAt;
}

/** Existing fields win: `a` (the flow's own) over `b` (enrichment). */
function merge(a: EndpointMeta | undefined, b: EndpointMeta | undefined): EndpointMeta | undefined {
  if (!b) return a;
  if (!a) return b;
  return { ...b, ...a };
}

/** The backend of a DNAT'ed flow: conntrack's reply source when it differs from the original destination. */
function backendOf(f: FlowRecord): { addr: string; port: number | undefined } | undefined {
  if (f.replySrcAddr === undefined || f.replySrcAddr === f.dstAddr) return undefined;
  return { addr: f.replySrcAddr, port: f.replySrcPort ?? f.dstPort };
}

/**
 * Kubernetes enrichment of flows and NetworkPolicy evaluation over one ClusterIndex and one
 * NetworkPolicySet (fed by informers.ts). `enrich` sets `srcMeta`/`dstMeta` from what each
 * address was at the flow's time; a flow to a Service ClusterIP, or to a node's NodePort, names
 * the Service and, through conntrack's reply tuple (the DNAT target), the backend pod.
 * `evaluate` returns a `kube.netpol-denied` finding for a flow the cluster's NetworkPolicies would
 * deny.
 */
export class KubeEnricher {
  /** Time (ms, wall clock) of the last informer event; for floe_kube_miss_lag_seconds. */
  lastEventAt = 0;

  constructor(
    readonly index: ClusterIndex,
    readonly policies: NetworkPolicySet,
    private readonly metrics?: KubeMetrics,
  ) {}

  private count(side: string, info: AddressInfo | undefined, t: number): void {
    if (!this.metrics) return;
    const result = info === undefined ? 'miss' : info.pod ? 'pod' : info.meta.service !== undefined && info.meta.pod === undefined ? 'service' : 'node';
    this.metrics.lookups.inc({ side, result });
    if (info === undefined && this.lastEventAt > 0) this.metrics.missLag.observe(Math.max(0, (t - this.lastEventAt) / 1000));
  }

  /** A copy of the flow with srcMeta/dstMeta from the cluster at the flow's time; the flow itself when nothing is known. Fields the flow already has win. */
  enrich(f: FlowRecord): FlowRecord {
    const t = flowTime(f);
    const src = this.index.lookup(f.srcAddr, t);
    this.count('src', src, t);
    const svc = this.index.serviceAt(f.dstAddr, f.dstPort, t);
    const be = backendOf(f);
    let dstMeta: EndpointMeta | undefined;
    if (be) {
      const b = this.index.lookup(be.addr, t);
      this.count('backend', b, t);
      dstMeta = b?.meta;
      // A backend that is no pod (a Service without selector, its EndpointSlice written by hand): the Service it is listed under.
      if (dstMeta === undefined) {
        const bs = this.index.backendService(be.addr);
        if (bs) dstMeta = { namespace: bs.namespace, service: bs.service };
      }
    }
    if (dstMeta === undefined) {
      const d = this.index.lookup(f.dstAddr, t);
      this.count('dst', d, t);
      dstMeta = d?.meta;
    }
    if (svc && dstMeta?.service !== svc.name) dstMeta = { ...dstMeta, namespace: dstMeta?.namespace ?? svc.namespace, service: svc.name };
    if (!src && !dstMeta) return f;
    const sm = merge(f.srcMeta, src?.meta);
    const dm = merge(f.dstMeta, dstMeta);
    // The copy starts as a literal holding the meta fields, then takes the flow's: on Node 20 this
    // is several times cheaper than `{ ...f, srcMeta }` (adding a field to a spread copy of a
    // record leaves V8's fast path; bench/kube.bench.ts prints both).
    const out = (sm && dm ? { srcMeta: sm, dstMeta: dm } : sm ? { srcMeta: sm } : { dstMeta: dm }) as FlowRecord;
    Object.assign(out, f);
    if (sm) out.srcMeta = sm;
    if (dm) out.dstMeta = dm;
    return out;
  }

  /** The two ends of a flow as the NetworkPolicy evaluator sees them (after DNAT). */
  endsOf(f: FlowRecord): { src: PeerEndpoint; dst: PeerEndpoint; port: number | undefined } {
    const t = flowTime(f);
    const be = backendOf(f);
    const dstAddr = be?.addr ?? f.dstAddr;
    const port = be ? be.port : f.dstPort;
    return { src: this.peer(f.srcAddr, t), dst: this.peer(dstAddr, t), port };
  }

  private peer(addr: string, t: number): PeerEndpoint {
    const info = this.index.lookup(addr, t);
    if (!info?.pod) return { addr };
    const p = info.pod;
    return { addr, pod: { namespace: p.namespace, name: p.name, labels: p.labels, namedPorts: p.namedPorts }, namespaceLabels: info.namespaceLabels };
  }

  /** The NetworkPolicy verdict of a flow. */
  verdict(f: FlowRecord): NetpolVerdict {
    const e = this.endsOf(f);
    return this.policies.evaluate({ src: e.src, dst: e.dst, protocol: f.protocol, port: e.port });
  }

  /** `kube.netpol-denied` findings of one (enriched) flow: [] when allowed or when no policy isolates either end. */
  evaluate(f: FlowRecord): Finding[] {
    if (this.policies.size === 0) return [];
    const e = this.endsOf(f);
    if (!e.src.pod && !e.dst.pod) return [];
    const v = this.policies.evaluate({ src: e.src, dst: e.dst, protocol: f.protocol, port: e.port });
    if (v.allowed) return [];
    const sides = [...(v.egress === 'denied' ? ['egress'] : []), ...(v.ingress === 'denied' ? ['ingress'] : [])];
    for (const s of sides) this.metrics?.denied.inc({ side: s });
    const t = flowTime(f);
    const bucket = Math.floor(t / NETPOL_FINDING_BUCKET_MS);
    const id = createHash('sha256')
      .update(`${NETPOL_DENIED}|${f.srcAddr}|${e.dst.addr}|${e.port ?? ''}|${f.protocol}|${bucket}`)
      .digest('hex')
      .slice(0, 24);
    const name = (m: EndpointMeta | undefined, addr: string): string => (m?.pod !== undefined ? `${m.namespace}/${m.pod}` : addr);
    const sm = f.srcMeta;
    const finding: Finding = {
      id,
      schema: 1,
      firstSeen: t,
      lastSeen: f.end ?? f.observedAt,
      detector: NETPOL_DENIED,
      kind: 'policy',
      severity: 'medium',
      score: 1,
      entity: { addr: f.srcAddr },
      peers: [e.dst.addr],
      summary: `NetworkPolicy would deny ${sides.join(' and ')}: ${name(sm, f.srcAddr)} -> ${name(f.dstMeta, e.dst.addr)}${e.port !== undefined ? `:${e.port}` : ''}/${protocolName(f.protocol)} (isolated by ${v.isolatedBy.join(', ')})`,
      evidence: {
        flows: 1,
        ...(e.port !== undefined ? { ports: [e.port], distinctPorts: 1 } : {}),
        distinctHosts: 1,
        deniedSides: sides,
        isolatedBy: v.isolatedBy,
        sample: [{ at: t, dst: e.dst.addr, ...(e.port !== undefined ? { dstPort: e.port } : {}), protocol: f.protocol, ...(f.state !== undefined ? { state: f.state } : {}) }],
      },
      producedBy: 'kube:networkpolicy',
    };
    if (sm?.namespace !== undefined) finding.entity.namespace = sm.namespace;
    if (sm?.pod !== undefined) finding.entity.pod = sm.pod;
    if (sm?.workload !== undefined) finding.entity.workload = sm.workload;
    return [finding];
  }
}

/**
 * The NetworkPolicy verdict of a recorded flow from the metadata it carries (srcMeta/dstMeta:
 * namespace, pod, labels, as enrichment stored them), not from the live cluster: a pod deleted
 * since still counts as the pod it was. `namespaceLabels` gives a namespace's labels (absent: only
 * `kubernetes.io/metadata.name`, which every namespace carries). Named ports cannot be resolved
 * from metadata (a rule by port name matches nothing here). How `floe policy suggest`'s output is
 * checked against the flows it was made from.
 */
export function verdictOfRecorded(
  f: FlowRecord,
  set: NetworkPolicySet,
  namespaceLabels: (ns: string) => Readonly<Record<string, string>> | undefined = () => undefined,
): NetpolVerdict {
  const be = backendOf(f);
  const end = (addr: string, m: EndpointMeta | undefined): PeerEndpoint => {
    if (m?.pod === undefined || m.namespace === undefined) return { addr };
    return {
      addr,
      pod: { namespace: m.namespace, name: m.pod, labels: m.labels ?? {} },
      namespaceLabels: namespaceLabels(m.namespace) ?? { 'kubernetes.io/metadata.name': m.namespace },
    };
  };
  return set.evaluate({ src: end(f.srcAddr, f.srcMeta), dst: end(be?.addr ?? f.dstAddr, f.dstMeta), protocol: f.protocol, port: be ? be.port : f.dstPort });
}
