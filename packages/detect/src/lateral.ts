/**
 * `lateral.newpeer`: a source inside the cluster reaches a peer (address or workload, port) it never
 * reached before, across a trust boundary, after its learning period (MITRE ATT&CK T1021 Remote
 * Services; T1210 Exploitation of Remote Services looks the same in flow records).
 *
 * Trust boundary: the trust domain of an endpoint is its namespace (flow enrichment, or the
 * policy's inventory via `classify`), else its named zone (`networks.zones`; the built-in zones
 * pods, services, nodes and controlPlane are not domains: pods reach services and nodes all the
 * time). A flow crosses a boundary when both ends have a domain and they differ. Pairs that
 * `namespaces.allow` permits still cross (allowed is not the same as usual); the evidence says
 * whether the policy allows the pair (`deps.namespaceAllowed`), and a pair it does not allow also
 * raises `policy.namespace-boundary`.
 *
 * Entities and peers: a source is its namespace/workload when enrichment knows both (pods come and
 * go, workloads stay), else its address; a peer likewise, with protocol and destination port.
 * Flows with a direction other than `internal`, and flows without a destination port, are ignored.
 *
 * Learning: for `learnMs` after an entity's first flow every crossing peer it reaches is learnt
 * silently. After that a crossing peer not seen before RAISES a finding (kind `new`) that covers
 * `windowMs` from that first new peer; reaching `manyPeers` new peers emits it again with
 * `manySeverity` (`update`), and again on each doubling; final form when the window ends.
 *
 * Memory: the seen (entity, peer) pairs are a two-generation Bloom filter ({@link RotatingBloom},
 * `peerCapacity` pairs, at most about 2 % false "seen" answers, which miss a new peer, never raise a
 * false one; 1.4 MB per million pairs). Entities are BoundedKeys (`limits.maxKeys`); an entity that
 * has crossed a boundary once is promoted to the protected segment, so spraying one-shot sources
 * (spoofed addresses have no namespace, so never cross) cannot evict it and restart its learning (an
 * evicted entity starts learning again: quiet, counted in `evictedKeys`).
 */
import type { FindingEntity, EndpointMeta, Finding, FlowRecord } from '@floe/flow';
import { BUILTIN_ZONES } from '@floe/policy';
import { eventTime, hasOwnTime, isAttemptEvent } from './attempt.js';
import { RotatingBloom } from './bloom.js';
import { BoundedKeys } from './keyed.js';
import { GateFollower } from './gate.js';
import { entityOf } from './entity.js';
import { detach } from './retain.js';
import { NONE, OpenEpisodes, countFinding, episodeDetector, episodeEmitter, newStats, type Episode } from './episodes.js';
import { DEFAULT_PRODUCED_BY, findingId } from './finding.js';
import { checkLateness, checkLimits } from './options.js';
import { checkLateralOptions, type LateralOptions } from './rule-options.js';
import type { DetectorDeps, WindowDetector } from './portscan.js';

/** Detector id of the lateral-movement detector. */
export const LATERAL_ID = 'lateral.newpeer';

/** MITRE ATT&CK "Remote Services" (https://attack.mitre.org/techniques/T1021/). */
export const MITRE_REMOTE_SERVICES = 'T1021';

/** Default (entity, peer) pairs the seen-set remembers (see {@link RotatingBloom}). */
export const LATERAL_PEER_CAPACITY = 1_000_000;

/** New peers listed in a finding's evidence, at most. */
const PEERS_KEPT = 50;

/** The peers of a state that never opened a finding: shared and never pushed to (opening one sets a fresh list). */
const NO_PEERS: NewPeer[] = [];

/** What the lateral detector needs from the compiled policy beyond the classified flow. */
export interface ClusterDeps {
  /** The policy's namespace trust (`CompiledPolicy.namespaceAllowed`): may namespace `from` reach `to`? Evidence only. */
  namespaceAllowed?: (from: string, to: string) => boolean;
  /** (entity, peer) pairs remembered (default {@link LATERAL_PEER_CAPACITY}). */
  peerCapacity?: number;
}

const BUILTIN = new Set<string>(BUILTIN_ZONES);

/** Trust domain of an endpoint: `ns:<namespace>`, else `zone:<named zone>`, else undefined. */
export function trustDomain(m: EndpointMeta | undefined): string | undefined {
  if (m === undefined) return undefined;
  if (m.namespace !== undefined) return `ns:${m.namespace}`;
  if (m.zone !== undefined && !BUILTIN.has(m.zone)) return `zone:${m.zone}`;
  return undefined;
}

/** Name of an endpoint's domain without allocating (namespace, else named zone), or undefined. */
function domainName(m: EndpointMeta | undefined): string | undefined {
  if (m === undefined) return undefined;
  if (m.namespace !== undefined) return m.namespace;
  return m.zone !== undefined && !BUILTIN.has(m.zone) ? m.zone : undefined;
}

/** True when both ends have a trust domain and they differ (the same test as comparing {@link trustDomain}s, without building them). */
function crosses(a: EndpointMeta | undefined, b: EndpointMeta | undefined): boolean {
  const x = domainName(a);
  const y = domainName(b);
  if (x === undefined || y === undefined) return false;
  return x !== y || (a?.namespace === undefined) !== (b?.namespace === undefined);
}

function nameOf(addr: string, m: EndpointMeta | undefined): string {
  return m?.namespace !== undefined && m.workload !== undefined ? `${m.namespace}/${m.workload}` : addr;
}

interface NewPeer {
  peer: string;
  addr: string;
  port: number;
  protocol: number;
  from: string;
  to: string;
  at: number;
  allowedByPolicy?: boolean;
}

interface LateralState extends Episode {
  /** End of the learning period (ms of event time). */
  learnUntil: number;
  /** True once the entity crossed a boundary (it is then in the protected segment). */
  crossed: boolean;
  open: boolean;
  first: number;
  last: number;
  count: number;
  untimed: number;
  peers: NewPeer[];
  emitted: number;
  dirty: boolean;
  entity: FindingEntity | undefined;
}

/**
 * Create the lateral-movement detector (`lateral.newpeer`).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range; RangeError for a peerCapacity below 2.
 */
export function createLateralDetector(options: LateralOptions, deps: DetectorDeps & ClusterDeps = {}): WindowDetector {
  const o = checkLateralOptions(options);
  const limits = checkLimits(deps.limits, 1);
  const lateness = checkLateness(deps.lateness);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const allowed = deps.namespaceAllowed;
  const stats = newStats();
  const states = new BoundedKeys<LateralState>(limits.maxKeys);
  const seen = new RotatingBloom(deps.peerCapacity ?? LATERAL_PEER_CAPACITY);
  let highWater = -Infinity;

  const build = (key: string, s: LateralState): Finding => {
    const many = s.count >= o.manyPeers;
    const timed = s.untimed === 0;
    const list = s.peers.map((p) => `${p.peer}:${p.port} (${p.to.slice(p.to.indexOf(':') + 1)})`);
    const domains = [...new Set(s.peers.map((p) => p.to))];
    return {
      id: s.id,
      schema: 1,
      firstSeen: s.first,
      lastSeen: s.last,
      detector: LATERAL_ID,
      kind: 'detector',
      severity: many ? o.manySeverity : o.severity,
      score: Math.round((0.5 + 0.5 * Math.min(1, s.count / o.manyPeers)) * 1000) / 1000,
      entity: s.entity as FindingEntity,
      peers: [...new Set(s.peers.map((p) => p.addr))],
      summary: `${key} reached ${s.count} new peer(s) across a trust boundary after its learning period: ${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''}`,
      evidence: {
        flows: s.count,
        newPeers: s.count,
        distinctHosts: new Set(s.peers.map((p) => p.addr)).size,
        ports: [...new Set(s.peers.map((p) => p.port))].sort((a, b) => a - b),
        peerList: s.peers.map((p) => ({ ...p })),
        toDomains: domains,
        manyPeers: o.manyPeers,
        learnMs: o.learnMs,
        windowMs: o.windowMs,
        timesFromRecords: timed,
      },
      mitre: MITRE_REMOTE_SERVICES,
      producedBy,
    };
  };

  const episodes = new OpenEpisodes<LateralState>(lateness, (key, s) => {
    s.open = false;
    if (!s.dirty) return undefined;
    s.dirty = false;
    countFinding(stats, 'final');
    return build(key, s);
  });
  const emit = episodeEmitter(episodes, stats, build);

  /** An attempt to a port, not known to leave or come in: what lateral movement counts. */
  const eligible = (flow: FlowRecord): boolean => isAttemptEvent(flow) && flow.dstPort !== undefined && (flow.direction === undefined || flow.direction === 'internal');

  const follow = deps.gate === undefined ? undefined : new GateFollower(deps.gate);
  const observe = (flow: FlowRecord): Finding[] => {
    stats.flows++;
    const t = eventTime(flow);
    if (!Number.isFinite(t)) return NONE;
    let out = NONE;
    if (t > highWater) {
      highWater = t;
      out = episodes.advance(t, out);
    }
    const key = nameOf(flow.srcAddr, flow.srcMeta);
    if (follow !== undefined && key === flow.srcAddr) {
      // An address entity follows the scan detectors' gate (gate.ts GateFollower): one flow starts
      // a learning period and raises nothing, so its first record counts right before its next one,
      // at its own time. A workload entity (several addresses) does not: the gate is keyed by address.
      if (!follow.admit(flow, false)) return out;
      const b = follow.before;
      if (b !== undefined) {
        const tb = eventTime(b);
        if (Number.isFinite(tb) && eligible(b) && nameOf(b.srcAddr, b.srcMeta) === b.srcAddr) out = count(b, b.srcAddr, tb, out);
      }
    }
    if (!eligible(flow)) return out;
    return count(flow, key, t, out);
  };

  /** Count the attempt `flow` of entity `key` at `t`. */
  const count = (flow: FlowRecord, key: string, t: number, out: Finding[]): Finding[] => {
    let s = states.touch(key);
    if (s === undefined) {
      s = {
        id: '',
        end: 0,
        learnUntil: t + o.learnMs,
        crossed: false,
        open: false,
        first: t,
        last: t,
        count: 0,
        untimed: 0,
        peers: NO_PEERS,
        emitted: 0,
        dirty: false,
        entity: undefined,
      };
      const ev = states.add(detach(key), s);
      if (ev !== undefined) {
        stats.evictedKeys++;
        if (ev.value.open) out = episodes.closeKey(ev.key, out);
      }
    }
    if (!crosses(flow.srcMeta, flow.dstMeta)) return out;
    // An entity that crosses a boundary has learnt peers worth keeping: protected from eviction.
    if (!s.crossed) {
      s.crossed = true;
      states.promote(key);
    }
    const peer = nameOf(flow.dstAddr, flow.dstMeta);
    const known = seen.testAndAdd(`${key}>${peer}>${flow.protocol}/${flow.dstPort}`);
    if (t < s.learnUntil || known) return out;
    stats.attempts++;
    if (s.open && t >= s.end) out = episodes.closeKey(key, out);
    const from = trustDomain(flow.srcMeta) as string;
    const to = trustDomain(flow.dstMeta) as string;
    const np: NewPeer = { peer, addr: flow.dstAddr, port: flow.dstPort as number, protocol: flow.protocol, from, to, at: t };
    if (allowed !== undefined && from.startsWith('ns:') && to.startsWith('ns:')) np.allowedByPolicy = allowed(from.slice(3), to.slice(3));
    if (!s.open) {
      s.id = findingId(LATERAL_ID, key, t);
      s.end = t + o.windowMs;
      s.first = t;
      s.last = t;
      s.count = 0;
      s.untimed = 0;
      s.peers = [];
      s.emitted = 0;
      s.dirty = false;
      s.entity = entityOf(flow);
    }
    s.count++;
    if (!hasOwnTime(flow)) s.untimed++;
    if (t < s.first) s.first = t;
    if (t > s.last) s.last = t;
    if (s.peers.length < PEERS_KEPT) s.peers.push(np);
    if (!s.open) {
      s.open = true;
      s.emitted = 1;
      out = emit.raise(key, s, out);
    } else if (s.count === o.manyPeers || (s.count > o.manyPeers && s.count >= 2 * s.emitted)) {
      s.emitted = s.count;
      out = emit.update(key, s, out);
    } else s.dirty = true;
    return out;
  };

  return episodeDetector(LATERAL_ID, observe, episodes, stats, () => ({ keys: states.size }), deps.metrics);
}
