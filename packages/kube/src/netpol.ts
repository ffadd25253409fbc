import { CidrSet } from '@floe/policy';
import { keyOf, type LabelSelector, type NetworkPolicy, type NetworkPolicyPeer, type NetworkPolicyPort } from './objects.js';
import { selects } from './selector.js';

/**
 * NetworkPolicy evaluation of observed flows (networking.k8s.io/v1, Kubernetes "Network
 * Policies"): a pod selected by a policy of type Ingress (Egress) accepts (sends) only what some
 * rule of one of those policies allows; a pod no such policy selects is not isolated for that
 * direction. A flow is allowed when its egress side (the source pod) and its ingress side (the
 * destination pod, after DNAT: the Service backend) both allow it. Peers: `podSelector` (in the
 * policy's namespace), `namespaceSelector` (any pod of matching namespaces), both (pods matching
 * in namespaces matching), `ipBlock` (`cidr` minus `except`, matched on the address). Ports:
 * protocol (default TCP), number, named container port (resolved on the destination pod), and
 * `endPort` ranges; a rule without ports allows every port and protocol, one without peers every
 * peer; an empty rule list (`ingress: []`) allows nothing.
 */

/** One end of a flow, as the evaluator needs it. */
export interface PeerEndpoint {
  addr: string;
  /** Set when the address was a pod's at the flow's time. */
  pod?: {
    namespace: string;
    name: string;
    labels: Readonly<Record<string, string>>;
    namedPorts?: ReadonlyMap<string, { port: number; protocol: string }>;
  };
  /** Labels of the pod's namespace. */
  namespaceLabels?: Readonly<Record<string, string>>;
}

/** A flow to evaluate: ends after DNAT (the backend), the destination port after DNAT, IANA protocol number. */
export interface NetpolFlow {
  src: PeerEndpoint;
  dst: PeerEndpoint;
  protocol: number;
  port?: number;
}

/** Verdict of one side: the pod is not isolated, or it is and some rule allows the flow, or none does. */
export type SideVerdict = 'unselected' | 'allowed' | 'denied';

/** The verdict of a flow. */
export interface NetpolVerdict {
  allowed: boolean;
  egress: SideVerdict;
  ingress: SideVerdict;
  /** `namespace/name` of the policies that isolate the denied side(s). */
  isolatedBy: string[];
}

/** NetworkPolicy protocol name of an IANA protocol number (TCP, UDP, SCTP), or undefined for port-less protocols. */
export function netpolProtocol(n: number): string | undefined {
  return n === 6 ? 'TCP' : n === 17 ? 'UDP' : n === 132 ? 'SCTP' : undefined;
}

interface CompiledPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: CidrSet; except: CidrSet };
}

interface CompiledRule {
  /** undefined: any peer. */
  peers?: CompiledPeer[];
  /** undefined: any port. */
  ports?: NetworkPolicyPort[];
}

interface CompiledPolicy {
  key: string;
  namespace: string;
  podSelector: LabelSelector;
  ingress?: CompiledRule[];
  egress?: CompiledRule[];
}

function compilePeer(p: NetworkPolicyPeer): CompiledPeer {
  const out: CompiledPeer = {};
  if (p.podSelector) out.podSelector = p.podSelector;
  if (p.namespaceSelector) out.namespaceSelector = p.namespaceSelector;
  if (p.ipBlock) {
    const cidr = new CidrSet().add(p.ipBlock.cidr);
    const except = new CidrSet();
    for (const e of p.ipBlock.except ?? []) except.add(e);
    out.ipBlock = { cidr, except };
  }
  return out;
}

function compileRules(rules: Array<{ from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }>, side: 'from' | 'to'): CompiledRule[] {
  return rules.map((r) => {
    const peers = r[side];
    const out: CompiledRule = {};
    if (peers && peers.length > 0) out.peers = peers.map(compilePeer);
    if (r.ports && r.ports.length > 0) out.ports = r.ports;
    return out;
  });
}

/**
 * Compiles one NetworkPolicy. `policyTypes` absent: Ingress, plus Egress when `spec.egress` is
 * present (the API server's defaulting).
 * @throws CidrError (FLOE_POLICY_BAD_CIDR) for an ipBlock the API server would have refused.
 */
export function compileNetworkPolicy(np: NetworkPolicy): CompiledPolicy {
  const spec = np.spec ?? {};
  const types = spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
  const out: CompiledPolicy = { key: keyOf(np), namespace: np.metadata?.namespace ?? 'default', podSelector: spec.podSelector ?? {} };
  if (types.includes('Ingress')) out.ingress = compileRules(spec.ingress ?? [], 'from');
  if (types.includes('Egress')) out.egress = compileRules(spec.egress ?? [], 'to');
  return out;
}

function peerMatches(peer: CompiledPeer, policyNs: string, e: PeerEndpoint): boolean {
  if (peer.ipBlock) return peer.ipBlock.cidr.has(e.addr) && !peer.ipBlock.except.has(e.addr);
  if (!e.pod) return false;
  if (peer.namespaceSelector) {
    if (!selects(peer.namespaceSelector, e.namespaceLabels)) return false;
  } else if (e.pod.namespace !== policyNs) {
    return false;
  }
  return peer.podSelector ? selects(peer.podSelector, e.pod.labels) : true;
}

function portMatches(ports: NetworkPolicyPort[] | undefined, protocol: number, port: number | undefined, dst: PeerEndpoint): boolean {
  if (!ports) return true;
  const proto = netpolProtocol(protocol);
  if (proto === undefined) return false;
  for (const p of ports) {
    if ((p.protocol ?? 'TCP').toUpperCase() !== proto) continue;
    if (p.port === undefined) return true;
    if (port === undefined) continue;
    if (typeof p.port === 'number') {
      if (port === p.port || (p.endPort !== undefined && port >= p.port && port <= p.endPort)) return true;
      continue;
    }
    if (/^\d+$/.test(p.port)) {
      if (Number(p.port) === port) return true;
      continue;
    }
    const named = dst.pod?.namedPorts?.get(p.port);
    if (named && named.port === port && named.protocol === proto) return true;
  }
  return false;
}

const NONE: readonly CompiledPolicy[] = [];

function side(byNs: ReadonlyMap<string, CompiledPolicy[]>, which: 'ingress' | 'egress', self: PeerEndpoint, other: PeerEndpoint, f: NetpolFlow): { v: SideVerdict; by: string[] } {
  const pod = self.pod;
  if (!pod) return { v: 'unselected', by: [] };
  const by: string[] = [];
  for (const p of byNs.get(pod.namespace) ?? NONE) {
    const rules = p[which];
    if (!rules || !selects(p.podSelector, pod.labels)) continue;
    by.push(p.key);
    for (const r of rules) {
      if (r.peers && !r.peers.some((peer) => peerMatches(peer, p.namespace, other))) continue;
      if (!portMatches(r.ports, f.protocol, f.port, f.dst)) continue;
      return { v: 'allowed', by: [] };
    }
  }
  return by.length === 0 ? { v: 'unselected', by } : { v: 'denied', by };
}

/** A set of compiled NetworkPolicies, kept up to date from an informer. */
export class NetworkPolicySet {
  private readonly byKey = new Map<string, CompiledPolicy>();
  /** Policies by namespace (a policy selects pods of its own namespace only). */
  private byNs = new Map<string, CompiledPolicy[]>();
  /** Policies that could not be compiled (bad ipBlock): `namespace/name` -> message. */
  readonly refused = new Map<string, string>();

  /** Adds or replaces a policy. */
  upsert(np: NetworkPolicy): void {
    const key = keyOf(np);
    try {
      this.byKey.set(key, compileNetworkPolicy(np));
      this.refused.delete(key);
    } catch (err) {
      this.byKey.delete(key);
      this.refused.set(key, err instanceof Error ? err.message : String(err));
    }
    this.reindex();
  }

  private reindex(): void {
    const m = new Map<string, CompiledPolicy[]>();
    for (const p of this.byKey.values()) {
      const l = m.get(p.namespace);
      if (l) l.push(p);
      else m.set(p.namespace, [p]);
    }
    this.byNs = m;
  }

  delete(np: NetworkPolicy): void {
    this.byKey.delete(keyOf(np));
    this.refused.delete(keyOf(np));
    this.reindex();
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Evaluates one flow against every policy held. */
  evaluate(f: NetpolFlow): NetpolVerdict {
    const eg = side(this.byNs, 'egress', f.src, f.dst, f);
    const ing = side(this.byNs, 'ingress', f.dst, f.src, f);
    return { allowed: eg.v !== 'denied' && ing.v !== 'denied', egress: eg.v, ingress: ing.v, isolatedBy: [...eg.by, ...ing.by] };
  }
}
