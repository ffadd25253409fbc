/**
 * `dns.volume`: a source's DNS volume far above its own baseline, above an absolute rate, or
 * spread over many resolvers — hints of DNS tunnelling (MITRE ATT&CK T1071.004) and of
 * domain-generation algorithms (T1568.002: many lookups of generated names, most failing).
 *
 * What counts: DNS flows as {@link isDnsFlow} (udp/tcp 53, 853) from a source that is not a named
 * resolver (`detectors.dns.resolvers`; the cluster DNS forwarding for everyone would dominate) and
 * not from outside the cluster. Queries are counted as connections, each once (connection
 * identity): a stub resolver opens one conntrack entry per query socket, so a glibc lookup of A and
 * AAAA over one socket counts once, and tunnels that open a socket per query count every query.
 *
 * Windows: tumbling, `windowMs`, aligned to multiples of it since the epoch, per source address.
 * A window RAISES a finding when its queries reach `maxQueries`, or, once the source has
 * `learnWindows` windows of baseline, `max(minQueries, mean + sigmas * sd)` (EWMA,
 * {@link ewmaThreshold}); or when it asked `maxResolvers` distinct resolvers. Updated (same id) when
 * the count doubles, final when the window closes. Windows with a finding stay out of the baseline.
 * State: one entry per source (`limits.maxKeys`, BoundedKeys; sources with a learnt baseline are
 * promoted to the protected segment). O(1) per record.
 */
import type { Finding, FlowRecord } from '@floe/flow';
import { CONNECTION_MEMORY_MS, eventTime, hasOwnTime, isAttemptEvent } from './attempt.js';
import { CountedOnce } from './once.js';
import { ewmaThreshold, ewmaUpdate, newEwma, type Ewma } from './baseline.js';
import { MITRE_DNS, fromInside, isDnsFlow, resolverSet } from './dns-resolver.js';
import { BoundedKeys } from './keyed.js';
import { entityOf } from './entity.js';
import { NONE, OpenEpisodes, countFinding, episodeDetector, episodeEmitter, newStats, type Episode } from './episodes.js';
import { DEFAULT_PRODUCED_BY, compareAddr, findingId } from './finding.js';
import { checkLateness, checkLimits } from './options.js';
import { checkDnsOptions, type DnsOptions } from './rule-options.js';
import type { DetectorDeps, WindowDetector } from './portscan.js';

/** Detector id of the DNS volume detector. */
export const DNS_VOLUME_ID = 'dns.volume';

/** MITRE ATT&CK "Dynamic Resolution: Domain Generation Algorithms" (https://attack.mitre.org/techniques/T1568/002/), listed in evidence beside T1071.004. */
export const MITRE_DGA = 'T1568.002';

/** Distinct resolvers remembered per window (beyond, the count saturates). */
const RESOLVERS_TRACKED = 64;

interface VolumeState extends Episode {
  winStart: number;
  queries: number;
  untimed: number;
  first: number;
  last: number;
  resolvers: Set<string>;
  /** Queries that raise a finding in this window: `maxQueries`, or less once the baseline is learnt (fixed at the window's start). */
  threshold: number;
  baseline: Ewma;
  /** Queries when last emitted; 0 while none was raised in this window. */
  emitted: number;
  dirty: boolean;
  open: boolean;
  ref: FlowRecord | undefined;
}

/**
 * Create the DNS volume detector (`dns.volume`).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createDnsVolumeDetector(options: DnsOptions, deps: DetectorDeps = {}): WindowDetector {
  const o = checkDnsOptions(options);
  const limits = checkLimits(deps.limits, 1);
  const lateness = checkLateness(deps.lateness);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const named = resolverSet(o.resolvers);
  const W = o.windowMs;
  const stats = newStats();
  const states = new BoundedKeys<VolumeState>(limits.maxKeys);
  const seen = new CountedOnce(Math.max(W, CONNECTION_MEMORY_MS), limits.maxConnections);
  let highWater = -Infinity;

  const thresholdOf = (b: Ewma): number => Math.min(o.maxQueries, b.n >= o.learnWindows ? ewmaThreshold(b, o.minQueries, o.sigmas, o.learnWindows) : Infinity);

  const build = (key: string, s: VolumeState): Finding => {
    const sd = Math.sqrt(Math.max(0, s.baseline.variance));
    const learnt = s.baseline.n >= o.learnWindows;
    const byRate = s.queries >= s.threshold;
    const byResolvers = s.resolvers.size >= o.maxResolvers;
    const resolvers = [...s.resolvers].sort(compareAddr);
    const reasons: string[] = [];
    if (byRate)
      reasons.push(
        s.threshold >= o.maxQueries
          ? `at or above the absolute ${o.maxQueries}`
          : `above its baseline ${s.baseline.mean.toFixed(1)} ± ${sd.toFixed(1)} over ${s.baseline.n} windows (threshold ${Math.ceil(s.threshold)})`,
      );
    if (byResolvers) reasons.push(`${s.resolvers.size} distinct resolvers (threshold ${o.maxResolvers})`);
    const timed = s.untimed === 0;
    return {
      id: s.id,
      schema: 1,
      firstSeen: s.first,
      lastSeen: s.last,
      detector: DNS_VOLUME_ID,
      kind: 'detector',
      severity: o.volumeSeverity,
      score: Math.round((1 - 0.5 * Math.min(1, Math.min(s.threshold, o.maxQueries) / Math.max(1, s.queries))) * 1000) / 1000,
      entity: entityOf(s.ref as FlowRecord),
      peers: resolvers.slice(0, 50),
      summary: `${key} made ${s.queries} DNS queries in a ${W / 1000} s window: ${reasons.join('; ')}`,
      evidence: {
        flows: s.queries,
        queries: s.queries,
        distinctHosts: s.resolvers.size,
        resolvers: resolvers.slice(0, 50),
        threshold: Number.isFinite(s.threshold) ? Math.ceil(s.threshold) : o.maxQueries,
        maxQueries: o.maxQueries,
        maxResolvers: o.maxResolvers,
        baselineMean: Math.round(s.baseline.mean * 10) / 10,
        baselineSd: Math.round(sd * 10) / 10,
        baselineWindows: s.baseline.n,
        baselineLearnt: learnt,
        reasons: [...(byRate ? ['rate'] : []), ...(byResolvers ? ['resolvers'] : [])],
        techniques: [MITRE_DNS, MITRE_DGA],
        windowStart: s.winStart,
        windowMs: W,
        timesFromRecords: timed,
      },
      mitre: MITRE_DNS,
      producedBy,
    };
  };

  const episodes = new OpenEpisodes<VolumeState>(lateness, (key, s) => {
    s.open = false;
    if (!s.dirty) return undefined;
    s.dirty = false;
    countFinding(stats, 'final');
    return build(key, s);
  });
  const emit = episodeEmitter(episodes, stats, build);

  const startWindow = (s: VolumeState, ws: number, t: number): void => {
    s.winStart = ws;
    s.end = ws + W;
    s.queries = 0;
    s.untimed = 0;
    s.first = t;
    s.last = t;
    s.resolvers.clear();
    s.threshold = thresholdOf(s.baseline);
    s.emitted = 0;
    s.dirty = false;
    s.open = false;
    s.ref = undefined;
  };

  const observe = (flow: FlowRecord): Finding[] => {
    stats.flows++;
    const t = eventTime(flow);
    if (!Number.isFinite(t)) return NONE;
    let out = NONE;
    if (t > highWater) {
      highWater = t;
      out = episodes.advance(t, out);
    }
    if (!isAttemptEvent(flow) || !isDnsFlow(flow) || !fromInside(flow) || named.has(flow.srcAddr)) return out;
    if (!seen.first(flow, t)) return out;
    stats.attempts++;
    const key = flow.srcAddr;
    const ws = Math.floor(t / W) * W;
    let s = states.touch(key);
    if (s === undefined) {
      s = { id: '', end: 0, baseline: newEwma(), resolvers: new Set() } as VolumeState;
      startWindow(s, ws, t);
      const ev = states.add(key, s);
      if (ev !== undefined) {
        stats.evictedKeys++;
        if (ev.value.open) out = episodes.closeKey(ev.key, out);
      }
    } else if (ws > s.winStart) {
      if (s.open) out = episodes.closeKey(key, out);
      else if (s.emitted === 0 && s.queries > 0) ewmaUpdate(s.baseline, s.queries, o.alpha);
      if (s.baseline.n >= o.learnWindows) states.promote(key);
      startWindow(s, ws, t);
    } else if (ws < s.winStart) {
      stats.lateFlows++;
      return out;
    }
    s.queries++;
    if (!hasOwnTime(flow)) s.untimed++;
    if (t < s.first) s.first = t;
    if (t > s.last) s.last = t;
    s.ref ??= flow;
    if (s.resolvers.size < RESOLVERS_TRACKED) s.resolvers.add(flow.dstAddr);
    if (s.emitted === 0) {
      if (s.queries >= s.threshold || s.resolvers.size >= o.maxResolvers) {
        s.id = findingId(DNS_VOLUME_ID, key, s.winStart);
        s.emitted = s.queries;
        s.open = true;
        states.promote(key);
        out = emit.raise(key, s, out);
      }
    } else if (s.open) {
      if (s.queries >= 2 * s.emitted) {
        s.emitted = s.queries;
        out = emit.update(key, s, out);
      } else s.dirty = true;
    }
    return out;
  };

  return episodeDetector(DNS_VOLUME_ID, observe, episodes, stats, () => ({ keys: states.size, evictedConnections: seen.evicted }), deps.metrics);
}
