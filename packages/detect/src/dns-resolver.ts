/**
 * `dns.resolver`: DNS to a resolver the policy does not name (MITRE ATT&CK T1071.004, Application
 * Layer Protocol: DNS — a pod asking its own resolver bypasses the cluster's DNS logging and
 * filtering, and DNS tunnels and C2 often bring their own).
 *
 * DNS here: udp or tcp to port 53, or port 853 (DNS over TLS on tcp, DNS over QUIC on udp). A flow
 * counts when its source is not itself a named resolver (the cluster DNS forwards upstream), its
 * destination is not one, and it does not come from outside (direction `ingress`/`external`: that
 * is someone asking our servers). Each connection counts once (connection identity, as the scan
 * detectors). Off when `detectors.dns.resolvers` is empty: with nothing named, every resolver
 * would be "unnamed".
 *
 * One finding per source per {@link RESOLVER_EPISODE_MS} from its first such query: raised at
 * once, updated (same id) when the number of unnamed resolvers it asked doubles, final when the
 * hour ends. State: one entry per source with an open finding (`limits.maxKeys`, BoundedKeys,
 * promoted at once: a source with a finding is past its threshold).
 */
import { PROTO, type Finding, type FlowRecord } from '@floe/flow';
import { CidrSet } from '@floe/policy';
import { CONNECTION_MEMORY_MS, eventTime, hasOwnTime, isAttemptEvent } from './attempt.js';
import { CountedOnce } from './once.js';
import { BoundedKeys } from './keyed.js';
import { entityOf } from './entity.js';
import { NONE, OpenEpisodes, countFinding, episodeDetector, episodeEmitter, newStats, type Episode } from './episodes.js';
import { DEFAULT_PRODUCED_BY, compareAddr, findingId } from './finding.js';
import { checkLateness, checkLimits } from './options.js';
import { checkDnsOptions, type DnsOptions } from './rule-options.js';
import type { DetectorDeps, WindowDetector } from './portscan.js';

/** Detector id of the unnamed-resolver detector. */
export const DNS_RESOLVER_ID = 'dns.resolver';

/** MITRE ATT&CK "Application Layer Protocol: DNS" (https://attack.mitre.org/techniques/T1071/004/). */
export const MITRE_DNS = 'T1071.004';

/** One finding per source per hour (ms): a floe choice, so a source stuck on its own resolver is one finding an hour, not one a query. */
export const RESOLVER_EPISODE_MS = 3_600_000;

/** Resolvers listed in a finding's evidence, at most. */
const RESOLVERS_KEPT = 50;

/** True for DNS: udp/tcp to port 53, or 853 (DNS over TLS / over QUIC). */
export function isDnsFlow(flow: FlowRecord): boolean {
  if (flow.protocol !== PROTO.udp && flow.protocol !== PROTO.tcp) return false;
  return flow.dstPort === 53 || flow.dstPort === 853;
}

/** True when the flow's source is inside or unknown (not `ingress`/`external`: outsiders asking our servers). */
export function fromInside(flow: FlowRecord): boolean {
  return flow.direction !== 'ingress' && flow.direction !== 'external';
}

/** A named-resolver matcher from CIDR texts (checked by {@link checkDnsOptions}). */
export function resolverSet(cidrs: readonly string[]): CidrSet {
  const s = new CidrSet();
  for (const c of cidrs) s.add(c);
  return s;
}

interface ResolverUse {
  queries: number;
  /** `udp/53`, `tcp/853`... with their counts. */
  services: Map<string, number>;
}

interface ResolverState extends Episode {
  first: number;
  last: number;
  queries: number;
  untimed: number;
  resolvers: Map<string, ResolverUse>;
  /** Distinct resolvers when last emitted. */
  emitted: number;
  dirty: boolean;
  ref: FlowRecord;
}

/**
 * Create the unnamed-resolver detector (`dns.resolver`). Callers skip it when
 * `options.resolvers` is empty (see `createDetectors`); created anyway, it never raises.
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createDnsResolverDetector(options: DnsOptions, deps: DetectorDeps = {}): WindowDetector {
  const o = checkDnsOptions(options);
  const limits = checkLimits(deps.limits, 1);
  const lateness = checkLateness(deps.lateness);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const named = resolverSet(o.resolvers);
  const stats = newStats();
  const states = new BoundedKeys<ResolverState>(limits.maxKeys);
  const seen = new CountedOnce(CONNECTION_MEMORY_MS, limits.maxConnections);
  let highWater = -Infinity;

  const build = (key: string, s: ResolverState): Finding => {
    const list = [...s.resolvers].sort((a, b) => compareAddr(a[0], b[0])).slice(0, RESOLVERS_KEPT);
    const what = list.map(([addr, u]) => `${addr} (${[...u.services].map(([svc, n]) => `${svc} ×${n}`).join(', ')})`).join(', ');
    const timed = s.untimed === 0;
    return {
      id: s.id,
      schema: 1,
      firstSeen: s.first,
      lastSeen: s.last,
      detector: DNS_RESOLVER_ID,
      kind: 'detector',
      severity: o.resolverSeverity,
      score: 1,
      entity: entityOf(s.ref),
      peers: list.map((r) => r[0]),
      summary: `${key} sent ${s.queries} DNS quer${s.queries === 1 ? 'y' : 'ies'} to ${s.resolvers.size} resolver(s) the policy does not name: ${what}`,
      evidence: {
        flows: s.queries,
        distinctHosts: s.resolvers.size,
        resolvers: list.map(([addr, u]) => ({ addr, queries: u.queries, services: Object.fromEntries(u.services) })),
        namedResolvers: [...o.resolvers],
        dnsOverTls: list.some(([, u]) => u.services.has('tcp/853')),
        windowMs: RESOLVER_EPISODE_MS,
        timesFromRecords: timed,
      },
      mitre: MITRE_DNS,
      producedBy,
    };
  };

  const episodes = new OpenEpisodes<ResolverState>(lateness, (key, s) => {
    states.delete(key);
    if (!s.dirty) return undefined;
    countFinding(stats, 'final');
    return build(key, s);
  });
  const emit = episodeEmitter(episodes, stats, build);

  const observe = (flow: FlowRecord): Finding[] => {
    stats.flows++;
    const t = eventTime(flow);
    if (!Number.isFinite(t)) return NONE;
    let out = NONE;
    if (t > highWater) {
      highWater = t;
      out = episodes.advance(t, out);
    }
    if (named.size === 0 || !isAttemptEvent(flow) || !isDnsFlow(flow) || !fromInside(flow)) return out;
    if (named.has(flow.dstAddr) || named.has(flow.srcAddr)) return out;
    if (!seen.first(flow, t)) return out;
    stats.attempts++;
    const key = flow.srcAddr;
    let s = states.touch(key);
    if (s !== undefined && t >= s.end) {
      out = episodes.closeKey(key, out);
      s = undefined;
    }
    const svc = `${flow.protocol === PROTO.tcp ? 'tcp' : 'udp'}/${flow.dstPort}`;
    if (s === undefined) {
      s = {
        id: findingId(DNS_RESOLVER_ID, key, t),
        end: t + RESOLVER_EPISODE_MS,
        first: t,
        last: t,
        queries: 0,
        untimed: 0,
        resolvers: new Map(),
        emitted: 0,
        dirty: false,
        ref: flow,
      };
      const ev = states.set(key, s);
      states.promote(key);
      if (ev !== undefined) {
        stats.evictedKeys++;
        out = episodes.closeKey(ev.key, out);
      }
    } else if (t < s.first - RESOLVER_EPISODE_MS) {
      stats.lateFlows++;
      return out;
    }
    s.queries++;
    if (!hasOwnTime(flow)) s.untimed++;
    if (t < s.first) s.first = t;
    if (t > s.last) s.last = t;
    let u = s.resolvers.get(flow.dstAddr);
    if (u === undefined) {
      u = { queries: 0, services: new Map() };
      if (s.resolvers.size < 4 * RESOLVERS_KEPT) s.resolvers.set(flow.dstAddr, u);
    }
    u.queries++;
    u.services.set(svc, (u.services.get(svc) ?? 0) + 1);
    if (s.emitted === 0) {
      s.emitted = s.resolvers.size;
      out = emit.raise(key, s, out);
    } else if (s.resolvers.size >= 2 * s.emitted) {
      s.emitted = s.resolvers.size;
      out = emit.update(key, s, out);
    } else s.dirty = true;
    return out;
  };

  return episodeDetector(DNS_RESOLVER_ID, observe, episodes, stats, () => ({ keys: states.size, evictedConnections: seen.evicted }), deps.metrics);
}
