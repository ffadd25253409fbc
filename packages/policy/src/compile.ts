/**
 * Compiled policy: every address list becomes a CidrSet and every port list a PortMatcher once,
 * so that classify() and evaluate() cost a few trie walks and bitset reads per flow.
 */
import { createHash } from 'node:crypto';
import { PROTO, type EndpointMeta, type Finding, type FlowDirection, type FlowRecord, type Severity } from '@floe/flow';
import { CidrSet, parseAddress, parseCidr, type ParsedAddress, type ParsedCidr } from './cidr.js';
import { inventorySet, type Inventory, type InventoryEntry } from './inventory.js';
import { PORT_PROTOCOL_NUMBERS, PortMatcher } from './ports.js';
import type { Policy, PortRule } from './types.js';

/** Extra facts given at compile time. */
export interface CompileOptions {
  /** Address/CIDR -> namespace, workload, pod (see loadInventoryFile). */
  inventory?: Inventory;
  /** Addresses of the cluster's nodes known at run time; they join the `nodes` zone. */
  nodeAddrs?: string[];
}

/** A policy compiled for per-flow use. */
export interface CompiledPolicy {
  /** sha256 (first 12 hex) of the policy text and blocklist files, plus the inventory and node addresses when given. */
  readonly version: string;
  /** The validated, defaults-filled, frozen policy. */
  readonly policy: Policy;
  /** Returns a copy of the flow with `direction` and `srcMeta`/`dstMeta` (zone, namespace, workload, pod, node, labels) filled where known; never mutates the input. Fields the flow already has win. */
  classify(flow: FlowRecord): FlowRecord;
  /** Policy findings for one flow (empty when it is fine); deterministic ids (rule + src + dst + dstPort + protocol). */
  evaluate(flow: FlowRecord): Finding[];
  /**
   * True when the policy lets namespace `from` reach namespace `to`: the same namespace with
   * `namespaces.sameNamespace`, or a `namespaces.allow` rule (`*` matches any). Used by the
   * lateral-movement detector to say whether a new peer across a trust boundary was allowed.
   */
  namespaceAllowed(from: string, to: string): boolean;
}

/** Policy rule ids (Finding.detector) and the MITRE ATT&CK technique each maps to, when one fits. */
export const POLICY_RULES = {
  'policy.ingress-port': undefined,
  'policy.egress-not-allowed': undefined,
  'policy.blocklist': undefined,
  'policy.namespace-boundary': undefined,
  /** T1552.005 Unsecured Credentials: Cloud Instance Metadata API. */
  'policy.metadata-api': 'T1552.005',
  /** T1552.007 Unsecured Credentials: Container API (etcd holds the cluster's secrets). */
  'policy.etcd-access': 'T1552.007',
} as const;
export type PolicyRuleId = keyof typeof POLICY_RULES;

const LOOPBACK = new CidrSet().add('127.0.0.0/8').add('::1/128');

function portMatcher(rules: readonly PortRule[]): PortMatcher {
  const m = new PortMatcher();
  for (const r of rules) m.allowSpecs(r.protocol, r.ports);
  return m;
}

interface Ends {
  sa: ParsedAddress | undefined;
  da: ParsedAddress | undefined;
  srcZone: string | undefined;
  dstZone: string | undefined;
  srcInv: InventoryEntry | undefined;
  dstInv: InventoryEntry | undefined;
  direction: FlowDirection | undefined;
}

function fillMeta(existing: EndpointMeta | undefined, zone: string | undefined, inv: InventoryEntry | undefined): EndpointMeta | undefined {
  if (zone === undefined && inv === undefined) return existing;
  const m: EndpointMeta = { ...existing };
  if (m.zone === undefined && zone !== undefined) m.zone = zone;
  if (inv) {
    if (m.namespace === undefined && inv.namespace !== undefined) m.namespace = inv.namespace;
    if (m.workload === undefined && inv.workload !== undefined) m.workload = inv.workload;
    if (m.pod === undefined && inv.pod !== undefined) m.pod = inv.pod;
    if (m.node === undefined && inv.node !== undefined) m.node = inv.node;
    if (m.labels === undefined && inv.labels !== undefined) m.labels = { ...inv.labels };
  }
  return m;
}

/**
 * Compile a validated policy. Zone of an address: longest matching prefix among networks.pods,
 * services, nodes (+ opts.nodeAddrs), the named zones and controlPlane; on an identical prefix the
 * later of that order wins. Pure: no I/O.
 */
export function compilePolicy(p: Policy, opts: CompileOptions = {}): CompiledPolicy {
  const n = p.networks;
  const zones = new CidrSet<string>();
  for (const c of n.pods) zones.add(c, 'pods');
  for (const c of n.services) zones.add(c, 'services');
  for (const c of n.nodes) zones.add(c, 'nodes');
  for (const c of opts.nodeAddrs ?? []) zones.add(c, 'nodes');
  for (const [name, list] of Object.entries(n.zones)) for (const c of list) zones.add(c, name);
  for (const c of n.controlPlane) zones.add(c, 'controlPlane');
  const hasNetworks = zones.size > 0;
  const controlPlane = new CidrSet();
  for (const c of n.controlPlane) controlPlane.add(c);

  const ingressDefault = portMatcher(p.ingress.default);
  const ingressZones = new Map<string, PortMatcher>();
  for (const [z, rules] of Object.entries(p.ingress.zones)) ingressZones.set(z, portMatcher(rules));

  // Egress: each prefix's matcher is the union of the matchers of all rules whose prefix contains
  // it, so the longest-prefix match alone answers (a containing rule always contains the LPM prefix).
  const egress = new CidrSet<PortMatcher>();
  const egressRules = p.egress.allow.map((r) => {
    const m = new PortMatcher();
    if (r.ports === undefined) {
      if (r.protocol === undefined) m.allowAll();
      else m.allowProtocol(PORT_PROTOCOL_NUMBERS[r.protocol]);
    } else {
      m.allowSpecs(r.protocol, r.ports);
    }
    return { m, to: r.to.map((c) => parseCidr(c)) };
  });
  for (const r of egressRules) for (const c of r.to) egress.add(c.prefix, new PortMatcher());
  for (const [prefix, m] of egress.entries()) {
    const inner = parseCidr(prefix);
    for (const r of egressRules) if (r.to.some((outer) => containsPrefix(outer, inner))) m.merge(r.m);
  }
  const egressOn = p.egress.allow.length > 0;

  const blocklist = new CidrSet<string>();
  for (const c of p.blocklists.cidrs) blocklist.add(c, 'blocklists.cidrs');
  for (const e of p.blocklists.fromFiles) blocklist.add(e.cidr, `${e.file}:${e.line}`);

  const meta = p.rules.metadataApi;
  const metadataAddrs = new CidrSet();
  for (const c of meta.addrs) metadataAddrs.add(c);
  const metadataAllow = new CidrSet();
  for (const c of meta.allowFrom) metadataAllow.add(c);
  const metadataAllowNs = new Set(meta.allowNamespaces);

  const etcdPorts = new PortMatcher().allowSpecs('tcp', p.rules.etcdAccess.ports);

  const nsAllow = new Map<string, Set<string>>();
  for (const a of p.namespaces.allow) {
    let s = nsAllow.get(a.from);
    if (!s) nsAllow.set(a.from, (s = new Set()));
    for (const t of a.to) s.add(t);
  }
  const nsAllowed = (from: string, to: string): boolean => {
    const a = nsAllow.get(from);
    const w = nsAllow.get('*');
    return !!(a && (a.has(to) || a.has('*'))) || !!(w && (w.has(to) || w.has('*')));
  };

  const inv = opts.inventory ? inventorySet(opts.inventory) : undefined;

  let version = p.source.digest;
  if (opts.inventory || opts.nodeAddrs) {
    version = createHash('sha256')
      .update(p.source.digest)
      .update(JSON.stringify(opts.inventory ?? null))
      .update(JSON.stringify(opts.nodeAddrs ?? null))
      .digest('hex')
      .slice(0, 12);
  }
  const producedBy = `policy:${version}`;

  /**
   * One end of a flow: the address parsed, its zone and inventory entry. The last result per side
   * is kept (the compiled policy never changes): a node's own address, or a scanner's, repeats on
   * most records of a stream, and then costs one string comparison instead of a parse and two
   * longest-prefix walks.
   */
  interface End {
    text: string;
    a: ParsedAddress | undefined;
    zone: string | undefined;
    inv: InventoryEntry | undefined;
  }
  const endOf = (text: string): End => {
    const a = parseAddress(text);
    return { text, a, zone: a && zones.lookupParsed(a), inv: a && inv?.lookupParsed(a) };
  };
  let lastSrcEnd: End = endOf('');
  let lastDstEnd: End = lastSrcEnd;

  function ends(flow: FlowRecord): Ends {
    const s = flow.srcAddr === lastSrcEnd.text ? lastSrcEnd : (lastSrcEnd = endOf(flow.srcAddr));
    const d = flow.dstAddr === lastDstEnd.text ? lastDstEnd : (lastDstEnd = endOf(flow.dstAddr));
    const sa = s.a;
    const da = d.a;
    const srcZone = s.zone;
    const dstZone = d.zone;
    const srcInv = s.inv;
    const dstInv = d.inv;
    let direction: FlowDirection | undefined;
    if (hasNetworks && sa && da) {
      const si = srcZone !== undefined;
      const di = dstZone !== undefined;
      direction = si ? (di ? 'internal' : 'egress') : di ? 'ingress' : 'external';
    }
    return { sa, da, srcZone, dstZone, srcInv, dstInv, direction };
  }

  function classifyWith(flow: FlowRecord, e: Ends): FlowRecord {
    const out: FlowRecord = { ...flow };
    if (e.direction !== undefined) out.direction = e.direction;
    const sm = fillMeta(flow.srcMeta, e.srcZone, e.srcInv);
    const dm = fillMeta(flow.dstMeta, e.dstZone, e.dstInv);
    if (sm !== undefined) out.srcMeta = sm;
    if (dm !== undefined) out.dstMeta = dm;
    return out;
  }

  /** Time bucket of policy finding ids (ms): a repeat of the same violation within it is the same finding. */
  const FINDING_BUCKET_MS = 3_600_000;

  function finding(
    rule: PolicyRuleId,
    severity: Severity,
    flow: FlowRecord,
    entitySide: 'src' | 'dst',
    meta: EndpointMeta | undefined,
    summary: string,
    extra: Record<string, unknown>,
  ): Finding {
    // One finding per rule, address pair and protocol per hour (FINDING_BUCKET_MS): a port scan
    // against closed ports is one policy finding with the first port as evidence, not one a port.
    const bucket = Math.floor((flow.start ?? flow.observedAt) / FINDING_BUCKET_MS);
    const id = createHash('sha256').update(`${rule}|${flow.srcAddr}|${flow.dstAddr}|${flow.protocol}|${bucket}`).digest('hex').slice(0, 24);
    const addr = entitySide === 'src' ? flow.srcAddr : flow.dstAddr;
    const peer = entitySide === 'src' ? flow.dstAddr : flow.srcAddr;
    const f: Finding = {
      id,
      schema: 1,
      firstSeen: flow.start ?? flow.observedAt,
      lastSeen: flow.end ?? flow.observedAt,
      detector: rule,
      kind: 'policy',
      severity,
      score: 1,
      entity: { addr },
      peers: [peer],
      summary,
      evidence: {
        flows: 1,
        verdicts: { accept: flow.verdict === 'accept' ? 1 : 0, drop: flow.verdict === 'drop' ? 1 : 0, none: flow.verdict === undefined ? 1 : 0 },
        ...(flow.dstPort !== undefined ? { ports: [flow.dstPort], distinctPorts: 1 } : {}),
        distinctHosts: 1,
        sample: [{ at: flow.start ?? flow.observedAt, dst: flow.dstAddr, dstPort: flow.dstPort, protocol: flow.protocol, state: flow.state }],
        ...extra,
      },
      producedBy,
    };
    if (meta?.namespace !== undefined) f.entity.namespace = meta.namespace;
    if (meta?.pod !== undefined) f.entity.pod = meta.pod;
    if (meta?.workload !== undefined) f.entity.workload = meta.workload;
    const mitre = POLICY_RULES[rule];
    if (mitre !== undefined) f.mitre = mitre;
    for (const s of f.evidence.sample!) {
      if (s.dstPort === undefined) delete s.dstPort;
      if (s.state === undefined) delete s.state;
    }
    return f;
  }

  const dport = (f: FlowRecord): string => (f.dstPort !== undefined ? `:${f.dstPort}` : '');
  const proto = (n: number): string => PROTO_NAMES.get(n) ?? String(n);
  /** The flow in a finding's summary: `src -> dst[:port]/proto` (built only for a finding). */
  const whereOf = (flow: FlowRecord): string => `${flow.srcAddr} -> ${flow.dstAddr}${dport(flow)}/${proto(flow.protocol)}`;

  // The record `classify` returned last and its ends: the pipeline evaluates what it just
  // classified, and classifying a classified record again changes nothing (fields it has win), so
  // evaluate reads that record as it is, unless its addresses, metadata or direction changed since.
  let lastOut: FlowRecord | undefined;
  let lastEnds: Ends | undefined;
  let lastSrc = '';
  let lastDst = '';
  let lastSm: EndpointMeta | undefined;
  let lastDm: EndpointMeta | undefined;
  let lastDir: FlowDirection | undefined;

  function classify(flow: FlowRecord): FlowRecord {
    const e = ends(flow);
    const out = classifyWith(flow, e);
    lastOut = out;
    lastEnds = e;
    lastSrc = out.srcAddr;
    lastDst = out.dstAddr;
    lastSm = out.srcMeta;
    lastDm = out.dstMeta;
    lastDir = out.direction;
    return out;
  }

  function evaluate(input: FlowRecord): Finding[] {
    const same = input === lastOut && input.srcAddr === lastSrc && input.dstAddr === lastDst && input.srcMeta === lastSm && input.dstMeta === lastDm && input.direction === lastDir;
    const e = same ? (lastEnds as Ends) : ends(input);
    if (!e.sa || !e.da) return [];
    const flow = same ? input : classifyWith(input, e);
    const sm = flow.srcMeta;
    const dm = flow.dstMeta;
    const out: Finding[] = [];

    const bs = blocklist.lookupParsed(e.sa);
    if (bs !== undefined) {
      out.push(finding('policy.blocklist', p.blocklists.severity, flow, 'src', sm, `blocklisted source ${flow.srcAddr} (${bs}): ${whereOf(flow)}`, { side: 'src', listedBy: bs }));
    }
    const bd = blocklist.lookupParsed(e.da);
    if (bd !== undefined) {
      out.push(finding('policy.blocklist', p.blocklists.severity, flow, 'dst', dm, `flow to blocklisted ${flow.dstAddr} (${bd}): ${whereOf(flow)}`, { side: 'dst', listedBy: bd }));
    }

    if (meta.enabled && metadataAddrs.hasParsed(e.da)) {
      const fromPod = e.srcZone === 'pods' || sm?.pod !== undefined;
      const allowed = metadataAllow.hasParsed(e.sa) || (sm?.namespace !== undefined && metadataAllowNs.has(sm.namespace));
      if (fromPod && !allowed) {
        out.push(
          finding(
            'policy.metadata-api',
            meta.severity,
            flow,
            'src',
            sm,
            `pod ${sm?.namespace ? `${sm.namespace}/${sm.pod ?? flow.srcAddr}` : flow.srcAddr} reached the cloud metadata API: ${whereOf(flow)}`,
            {},
          ),
        );
      }
    }

    if (p.rules.etcdAccess.enabled && flow.protocol === PROTO.tcp && etcdPorts.allows(PROTO.tcp, flow.dstPort) && !controlPlane.hasParsed(e.sa) && !LOOPBACK.hasParsed(e.sa)) {
      out.push(
        finding(
          'policy.etcd-access',
          p.rules.etcdAccess.severity,
          flow,
          'src',
          sm,
          `non-control-plane ${flow.srcAddr}${sm?.zone ? ` (zone ${sm.zone})` : ''} reached etcd: ${whereOf(flow)}`,
          {},
        ),
      );
    }

    if (p.ingress.enabled && e.direction === 'ingress' && flow.dstPort !== undefined && isPortProtocol(flow.protocol)) {
      const m = ingressZones.get(e.dstZone!) ?? ingressDefault;
      if (!m.allows(flow.protocol, flow.dstPort)) {
        out.push(
          finding(
            'policy.ingress-port',
            p.ingress.severity,
            flow,
            'src',
            sm,
            `ingress to port ${flow.dstPort}/${proto(flow.protocol)} not allowed in zone ${e.dstZone}: ${whereOf(flow)}`,
            { zone: e.dstZone },
          ),
        );
      }
    }

    if (egressOn && e.direction === 'egress') {
      const m = egress.lookupParsed(e.da);
      if (!m?.allows(flow.protocol, flow.dstPort)) {
        out.push(finding('policy.egress-not-allowed', p.egress.severity, flow, 'src', sm, `egress not on the allow-list: ${whereOf(flow)}`, { zone: e.srcZone }));
      }
    }

    if (p.namespaces.enabled) {
      const sn = sm?.namespace;
      const dn = dm?.namespace;
      if (sn !== undefined && dn !== undefined && !(sn === dn && p.namespaces.sameNamespace) && !nsAllowed(sn, dn)) {
        out.push(
          finding('policy.namespace-boundary', p.namespaces.severity, flow, 'src', sm, `namespace ${sn} may not reach namespace ${dn}: ${whereOf(flow)}`, {
            fromNamespace: sn,
            toNamespace: dn,
          }),
        );
      }
    }
    return out;
  }

  return {
    version,
    policy: p,
    classify,
    evaluate,
    namespaceAllowed: (from, to) => (from === to && p.namespaces.sameNamespace) || nsAllowed(from, to),
  };
}

/** Protocol number -> its first name in PROTO (as `Object.entries(PROTO).find` gives it). */
const PROTO_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(PROTO)) if (!PROTO_NAMES.has(n)) PROTO_NAMES.set(n, name);

const PORT_PROTOS = new Set<number>(Object.values(PORT_PROTOCOL_NUMBERS));
function isPortProtocol(n: number): boolean {
  return PORT_PROTOS.has(n);
}

/** True when prefix `outer` contains prefix `inner` (same family, shorter or equal, same leading bits). */
function containsPrefix(outer: ParsedCidr, inner: ParsedCidr): boolean {
  if (outer.family !== inner.family || outer.bits > inner.bits) return false;
  for (let i = 0; i < outer.words.length; i++) {
    const keep = Math.max(0, Math.min(32, outer.bits - i * 32));
    const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    if ((inner.words[i] & mask) >>> 0 !== outer.words[i]) return false;
  }
  return true;
}
